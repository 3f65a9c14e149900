import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailboxFull } from '../../src/base/errors.js';
import {
  FixedLayoutCodec,
  MsgpackRingCodec,
  RingCodes,
  RingConsumer,
  RingProducer,
  RingReceiver,
  RingSender,
  SpscRing,
  type LayoutMessage,
  type RingCodec,
  type RingError,
} from '../../src/mailboxes/index.js';
import { RingThread } from './fixtures/ring-thread.js';

const pair = <T>(codec: () => RingCodec<T>, slots = 8, slotBytes = 256) => {
  const sab = SpscRing.allocate({ slots, slotBytes, name: 'codec' });
  return { sab, sender: new RingSender(new RingProducer(sab), codec()), receiver: new RingReceiver(new RingConsumer(sab), codec()) };
};

function thrown(fn: () => unknown): RingError {
  try {
    fn();
  } catch (err) {
    return err as RingError;
  }
  throw new Error('expected a throw');
}

const STRUCTURES = [['type', 'deadline', 'payload']];

/**
 * Values msgpack round-trips to an equal value (no undefined in arrays/objects, no -0, and no
 * `__proto__` key: msgpackr renames it to `__proto_` on decode, its guard against prototype pollution).
 */
const value = fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

describe('MsgpackRingCodec', () => {
  it('round-trips any JSON value through a ring, in order (separate Packr/Unpackr per end)', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 20 }), (msgs) => {
        const { sender, receiver } = pair(() => new MsgpackRingCodec({ structures: STRUCTURES }), 32, 4096);
        const sent = msgs.filter((m) => sender.trySend(m));
        const got: unknown[] = [];
        receiver.drain((m) => got.push(m));
        expect(got).toEqual(sent);
      }),
      { numRuns: 200 },
    );
  });

  it('writes a declared shape as a record id (smaller than the same object undeclared), and undeclared shapes still decode', () => {
    const msg = { type: 'tick', deadline: 10, payload: 1 };
    const len = (codec: MsgpackRingCodec) => codec.encodeInto(msg, new Uint8Array(64));
    const declared = len(new MsgpackRingCodec({ structures: STRUCTURES }));
    const plain = len(new MsgpackRingCodec());
    expect(declared).toBeLessThan(plain - 10);
    const { sender, receiver } = pair(() => new MsgpackRingCodec({ structures: STRUCTURES }));
    const msgs = [msg, { other: 1, shape: [2] }, { other: 3, shape: [] }, msg];
    for (const m of msgs) sender.send(m);
    const got: unknown[] = [];
    receiver.drain((m) => got.push(m));
    expect(got).toEqual(msgs);
  });

  it('a message over slotBytes throws PAYLOAD_TOO_LARGE and publishes nothing', () => {
    const { sab, sender, receiver } = pair(() => new MsgpackRingCodec(), 4, 16);
    const err = thrown(() => sender.send({ text: 'x'.repeat(40) }));
    expect(err.code).toBe(RingCodes.payloadTooLarge);
    expect(err.field).toBe('slotBytes');
    expect(SpscRing.stats(sab).pushed).toBe(0);
    sender.send({ ok: 1 });
    expect(receiver.tryReceive()).toEqual({ ok: 1 });
  });

  it('send on a full ring throws MailboxFull; trySend returns false and is counted', () => {
    const { sab, sender } = pair(() => new MsgpackRingCodec(), 2, 32);
    sender.send(1);
    sender.send(2);
    expect(sender.trySend(3)).toBe(false);
    expect(() => sender.send(3)).toThrow(MailboxFull);
    expect(SpscRing.stats(sab).fullRefusals).toBe(2);
  });

  it('poll hands the message over after its slot is freed, so the handler may use the ring', () => {
    const { sender, receiver } = pair(() => new MsgpackRingCodec(), 2, 32);
    sender.send('a');
    sender.send('b');
    const seen: unknown[] = [];
    receiver.poll((m) => {
      seen.push(m, receiver.ring.size);
      receiver.poll((n) => seen.push(n));
    });
    expect(seen).toEqual(['a', 1, 'b']);
  });
});

const SCHEMA = {
  tick: { seq: 'u32', at: 'f64' },
  verdict: { allow: 'bool', actuator: 'u16', margin: 'f32', code: 'i8' },
} as const;
type Msg = LayoutMessage<typeof SCHEMA>;

