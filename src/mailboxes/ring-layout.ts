// The memory layout of an SPSC ring in a SharedArrayBuffer, and its validation. Both ends map the
// same bytes, so this is a wire format: the magic and version let a foreign or stale buffer be refused.
//
//   bytes 0..255    header, Int32 words (W.*); producer-written and consumer-written words sit on
//                   separate 64-byte lines so the two threads do not fight over one cache line
//   bytes 256..     `slots` slots of `stride` bytes: [length i32][sequence i32][payload, slotBytes]
//
// Indices are free-running uint32 counters (slot = index & (slots - 1)); the 64-bit totals in
// `stats()` add a high word the owner bumps each time its index wraps.

import { RingCodes, RingError } from './ring-errors.js';

export const RING_MAGIC = 0x53505343; // 'SPSC'
export const RING_VERSION = 1;
export const HEADER_BYTES = 256;
/** Per-slot words before the payload: its length and the index it was written at. */
export const SLOT_HEADER_BYTES = 8;
export const MAX_NAME_BYTES = 64;
export const MAX_SLOTS = 1 << 24;
export const MAX_SLOT_BYTES = 1 << 24;

/** Header word indices (Int32Array over the buffer's first HEADER_BYTES). */
export const W = {
  magic: 0,
  version: 1,
  slots: 2,
  slotBytes: 3,
  stride: 4,
  dataOffset: 5,
  nameLength: 6,
  /** Hands each attached end a distinct token. */
  instanceSeq: 7,
  producer: 8,
  consumer: 9,
  // producer's line
  write: 16,
  writeHigh: 17,
  fullLow: 18,
  fullHigh: 19,
  highWater: 20,
  wakeups: 21,
  producerWaiting: 22,
  // consumer's line
  read: 32,
  readHigh: 33,
  consumerWaiting: 34,
  spaceWakeups: 35,
  // name bytes: 48..63 (64 bytes)
  name: 48,
} as const;

export interface SpscRingOptions {
  /** Number of slots: a power of two, 1 ..= 2^24. */
  slots: number;
  /** Largest payload one slot holds, in bytes: 1 ..= 2^24. */
  slotBytes: number;
  /** Named in errors and stats (UTF-8, at most 64 bytes). Default 'ring'. */
  name?: string;
}

export interface RingGeometry {
  name: string;
  slots: number;
  slotBytes: number;
  stride: number;
  dataOffset: number;
}

const align8 = (n: number): number => (n + 7) & ~7;
const isPow2 = (n: number): boolean => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;

/** A fresh ring's buffer, header written, every slot empty. */
export function allocateRing(options: SpscRingOptions): SharedArrayBuffer {
  const { slots, slotBytes, name = 'ring' } = options ?? ({} as SpscRingOptions);
  const bad = (field: string, why: string): RingError =>
    new RingError(RingCodes.invalidOptions, `SpscRing.allocate: ${field} ${why}`, { field, details: { [field]: (options as unknown as Record<string, unknown>)?.[field] } });
  if (!isPow2(slots) || slots > MAX_SLOTS) throw bad('slots', `must be a power of two from 1 to ${MAX_SLOTS}, got ${String(slots)}`);
  if (!Number.isInteger(slotBytes) || slotBytes < 1 || slotBytes > MAX_SLOT_BYTES) {
    throw bad('slotBytes', `must be an integer from 1 to ${MAX_SLOT_BYTES}, got ${String(slotBytes)}`);
  }
  if (typeof name !== 'string') throw bad('name', `must be a string, got ${typeof name}`);
  const nameBytes = new TextEncoder().encode(name);
  if (nameBytes.length > MAX_NAME_BYTES) throw bad('name', `must be at most ${MAX_NAME_BYTES} UTF-8 bytes, got ${nameBytes.length}`);
  const stride = align8(SLOT_HEADER_BYTES + slotBytes);
  const total = HEADER_BYTES + slots * stride;
  if (total > 2 ** 31 - 1) throw bad('slots', `× slotBytes is too large: the ring would take ${total} bytes (at most 2 GiB)`);
  const sab = new SharedArrayBuffer(total);
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  h[W.version] = RING_VERSION;
  h[W.slots] = slots;
  h[W.slotBytes] = slotBytes;
  h[W.stride] = stride;
  h[W.dataOffset] = HEADER_BYTES;
  h[W.nameLength] = nameBytes.length;
  new Uint8Array(sab, W.name * 4, MAX_NAME_BYTES).set(nameBytes);
  // The magic last: a buffer whose header is half written is not a ring yet.
  Atomics.store(h, W.magic, RING_MAGIC);
  return sab;
}

