// Shared fixtures for the effect-journal tests: a real LMDB in a fresh temp dir that
// can be reopened (a restart), raw access to the journal's sub-databases (an intruder
// with file access), and a call that never returns (a process that dies mid-call).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { VirtualClock } from '../../../src/base/clock.js';
import { EFFECT_DBS, EffectJournal, type Durability } from '../../../src/kernel/effects/index.js';

export interface TempJournal {
  dir: string;
  db: RootDatabase;
  clock: VirtualClock;
  journal: EffectJournal;
  /** Close LMDB and open it again with a fresh journal: what a restarted process sees. */
  restart(durability?: Durability): Promise<EffectJournal>;
  raw(): Raw;
  close(): Promise<void>;
}

export interface Raw {
  entries: Database<Buffer, [string, number]>;
  keys: Database<Buffer, string>;
  open: Database<Buffer, string>;
  actors: Database<Buffer, string>;
}

export function tempJournal(durability: Durability = 'sync', prefix = 'agentos-effects-'): TempJournal {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const clock = new VirtualClock(1_000);
  const db = open({ path: path.join(dir, 'db') });
  const t: TempJournal = {
    dir,
    db,
    clock,
    journal: EffectJournal.open({ db, clock, durability }),
    async restart(d = durability) {
      await t.db.close();
      t.db = open({ path: path.join(dir, 'db') });
      t.journal = EffectJournal.open({ db: t.db, clock, durability: d });
      return t.journal;
    },
    raw: () => rawDbs(t.db),
    async close() {
      await t.db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

export function rawDbs(db: RootDatabase): Raw {
  const sub = <K extends string | [string, number]>(name: string): Database<Buffer, K> => db.openDB<Buffer, K>({ name, encoding: 'binary' });
  return { entries: sub(EFFECT_DBS.entries), keys: sub(EFFECT_DBS.keys), open: sub(EFFECT_DBS.open), actors: sub(EFFECT_DBS.actors) };
}

/** A call that starts and never finishes: the journal sees `dispatched` and nothing after, as if the process died. */
export function dieMidCall(onStart?: () => void): () => Promise<never> {
  return () => {
    onStart?.();
    return new Promise<never>(() => undefined);
  };
}

/** Resolves once the journal has written `dispatched` and started the call (the call signals it). */
export function started(): { signal: () => void; wait: Promise<void> } {
  let signal!: () => void;
  const wait = new Promise<void>((resolve) => (signal = resolve));
  return { signal, wait };
}