describe('FixedLayoutCodec', () => {
  it('round-trips every in-range value of every field kind', () => {
    const msg = fc.oneof(
      fc.record({ type: fc.constant('tick' as const), seq: fc.nat({ max: 2 ** 32 - 1 }), at: fc.double({ noNaN: true }) }),
      fc.record({
        type: fc.constant('verdict' as const),
        allow: fc.boolean(),
        actuator: fc.nat({ max: 0xffff }),
        margin: fc.float({ noNaN: true }),
        code: fc.integer({ min: -128, max: 127 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(msg, { maxLength: 30 }), (msgs) => {
        const { sender, receiver } = pair(() => new FixedLayoutCodec(SCHEMA), 64, 16);
        for (const m of msgs) sender.send(m);
        const got: Msg[] = [];
        receiver.drain((m) => got.push(m));
        expect(got).toEqual(msgs);
      }),
      { numRuns: 100 },
    );
  });

  it('sizes messages as a 2-byte tag plus packed fields, and the sender refuses a ring too small for the largest', () => {
    const codec = new FixedLayoutCodec(SCHEMA);
    expect(codec.sizeOf('tick')).toBe(2 + 4 + 8);
    expect(codec.sizeOf('verdict')).toBe(2 + 1 + 2 + 4 + 1);
    expect(codec.maxBytes).toBe(14);
    const sab = SpscRing.allocate({ slots: 2, slotBytes: 13 });
    const err = thrown(() => new RingSender(new RingProducer(sab), codec));
    expect(err.field).toBe('slotBytes');
    expect(err.message).toContain('up to 14 bytes');
  });

  it('with reuse, decoding fills one object per type (no allocation per message)', () => {
    const { sender, receiver } = pair(() => new FixedLayoutCodec(SCHEMA, { reuse: true }));
    sender.send({ type: 'tick', seq: 1, at: 0.5 });
    sender.send({ type: 'tick', seq: 2, at: 1.5 });
    const a = receiver.tryReceive();
    expect(a).toEqual({ type: 'tick', seq: 1, at: 0.5 });
    const b = receiver.tryReceive();
    expect(b).toBe(a);
    expect(a).toEqual({ type: 'tick', seq: 2, at: 1.5 });
  });

  it('refuses a message that does not fit its layout, naming the field, and publishes nothing', () => {
    const { sab, sender } = pair(() => new FixedLayoutCodec(SCHEMA));
    const bad: [unknown, string][] = [
      [{ type: 'tick', seq: -1, at: 0 }, 'tick.seq'],
      [{ type: 'tick', seq: 1.5, at: 0 }, 'tick.seq'],
      [{ type: 'tick', seq: 1, at: '0' }, 'tick.at'],
      [{ type: 'verdict', allow: 1, actuator: 0, margin: 0, code: 0 }, 'verdict.allow'],
      [{ type: 'verdict', allow: true, actuator: 70_000, margin: 0, code: 0 }, 'verdict.actuator'],
      [{ type: 'verdict', allow: true, actuator: 1, margin: 0, code: 128 }, 'verdict.code'],
      [{ type: 'halt' }, 'type'],
    ];
    for (const [msg, field] of bad) {
      const err = thrown(() => sender.send(msg as Msg));
      expect(err.code === RingCodes.invalidMessage || err.code === RingCodes.invalidOptions, field).toBe(true);
      expect(err.field).toBe(field);
    }
    expect(SpscRing.stats(sab).pushed).toBe(0);
  });

  it('refuses a malformed schema, and decoding bytes of another schema is RING_CORRUPT', () => {
    expect(thrown(() => new FixedLayoutCodec({})).field).toBe('schema');
    expect(thrown(() => new FixedLayoutCodec({ a: { type: 'u8' } } as never)).field).toBe('schema.a.type');
    expect(thrown(() => new FixedLayoutCodec({ a: { x: 'u64' } } as never)).field).toBe('schema.a.x');
    const sab = SpscRing.allocate({ slots: 2, slotBytes: 32 });
    new RingSender(new RingProducer(sab), new FixedLayoutCodec({ a: { x: 'u8' }, b: { y: 'f64' } })).send({ type: 'b', y: 1 });
    const receiver = new RingReceiver(new RingConsumer(sab), new FixedLayoutCodec({ a: { x: 'u8' }, b: { y: 'u8' } }));
    expect(thrown(() => receiver.tryReceive()).code).toBe(RingCodes.corrupt);
  });
});

describe('codecs across two threads', () => {
  let thread: RingThread;
  beforeAll(() => {
    thread = new RingThread();
  });
  afterAll(async () => {
    await thread.stop();
  });

  async function receiveAll<T>(receiver: RingReceiver<T>, count: number): Promise<T[]> {
    const got: T[] = [];
    while (got.length < count) {
      if (receiver.drain((m) => got.push(structuredClone(m))) === 0 && (await receiver.ring.waitAsync(5_000)) === 'timed-out') {
        throw new Error(`no message for 5 s after ${got.length}/${count}`);
      }
    }
    return got;
  }

  it('msgpack with declared structures: a worker sends, main receives the same values in order', async () => {
    const msgs = Array.from({ length: 2_000 }, (_, k) =>
      k % 3 === 0 ? { type: 'tick', deadline: k * 10, payload: { k } } : k % 3 === 1 ? { veto: k % 2 === 0, reason: `r${k}` } : [k, 'x'.repeat(k % 50)],
    );
    const sab = SpscRing.allocate({ slots: 16, slotBytes: 128 });
    const receiver = new RingReceiver(new RingConsumer(sab), new MsgpackRingCodec({ structures: STRUCTURES }));
    const sent = thread.run({ op: 'send-msgpack', sab, msgs, structures: STRUCTURES });
    expect(await receiveAll(receiver, msgs.length)).toEqual(msgs);
    await sent;
  });

  it('fixed layout: a worker sends, main receives the same numbers in order', async () => {
    const msgs: Msg[] = Array.from({ length: 5_000 }, (_, k) =>
      k % 2 === 0 ? { type: 'tick', seq: k, at: k / 3 } : { type: 'verdict', allow: k % 3 === 0, actuator: k % 65_536, margin: 0.5, code: -(k % 128) },
    );
    const sab = SpscRing.allocate({ slots: 8, slotBytes: 16 });
    const receiver = new RingReceiver(new RingConsumer(sab), new FixedLayoutCodec(SCHEMA, { reuse: true }));
    const sent = thread.run({ op: 'send-layout', sab, msgs, schema: SCHEMA as never });
    expect(await receiveAll(receiver, msgs.length)).toEqual(msgs);
    await sent;
  });
});
