// A fixed binary layout for declared numeric messages (ticks, guard verdicts, actuator commands):
// [type tag u16][fields in declared order, little-endian]. Encoding writes straight into the slot
// through its DataView and, with `reuse: true`, decoding fills one object per type, so neither
// side allocates per message: what an HRT control loop needs.

import { RingCodes, RingError } from './ring-errors.js';
import type { RingCodec } from './ring-codec.js';

export type FieldKind = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64' | 'bool';
/** Message types by name, each a record of field name → kind (declaration order is wire order). */
export type LayoutSchema = Record<string, Record<string, FieldKind>>;
type FieldValue<K extends FieldKind> = K extends 'bool' ? boolean : number;
/** The messages a schema describes: `{ type: name, ...fields }`. */
export type LayoutMessage<S extends LayoutSchema> = {
  [K in keyof S & string]: { type: K } & { -readonly [F in keyof S[K]]: FieldValue<S[K][F]> };
}[keyof S & string];

export interface FixedLayoutCodecOptions {
  /**
   * Decode into one object per type, overwritten by the next message of that type (no allocation).
   * Default false: a fresh object per message.
   */
  reuse?: boolean;
}

const SIZES: Record<FieldKind, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8, bool: 1 };
const KINDS = Object.keys(SIZES) as FieldKind[];
const TAG_BYTES = 2;

interface TypeLayout {
  type: string;
  tag: number;
  size: number;
  names: string[];
  kinds: FieldKind[];
  offsets: number[];
  reused: Record<string, unknown> | undefined;
}

export class FixedLayoutCodec<S extends LayoutSchema> implements RingCodec<LayoutMessage<S>> {
  readonly maxBytes: number;
  private readonly byType = new Map<string, TypeLayout>();
  private readonly byTag: TypeLayout[] = [];

  constructor(schema: S, options: FixedLayoutCodecOptions = {}) {
    const types = schema !== null && typeof schema === 'object' ? Object.keys(schema) : [];
    if (types.length === 0 || types.length > 0xffff) throw invalid('schema', 'must declare from 1 to 65535 message types');
    let max = 0;
    for (const type of types) {
      const fields = schema[type];
      if (fields === null || typeof fields !== 'object') throw invalid(`schema.${type}`, 'must be a record of field name → kind');
      const layout: TypeLayout = { type, tag: this.byTag.length, size: TAG_BYTES, names: [], kinds: [], offsets: [], reused: undefined };
      for (const [name, kind] of Object.entries(fields)) {
        if (name === 'type') throw invalid(`schema.${type}.type`, 'is reserved for the message type');
        if (!KINDS.includes(kind)) throw invalid(`schema.${type}.${name}`, `must be one of ${KINDS.join(', ')}, got ${String(kind)}`);
        layout.names.push(name);
        layout.kinds.push(kind);
        layout.offsets.push(layout.size);
        layout.size += SIZES[kind];
      }
      if (options.reuse === true) layout.reused = { type };
      max = Math.max(max, layout.size);
      this.byType.set(type, layout);
      this.byTag.push(layout);
    }
    this.maxBytes = max;
  }

  /** Encoded size of a message type. */
  sizeOf(type: keyof S & string): number {
    const layout = this.byType.get(type);
    if (layout === undefined) throw invalid('type', `"${type}" is not a declared message type`);
    return layout.size;
  }

  encodeInto(msg: LayoutMessage<S>, payload: Uint8Array, data: DataView): number {
    const layout = this.byType.get(msg?.type);
    if (layout === undefined) throw invalid('type', `"${String(msg?.type)}" is not a declared message type (${[...this.byType.keys()].join(', ')})`);
    if (layout.size > payload.length) {
      throw new RingError(RingCodes.payloadTooLarge, `FixedLayoutCodec: "${layout.type}" takes ${layout.size} bytes, more than the ring's slotBytes (${payload.length})`, { field: 'slotBytes' });
    }
    data.setUint16(0, layout.tag, true);
    const rec = msg as unknown as Record<string, unknown>;
    for (let i = 0; i < layout.names.length; i++) {
      const value = rec[layout.names[i]!];
      const at = layout.offsets[i]!;
      const kind = layout.kinds[i]!;
      if (kind === 'bool') {
        if (typeof value !== 'boolean') throw badField(layout, i, value);
        data.setUint8(at, value ? 1 : 0);
      } else if (typeof value !== 'number' || !fits(kind, value)) {
        throw badField(layout, i, value);
      } else {
        write(data, at, kind, value);
      }
    }
    return layout.size;
  }

  decode(_payload: Uint8Array, length: number, data: DataView): LayoutMessage<S> {
    const tag = length >= TAG_BYTES ? data.getUint16(0, true) : -1;
    const layout = this.byTag[tag];
    if (layout === undefined || layout.size !== length) {
      throw new RingError(RingCodes.corrupt, `FixedLayoutCodec: a ${length}-byte message with type tag ${tag} matches no declared type (the two ends must share one schema)`, {
        field: 'type',
        details: { tag, length },
      });
    }
    const out = layout.reused ?? { type: layout.type };
    for (let i = 0; i < layout.names.length; i++) out[layout.names[i]!] = read(data, layout.offsets[i]!, layout.kinds[i]!);
    return out as LayoutMessage<S>;
  }
}

function fits(kind: FieldKind, v: number): boolean {
  switch (kind) {
    case 'u8':
      return (v & 0xff) === v;
    case 'i8':
      return (v << 24) >> 24 === v;
    case 'u16':
      return (v & 0xffff) === v;
    case 'i16':
      return (v << 16) >> 16 === v;
    case 'u32':
      return v >>> 0 === v;
    case 'i32':
      return (v | 0) === v;
    default:
      return true; // f32, f64: any number (f32 rounds)
  }
}

function write(data: DataView, at: number, kind: FieldKind, v: number): void {
  switch (kind) {
    case 'u8':
      return data.setUint8(at, v);
    case 'i8':
      return data.setInt8(at, v);
    case 'u16':
      return data.setUint16(at, v, true);
    case 'i16':
      return data.setInt16(at, v, true);
    case 'u32':
      return data.setUint32(at, v, true);
    case 'i32':
      return data.setInt32(at, v, true);
    case 'f32':
      return data.setFloat32(at, v, true);
    default:
      return data.setFloat64(at, v, true);
  }
}

function read(data: DataView, at: number, kind: FieldKind): number | boolean {
  switch (kind) {
    case 'bool':
      return data.getUint8(at) !== 0;
    case 'u8':
      return data.getUint8(at);
    case 'i8':
      return data.getInt8(at);
    case 'u16':
      return data.getUint16(at, true);
    case 'i16':
      return data.getInt16(at, true);
    case 'u32':
      return data.getUint32(at, true);
    case 'i32':
      return data.getInt32(at, true);
    case 'f32':
      return data.getFloat32(at, true);
    default:
      return data.getFloat64(at, true);
  }
}

function invalid(field: string, why: string): RingError {
  return new RingError(RingCodes.invalidOptions, `FixedLayoutCodec: ${field} ${why}`, { field });
}

function badField(layout: TypeLayout, i: number, value: unknown): RingError {
  const field = `${layout.type}.${layout.names[i]}`;
  return new RingError(RingCodes.invalidMessage, `FixedLayoutCodec: ${field} must be a ${layout.kinds[i]}, got ${typeof value === 'number' ? value : typeof value}`, {
    field,
  });
}
