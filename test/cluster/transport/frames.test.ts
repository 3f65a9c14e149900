// The wire format: control frames round-trip and are checked against their
// schema; batch frames round-trip through the per-socket record codec across
// many frames and shapes (more than the 64 record ids, so ids are recycled);
// a failed encode resets the table on both ends; and no byte string makes a
// decoder throw anything but a typed CLUSTER_FRAME_INVALID.

import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ClusterCodes, ClusterError } from '../../../src/cluster/errors.js';
import { BatchDecoder, BatchEncoder, type Envelope } from '../../../src/cluster/transport/codec.js';
import { decodeControl, encodeControl, FrameKind, type ControlFrame } from '../../../src/cluster/transport/frames.js';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nodeId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/);
const inc = fc.stringMatching(/^[0-9a-f]{32}$/);
const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const controlArb: fc.Arbitrary<ControlFrame> = fc.oneof(
  fc.record({ kind: fc.constant('hello' as const), v: fc.integer({ min: 0, max: 9 }), node: nodeId, inc, nonce: bytes32 }),
  fc.record({ kind: fc.constant('challenge' as const), v: fc.integer({ min: 0, max: 9 }), node: nodeId, inc, nonce: bytes32, proof: bytes32 }),
  fc.record({ kind: fc.constant('response' as const), proof: bytes32, recv: seq, base: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
  fc.record({ kind: fc.constant('welcome' as const), recv: seq, base: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
  fc.record({ kind: fc.constant('ack' as const), ack: seq }),
  fc.record({ kind: fc.constant('ping' as const), t: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
  fc.record({ kind: fc.constant('pong' as const), t: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
  fc.record({ kind: fc.constant('bye' as const), reason: fc.string({ maxLength: 200 }) }),
);

/** Bytes compare as plain arrays (decoded binaries are Buffers). */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array || x?.type === 'Buffer' ? [...(x.data ?? x)] : x)));

describe('control frames', () => {
  it('property: every control frame round-trips through encode and decode', () => {
    fc.assert(
      fc.property(controlArb, (f) => {
        expect(plain(decodeControl(encodeControl(f)))).toEqual(plain(f));
      }),
      { numRuns: 400 },
    );
  });

  it('rejects schema violations with CLUSTER_FRAME_INVALID naming the field', () => {
    const raw = (kind: number, body: unknown): Buffer => Buffer.concat([Buffer.from([kind]), new Packr({ useRecords: false }).pack(body)]);
    const cases: Array<[Buffer, RegExp]> = [
      [raw(FrameKind.hello, { v: 1, node: 'a', inc: 'f'.repeat(32), nonce: Buffer.alloc(8) }), /nonce/],
      [raw(FrameKind.hello, { v: 1, node: 'a', inc: 'f'.repeat(32), nonce: Buffer.alloc(32), extra: 1 }), /hello/],
      [raw(FrameKind.hello, { v: 1, node: '../etc', inc: 'f'.repeat(32), nonce: Buffer.alloc(32) }), /node/],
      [raw(FrameKind.ack, { ack: -1 }), /ack/],
      [raw(FrameKind.ack, { ack: 1.5 }), /ack/],
      [raw(FrameKind.welcome, { recv: 0, base: 0 }), /base/],
      [raw(FrameKind.bye, 'not a map'), /bye/],
      [Buffer.from([0x7f, 1, 2]), /control frame/],
      [Buffer.from([FrameKind.ping, 0xc1]), /ping/],
    ];
    for (const [frame, message] of cases) {
      const err = (() => {
        try {
          decodeControl(frame);
        } catch (e) {
          return e;
        }
      })() as ClusterError;
      expect(err, message.source).toBeInstanceOf(ClusterError);
      expect(err.code).toBe(ClusterCodes.frameInvalid);
      expect(err.message).toMatch(message);
    }
  });
});

// Envelopes drawn from a few hundred shapes, so a stream reuses record ids and also outgrows the 64 of them.
const shapeKeys = (shape: number): string[] => ['id', 'type', `k${shape}`, ...(shape % 3 === 0 ? ['extra'] : [])];
// (-0 is not kept: msgpack writes it as the integer 0.)
const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true }).map((x) => (x === 0 ? 0 : x)), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
const envelopeArb: fc.Arbitrary<Envelope> = fc
  .tuple(fc.integer({ min: 0, max: 300 }), fc.array(value, { minLength: 4, maxLength: 4 }), fc.option(fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 3 })))
  .map(([shape, vals, nested]) => {
    const env: Envelope = {};
    shapeKeys(shape).forEach((k, i) => (env[k] = vals[i]));
    if (nested !== null) env.payload = { ...nested, inner: { shape } };
    return env;
  });

/** Encode frames the way a link does (one encoder per socket) and decode them with one decoder. */
function roundTrip(frames: Envelope[][], start = 1): Array<Array<Envelope | null>> {
  const enc = new BatchEncoder();
  const dec = new BatchDecoder();
  // Start anywhere: header numbers of every msgpack width must decode beside records.
  let seqNo = start;
  return frames.map((msgs) => {
    const first = seqNo;
    for (const m of msgs) enc.append(seqNo++, enc.encode(m));
    const out = dec.decode(enc.take(first - 1));
    expect(out.first).toBe(first);
    expect(out.ack).toBe(first - 1);
    return out.messages;
  });
}

describe('batch codec', () => {
  it('property: a stream of batch frames decodes to the same envelopes, in order, with record structures shared across frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(envelopeArb, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 20 }),
        fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.constant(2 ** 53 - 1000)),
        (frames, start) => {
          expect(roundTrip(frames, start)).toEqual(frames);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('sends a repeated shape\'s keys once per socket: later frames are smaller', () => {
    const msg = (i: number): Envelope => ({ id: `m${i}`, from: 'a1', to: 'b1', type: 'tick', payload: { n: i }, class: 'DT', sentAt: i });
    const enc = new BatchEncoder();
    const first = enc.encode(msg(1)).length;
    const second = enc.encode(msg(2)).length;
    expect(second).toBeLessThan(first - 20);
    const plainSize = new Packr({ useRecords: false }).pack(msg(2)).length;
    expect(second).toBeLessThan(plainSize);
  });

  it('after a failed encode, the reset flag brings the decoder back in step', () => {
    const enc = new BatchEncoder();
    const dec = new BatchDecoder();
    enc.append(1, enc.encode({ a: 1, b: 'x' }));
    expect(dec.decode(enc.take(0)).messages).toEqual([{ a: 1, b: 'x' }]);
    // A new shape is minted, then the encode fails on a value msgpack cannot hold.
    expect(() => enc.encode({ fresh: 1, big: 2n ** 70n })).toThrow();
    enc.resetCodec();
    enc.append(2, enc.encode({ fresh: 2, big: 1 }));
    enc.append(3, enc.encode({ a: 3, b: 'y' }));
    expect(dec.decode(enc.take(0)).messages).toEqual([{ fresh: 2, big: 1 }, { a: 3, b: 'y' }]);
    enc.append(4, enc.encode(null));
    expect(dec.decode(enc.take(0)).messages).toEqual([null]);
  });

  it('rejects bad headers and non-object envelopes', () => {
    const dec = new BatchDecoder();
    const p = new Packr({ useRecords: false });
    const frame = (flags: number, ...vals: unknown[]): Buffer => Buffer.concat([Buffer.from([FrameKind.batch, flags]), ...vals.map((v) => p.pack(v))]);
    expect(() => dec.decode(frame(0, 0, 0, {}))).toThrow(/first sequence/);
    expect(() => dec.decode(frame(0, 1, -2, {}))).toThrow(/ack/);
    expect(() => dec.decode(frame(0, 1, 0))).toThrow(/no envelopes/);
    expect(() => dec.decode(frame(0, 1, 0, 'str'))).toThrow(/not an object/);
    expect(() => dec.decode(frame(0, 1, 0, [1]))).toThrow(/not an object/);
    expect(() => dec.decode(frame(0x80, 1, 0, {}))).toThrow(/flags/);
    expect(dec.decode(frame(0, 1, 0, { ok: true })).messages).toEqual([{ ok: true }]);
  });

  it('property: arbitrary bytes never make a decoder throw anything but CLUSTER_FRAME_INVALID', () => {
    const dec = new BatchDecoder();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...Object.values(FrameKind)), (body, kind) => {
        const frame = Buffer.concat([Buffer.from([kind]), body]);
        for (const decode of [(f: Buffer) => decodeControl(f), (f: Buffer) => dec.decode(f)]) {
          try {
            decode(frame);
          } catch (err) {
            expect(err).toBeInstanceOf(ClusterError);
            expect((err as ClusterError).code).toBe(ClusterCodes.frameInvalid);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
