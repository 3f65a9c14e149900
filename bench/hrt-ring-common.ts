// What both threads of the hrt ring bench share: the message, its fixed layout and its
// declared msgpack shape, and the commands the main thread sends the worker (control only:
// the measured messages cross through the ring, or through a MessageChannel for the baseline).

import type { MessagePort } from 'node:worker_threads';

/** One tick: its sequence number and when main sent it (main's performance.now(), ms). */
export const TICK_SCHEMA = { tick: { seq: 'u32', at: 'f64' } } as const;
export const TICK_STRUCTURES = [['type', 'seq', 'at']];
export interface Tick {
  type: 'tick';
  seq: number;
  at: number;
}

export type Codec = 'layout' | 'msgpack';

export type HrtCommand =
  /** Record one-way latency of `n` ticks from the ring; the worker polls (spin) or sleeps in Atomics.wait. */
  | { op: 'latency-ring'; sab: SharedArrayBuffer; n: number; spin: boolean; offset: number }
  | { op: 'latency-port'; port: MessagePort; n: number; offset: number }
  /** Receive `n` ticks as fast as they come; reply with when the last one arrived (main's timeline). */
  | { op: 'throughput-ring'; sab: SharedArrayBuffer; n: number; codec: Codec; offset: number }
  | { op: 'throughput-port'; port: MessagePort; n: number; offset: number };

export type HrtReply = { ready: true } | { latencies: Float64Array } | { end: number; bad: number } | { origin: number } | { error: string };