/** Checks that `buffer` is a ring this version understands; returns its geometry or throws RING_CORRUPT naming the field. */
export function readGeometry(buffer: unknown): RingGeometry {
  if (Object.prototype.toString.call(buffer) !== '[object SharedArrayBuffer]') {
    throw new RingError(RingCodes.corrupt, `SpscRing: buffer must be a SharedArrayBuffer made by SpscRing.allocate, got ${describe(buffer)}`, { field: 'buffer' });
  }
  const sab = buffer as SharedArrayBuffer;
  if (sab.byteLength < HEADER_BYTES) {
    throw new RingError(RingCodes.corrupt, `SpscRing: buffer of ${sab.byteLength} bytes is smaller than a ring header (${HEADER_BYTES})`, { field: 'buffer' });
  }
  const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const corrupt = (field: string, why: string): RingError =>
    new RingError(RingCodes.corrupt, `SpscRing: not a valid ring buffer: ${field} ${why}`, { field, details: { [field]: h[(W as Record<string, number>)[field] ?? 0] } });
  if (Atomics.load(h, W.magic) !== RING_MAGIC) throw corrupt('magic', `is 0x${(h[W.magic]! >>> 0).toString(16)}, expected 0x${RING_MAGIC.toString(16)} (not made by SpscRing.allocate)`);
  if (h[W.version] !== RING_VERSION) throw corrupt('version', `is ${h[W.version]}, this build reads version ${RING_VERSION}`);
  const slots = h[W.slots]!;
  const slotBytes = h[W.slotBytes]!;
  const stride = h[W.stride]!;
  if (!isPow2(slots) || slots > MAX_SLOTS) throw corrupt('slots', `is ${slots}, not a power of two from 1 to ${MAX_SLOTS}`);
  if (slotBytes < 1 || slotBytes > MAX_SLOT_BYTES) throw corrupt('slotBytes', `is ${slotBytes}, out of range`);
  if (stride !== align8(SLOT_HEADER_BYTES + slotBytes)) throw corrupt('stride', `is ${stride}, expected ${align8(SLOT_HEADER_BYTES + slotBytes)} for slotBytes ${slotBytes}`);
  if (h[W.dataOffset] !== HEADER_BYTES) throw corrupt('dataOffset', `is ${h[W.dataOffset]}, expected ${HEADER_BYTES}`);
  if (sab.byteLength !== HEADER_BYTES + slots * stride) {
    throw corrupt('slots', `× stride does not match the buffer: ${HEADER_BYTES} + ${slots} × ${stride} ≠ ${sab.byteLength} bytes`);
  }
  const nameLength = h[W.nameLength]!;
  if (nameLength < 0 || nameLength > MAX_NAME_BYTES) throw corrupt('nameLength', `is ${nameLength}, at most ${MAX_NAME_BYTES}`);
  const used = (Atomics.load(h, W.write) - Atomics.load(h, W.read)) >>> 0;
  if (used > slots) throw corrupt('write', `is ${used} slots ahead of read in a ring of ${slots}`);
  // TextDecoder refuses views of shared memory: copy the name out first.
  const name = new TextDecoder().decode(new Uint8Array(sab, W.name * 4, nameLength).slice());
  return { name, slots, slotBytes, stride, dataOffset: HEADER_BYTES };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return Object.prototype.toString.call(value).slice(8, -1);
}
