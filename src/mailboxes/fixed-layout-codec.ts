// A fixed binary layout for declared numeric messages (ticks, guard verdicts, actuator commands):
// [type tag u16][fields in declared order, little-endian]. Encoding writes straight into the slot
// through its DataView and, with `reuse: true`, decoding fills one object per type, so neither
// side allocates per message: what an HRT control loop needs. Each type's encoder and decoder are
// generated once (new Function) so every field access is a named one the JIT keeps unboxed; a
// generic loop over field names boxed every double (16-24 B per message, measured).

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
  /** Writes the fields (not the tag); throws naming the first field that does not fit its kind. */
  encode: (msg: unknown, data: DataView) => void;
  decode: (data: DataView) => Record<string, unknown>;
}

const SETTERS: Record<FieldKind, string> = {
  u8: 'setUint8', i8: 'setInt8', u16: 'setUint16', i16: 'setInt16', u32: 'setUint32', i32: 'setInt32', f32: 'setFloat32', f64: 'setFloat64', bool: 'setUint8',
};
const GETTERS: Record<FieldKind, string> = {
  u8: 'getUint8', i8: 'getInt8', u16: 'getUint16', i16: 'getInt16', u32: 'getUint32', i32: 'getInt32', f32: 'getFloat32', f64: 'getFloat64', bool: 'getUint8',
};
/** A JS condition true when `v` does NOT fit the kind. */
const MISFITS: Record<FieldKind, string> = {
  u8: "typeof v !== 'number' || (v & 0xff) !== v",
  i8: "typeof v !== 'number' || (v << 24) >> 24 !== v",
  u16: "typeof v !== 'number' || (v & 0xffff) !== v",
  i16: "typeof v !== 'number' || (v << 16) >> 16 !== v",
  u32: "typeof v !== 'number' || v >>> 0 !== v",
  i32: "typeof v !== 'number' || (v | 0) !== v",
  f32: "typeof v !== 'number'",
  f64: "typeof v !== 'number'",
  bool: "typeof v !== 'boolean'",
};

/**
 * The generated encoder and decoder of one type. Only kinds from the fixed tables above, offsets
 * (numbers) and JSON-quoted names reach the source, so a schema cannot inject code.
 */
function compile(layout: Omit<TypeLayout, 'encode' | 'decode'>, offsets: number[], reuse: boolean): Pick<TypeLayout, 'encode' | 'decode'> {
  const key = (i: number): string => JSON.stringify(layout.names[i]);
  const little = (k: FieldKind): string => (SIZES[k] > 1 ? ', true' : '');
  const enc = layout.kinds.map((k, i) => {
    const value = k === 'bool' ? '(v ? 1 : 0)' : 'v';
    return `v = msg[${key(i)}]; if (${MISFITS[k]}) throw bad(${i}, v); data.${SETTERS[k]}(${offsets[i]}, ${value}${little(k)});`;
  });
  const read = (k: FieldKind, i: number): string => `data.${GETTERS[k]}(${offsets[i]}${little(k)})${k === 'bool' ? ' !== 0' : ''}`;
  const fields = layout.kinds.map((k, i) => `${key(i)}: ${read(k, i)}`);
  const literal = `{ type: ${JSON.stringify(layout.type)}${fields.map((f) => `, ${f}`).join('')} }`;
  const dec = reuse ? `${layout.kinds.map((k, i) => `out[${key(i)}] = ${read(k, i)};`).join(' ')} return out;` : `return ${literal};`;
  const encode = new Function('bad', `return function encode(msg, data) { let v; ${enc.join(' ')} };`)((i: number, v: unknown) => badField(layout, i, v));
  // The reused object starts with every field (floats as NaN, so they are doubles from the start):
  // its shape never changes afterwards.
  const zero = (k: FieldKind): string => (k === 'bool' ? 'false' : k === 'f32' || k === 'f64' ? 'NaN' : '0');
  const initial = new Function(`return { type: ${JSON.stringify(layout.type)}${layout.kinds.map((k, i) => `, ${key(i)}: ${zero(k)}`).join('')} };`)() as Record<string, unknown>;
  const decode = new Function('out', `return function decode(data) { ${dec} };`)(initial);
  return { encode, decode };
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
      const layout = { type, tag: this.byTag.length, size: TAG_BYTES, names: [] as string[], kinds: [] as FieldKind[] };
      const offsets: number[] = [];
      for (const [name, kind] of Object.entries(fields)) {
        if (name === 'type') throw invalid(`schema.${type}.type`, 'is reserved for the message type');
        if (name === '__proto__') throw invalid(`schema.${type}.__proto__`, 'is not a usable field name');
        if (!KINDS.includes(kind)) throw invalid(`schema.${type}.${name}`, `must be one of ${KINDS.join(', ')}, got ${String(kind)}`);
        layout.names.push(name);
        layout.kinds.push(kind);
        offsets.push(layout.size);
        layout.size += SIZES[kind];
      }
      const full: TypeLayout = { ...layout, ...compile(layout, offsets, options.reuse === true) };
      max = Math.max(max, full.size);
      this.byType.set(type, full);
      this.byTag.push(full);
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
    layout.encode(msg, data);
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
    return layout.decode(data) as LayoutMessage<S>;
  }
}

function invalid(field: string, why: string): RingError {
  return new RingError(RingCodes.invalidOptions, `FixedLayoutCodec: ${field} ${why}`, { field });
}

function badField(layout: Pick<TypeLayout, 'type' | 'names' | 'kinds'>, i: number, value: unknown): RingError {
  const field = `${layout.type}.${layout.names[i]}`;
  return new RingError(RingCodes.invalidMessage, `FixedLayoutCodec: ${field} must be a ${layout.kinds[i]}, got ${typeof value === 'number' ? value : typeof value}`, {
    field,
  });
}
