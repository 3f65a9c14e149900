// The batch frame codec: [0x10][flags][firstSeq][ack][envelope | nil]…
//
// Envelopes are msgpackr records with `sequential` structures: the first
// envelope of a shape carries its key list inline and later ones refer to it
// by id, so a stream of similar envelopes sends the keys once. That shared
// table lives in one encoder/decoder pair per socket and is never negotiated:
// a new socket starts both ends empty (frames on one socket arrive in order
// and a decode failure closes the socket), so a reconnect can never pair a
// stale table with fresh bytes. When an encode fails midway, the encoder may
// have minted ids the peer never saw; it then starts a fresh table and flags
// the next frame RESET, and the decoder starts afresh before reading it.
// `nil` in an envelope slot is a tombstone: the sequence number is used up but
// nothing is delivered (a message that could not be encoded after it was queued).

import { Packr, Unpackr } from 'msgpackr';
import { FrameKind, invalidFrame } from './frames.js';

export const BATCH_FLAG_RESET = 0x01;
/** Kind + flags + two numbers at most 9 bytes each. */
export const BATCH_OVERHEAD = 20;

export type Envelope = Record<string, unknown>;

const newPackr = (): Packr => new Packr({ useRecords: true, sequential: true });
// Envelopes are plain objects: a msgpack map (not a record) decodes to one too, never to a Map.
const newUnpackr = (): Unpackr => new Unpackr({ useRecords: true, sequential: true, mapsAsObjects: true });

/**
 * msgpack encoding of a non-negative safe integer (uint32, else float64, which
 * holds it exactly). Fixints stop at 0x3f: with records on, the bytes
 * 0x40–0x7f are record references, not the numbers 64–127.
 */
function writeUint(out: Buffer, at: number, n: number): number {
  if (n < 0x40) {
    out[at] = n;
    return at + 1;
  }
  if (n <= 0xffffffff) {
    out[at] = 0xce;
    out.writeUInt32BE(n, at + 1);
    return at + 5;
  }
  out[at] = 0xcb;
  out.writeDoubleBE(n, at + 1);
  return at + 9;
}

export class BatchEncoder {
  private packr = newPackr();
  private parts: Uint8Array[] = [];
  private bytes = 0;
  private first = 0;
  private resetNext = false;

  /** Encode one envelope (null: a tombstone). Throws what msgpackr throws; the caller then calls `resetCodec`. */
  encode(msg: Envelope | null): Uint8Array {
    return this.packr.pack(msg);
  }

  /** Add an encoded envelope as the next one of the frame being built; `seq` must follow the previous one. */
  append(seq: number, part: Uint8Array): void {
    if (this.parts.length === 0) this.first = seq;
    else if (seq !== this.first + this.parts.length) throw new Error(`batch: seq ${seq} does not follow ${this.first + this.parts.length - 1}`);
    this.parts.push(part);
    this.bytes += part.length;
  }

  /** Envelope bytes in the frame being built. */
  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.parts.length;
  }

  /** Seal the frame being built, carrying the cumulative `ack` for the other direction. */
  take(ack: number): Buffer {
    const frame = Buffer.allocUnsafe(BATCH_OVERHEAD + this.bytes);
    frame[0] = FrameKind.batch;
    frame[1] = this.resetNext ? BATCH_FLAG_RESET : 0;
    let at = writeUint(frame, 2, this.first);
    at = writeUint(frame, at, ack);
    for (const p of this.parts) {
      frame.set(p, at);
      at += p.length;
    }
    this.parts = [];
    this.bytes = 0;
    this.resetNext = false;
    return frame.subarray(0, at);
  }

  /**
   * Forget the structure table (after a failed encode). Anything already
   * appended was encoded with the old table: `take` it first.
   */
  resetCodec(): void {
    if (this.parts.length > 0) throw new Error('batch: take the pending frame before resetting the codec');
    this.packr = newPackr();
    this.resetNext = true;
  }
}

export interface DecodedBatch {
  first: number;
  ack: number;
  /** null: a tombstone (sequence number used, nothing to deliver). */
  messages: Array<Envelope | null>;
}

export class BatchDecoder {
  private unpackr = newUnpackr();

  /** Decode and validate a batch frame; throws ClusterError CLUSTER_FRAME_INVALID. */
  decode(frame: Uint8Array): DecodedBatch {
    if (frame.length < 4 || frame[0] !== FrameKind.batch) throw invalidFrame('not a batch frame');
    const flags = frame[1]!;
    if ((flags & ~BATCH_FLAG_RESET) !== 0) throw invalidFrame(`batch frame: unknown flags ${flags}`);
    if (flags & BATCH_FLAG_RESET) this.unpackr = newUnpackr();
    let values: unknown[];
    try {
      values = this.unpackr.unpackMultiple(frame.subarray(2)) as unknown[];
    } catch (err) {
      throw invalidFrame('batch frame is not valid msgpack', err);
    }
    const [first, ack] = values;
    if (typeof first !== 'number' || !Number.isSafeInteger(first) || first < 1) throw invalidFrame('batch frame: bad first sequence number');
    if (typeof ack !== 'number' || !Number.isSafeInteger(ack) || ack < 0) throw invalidFrame('batch frame: bad ack');
    if (values.length < 3) throw invalidFrame('batch frame: no envelopes');
    const messages = values.slice(2);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (m !== null && (typeof m !== 'object' || Array.isArray(m))) throw invalidFrame(`batch frame: envelope ${i} is not an object`);
    }
    if (!Number.isSafeInteger(first + messages.length)) throw invalidFrame('batch frame: sequence overflow');
    return { first, ack, messages: messages as Array<Envelope | null> };
  }
}
