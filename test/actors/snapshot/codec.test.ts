import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { assign, createActor, setup, spawnChild } from 'xstate';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/base/clock.js';
import { StorageError } from '../../../src/base/errors.js';
import {
  captureSnapshot,
  decodeSnapshot,
  encodeSnapshot,
  readSnapshotHeader,
  trackDelays,
  type ActorSnapshot,
} from '../../../src/actors/snapshot/index.js';

const v1 = { name: 'counter', version: '1' };
const v2 = { name: 'counter', version: '2' };

const child = setup({}).createMachine({ id: 'child', context: { n: 0 }, initial: 'a', states: { a: { after: { 40: 'b' } }, b: {} } });
const counter = setup({ actors: { child } }).createMachine({
  id: 'counter',
  context: { count: 0, tags: new Set(['x']), at: new Date(5), blob: new Uint8Array([1, 2]), big: 2n ** 70n, none: undefined },
  entry: spawnChild('child', { id: 'c', systemId: 'c' }),
  on: { inc: { actions: assign({ count: ({ context }) => context.count + 1 }) } },
});

function sample(): ActorSnapshot {
  const clock = new VirtualClock(10);
  const actor = createActor(counter, { clock });
  trackDelays(actor, clock);
  actor.start();
  actor.send({ type: 'inc' });
  const snapshot = captureSnapshot(actor, { definition: v1, extra: { rng: 123456789, tokens: { in: 10, out: 3 } } });
  actor.stop();
  return snapshot;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    return (err as StorageError).code;
  }
  return undefined;
}

/** Rebuild a record around an arbitrary body with a valid header and checksum (a buggy or hostile writer). */
function forge(body: unknown): Buffer {
  const real = encodeSnapshot(sample());
  const { headerLength } = readSnapshotHeader(real);
  const header = Buffer.from(real.subarray(0, headerLength));
  const bytes = new Packr({ useRecords: false, moreTypes: true }).pack(body);
  header.writeUInt32BE(bytes.length, 8);
  const digest = createHash('sha256').update(header.subarray(0, 12)).update(header.subarray(44)).update(bytes).digest();
  digest.copy(header, 12);
  return Buffer.concat([header, bytes]);
}

