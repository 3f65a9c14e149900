// Raising the calling thread's scheduling priority, for the HRT lane (and the
// bench's helper threads): SCHED_FIFO where the OS allows it, else the highest
// nice it may take, else nothing — and say which. Linux only (/proc/thread-self
// names the thread). SCHED_FIFO takes a `chrt` child process: its fork copies
// the page tables of the whole process and stalls every thread meanwhile, so
// take priorities before real-time work starts (HrtLanes starts all lanes at once).

import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { LanePriority } from './lane-protocol.js';

/** SCHED_FIFO `fifoPriority` for this thread where allowed (root or CAP_SYS_NICE, `chrt` present), else the highest nice it may take. */
export function raiseThreadPriority(fifoPriority = 50): LanePriority {
  let tid: string;
  try {
    tid = readlinkSync('/proc/thread-self').split('/').pop()!;
  } catch {
    return { policy: 'none', detail: 'no /proc/thread-self (not Linux)' };
  }
  try {
    execFileSync('chrt', ['-f', '-p', String(fifoPriority), tid], { stdio: 'ignore' });
    return { policy: 'fifo', detail: `SCHED_FIFO ${fifoPriority} for thread ${tid}` };
  } catch {
    // not permitted (no CAP_SYS_NICE) or no chrt: try nice
  }
  for (const n of [-20, -10, -5]) {
    try {
      setPriority(Number(tid), n); // setpriority(2) on a thread id: this thread only, no child process
      return { policy: 'nice', detail: `nice ${n} for thread ${tid}` };
    } catch {
      // not permitted at this level
    }
  }
  return { policy: 'none', detail: `thread ${tid}: SCHED_FIFO and negative nice not permitted` };
}

/** Pin this thread to one CPU (Linux, `taskset`); false where not possible. */
export function pinThreadToCpu(cpu: number): boolean {
  try {
    const tid = readlinkSync('/proc/thread-self').split('/').pop()!;
    execFileSync('taskset', ['-p', '-c', String(cpu), tid], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