describe('snapshot records', () => {
  it('round-trip: decode(encode(s)) equals s, sets, dates, bytes, bigints and undefined included', () => {
    const s = sample();
    const back = decodeSnapshot(encodeSnapshot(s), { definition: v1 });
    expect(back).toEqual(s);
    expect((back.xstate.context as { tags: unknown }).tags).toBeInstanceOf(Set);
    expect((back.xstate.context as { big: unknown }).big).toBe(2n ** 70n);
    expect(back.timers).toHaveLength(1);
    expect(back.extra).toEqual({ rng: 123456789, tokens: { in: 10, out: 3 } });
  });

  it('the header names format, definition and body length without decoding the body', () => {
    const bytes = encodeSnapshot(sample());
    const header = readSnapshotHeader(bytes);
    expect(header).toMatchObject({ format: 1, definition: v1 });
    expect(header.headerLength + header.bodyLength).toBe(bytes.length);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('AOSN');
  });

  it('a record truncated at any length is refused as SNAPSHOT_CORRUPT', () => {
    const bytes = encodeSnapshot(sample());
    for (let n = 0; n < bytes.length; n++) {
      expect(codeOf(() => decodeSnapshot(bytes.subarray(0, n)))).toBe('SNAPSHOT_CORRUPT');
    }
  });

  it('any single corrupted byte is detected: never decoded, never restored', () => {
    const bytes = encodeSnapshot(sample());
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Buffer.from(bytes);
        bad[at] ^= xor;
        const code = codeOf(() => decodeSnapshot(bad, { definition: v1 }));
        // A flip inside the format field reads as an unknown format: refused as incompatible.
        expect(code).toBe(at === 4 || at === 5 ? 'SNAPSHOT_INCOMPATIBLE' : 'SNAPSHOT_CORRUPT');
      }),
      { numRuns: 500 },
    );
  });

  it('trailing bytes and foreign bytes are refused with a reason', () => {
    const bytes = encodeSnapshot(sample());
    expect(() => decodeSnapshot(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', details: { reason: 'length' } }),
    );
    expect(() => decodeSnapshot(Buffer.from(JSON.stringify(sample(), (_k, v) => (typeof v === 'bigint' ? 0 : v))))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', details: { reason: 'magic' } }),
    );
  });

  it('a body with a valid checksum that is not a snapshot is refused, naming the field', () => {
    expect(() => decodeSnapshot(forge({ hello: 'world' }))).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', field: 'format' }));
    const s = sample();
    expect(() => decodeSnapshot(forge({ ...s, timers: [{ ...s.timers[0], dueAt: 'soon' }] }))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', field: 'timers[0]' }),
    );
    expect(() => decodeSnapshot(forge({ ...s, definition: v2 }))).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_CORRUPT', details: { reason: 'header' } }),
    );
  });

  it('a snapshot of another definition is SNAPSHOT_INCOMPATIBLE', () => {
    const bytes = encodeSnapshot(sample());
    expect(() => decodeSnapshot(bytes, { definition: { name: 'other', version: '1' } })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INCOMPATIBLE', field: 'definition.name' }),
    );
  });

  it('another version without a migration is SNAPSHOT_INCOMPATIBLE', () => {
    expect(() => decodeSnapshot(encodeSnapshot(sample()), { definition: v2 })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INCOMPATIBLE', field: 'definition.version', message: expect.stringMatching(/version 1 cannot restore version 2/) }),
    );
  });

  it('another version goes through migrate(snapshot, fromVersion), and comes out stamped with the current version', () => {
    const seen: string[] = [];
    const migrated = decodeSnapshot(encodeSnapshot(sample()), {
      definition: v2,
      migrate: (s, from) => {
        seen.push(from);
        const context = s.xstate.context as { count: number };
        return { ...s, xstate: { ...s.xstate, context: { ...context, total: context.count } } };
      },
    });
    expect(seen).toEqual(['1']);
    expect(migrated.definition).toEqual(v2);
    expect(migrated.xstate.context).toMatchObject({ count: 1, total: 1 });
  });

  it('a migration that has no path, throws, or returns garbage makes the snapshot SNAPSHOT_INCOMPATIBLE', () => {
    const bytes = encodeSnapshot(sample());
    expect(codeOf(() => decodeSnapshot(bytes, { definition: v2, migrate: () => undefined }))).toBe('SNAPSHOT_INCOMPATIBLE');
    const boom = new Error('no field total');
    expect(() =>
      decodeSnapshot(bytes, {
        definition: v2,
        migrate: () => {
          throw boom;
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'SNAPSHOT_INCOMPATIBLE', cause: boom }));
    expect(() => decodeSnapshot(bytes, { definition: v2, migrate: (s) => ({ ...s, timers: 'later' }) as never })).toThrow(
      expect.objectContaining({ code: 'SNAPSHOT_INCOMPATIBLE', field: 'timers' }),
    );
  });

  it('encode refuses what is not a snapshot, and functions smuggled into extra', () => {
    expect(codeOf(() => encodeSnapshot({ format: 1 } as never))).toBe('SNAPSHOT_UNCAPTURABLE');
    const s = sample();
    expect(codeOf(() => encodeSnapshot({ ...s, extra: { f: () => 1 } }))).toBe('SNAPSHOT_UNCAPTURABLE');
  });

  it('capture checks the definition it is given', () => {
    const clock = new VirtualClock(0);
    const actor = createActor(counter, { clock });
    trackDelays(actor, clock);
    actor.start();
    expect(() => captureSnapshot(actor, { definition: { name: '', version: '1' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'definition' }),
    );
  });
});
