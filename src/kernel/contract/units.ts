// Resource quantities of `compute`: CPU in millicores, memory in bytes.
// Parsing is exact decimal arithmetic (no float rounding surprises); anything
// that is not a positive, finite, representable quantity is a ContractError.
import { ContractError } from '../../base/errors.js';

/** `"500m"`, `"2"`, `"0.5"` or a number of cores (`0.5`). */
export const CPU_PATTERN = /^(\d{1,9})(?:\.(\d{1,9}))?(m?)$/;
/** `"512Mi"`, `"2GiB"`, `"1G"`, `"1.5 GB"`, `"1048576"` or a number of bytes. */
export const MEMORY_PATTERN = /^(\d{1,16})(?:\.(\d{1,9}))? ?(B|k|K|M|G|T|P|Ki|Mi|Gi|Ti|Pi|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB)?$/;

const MEMORY_UNITS: Record<string, bigint> = {
  '': 1n, B: 1n,
  k: 10n ** 3n, K: 10n ** 3n, KB: 10n ** 3n, M: 10n ** 6n, MB: 10n ** 6n, G: 10n ** 9n, GB: 10n ** 9n,
  T: 10n ** 12n, TB: 10n ** 12n, P: 10n ** 15n, PB: 10n ** 15n,
  Ki: 1n << 10n, KiB: 1n << 10n, Mi: 1n << 20n, MiB: 1n << 20n, Gi: 1n << 30n, GiB: 1n << 30n,
  Ti: 1n << 40n, TiB: 1n << 40n, Pi: 1n << 50n, PiB: 1n << 50n,
};

const MAX_MILLICORES = 1_000_000_000; // a million cores: anything above is a typo

type Parsed = { ok: true; value: number } | { ok: false; reason: string };

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
}

/** Millicores for a CPU quantity, or the reason it is not one. Never throws. */
export function cpuMillicores(value: unknown): Parsed {
  const text = typeof value === 'number' ? String(value) : value;
  const expected = 'expected cores like "2", 0.5 or millicores like "500m"';
  if (typeof text !== 'string') return { ok: false, reason: `${expected} (got ${show(value)})` };
  const m = CPU_PATTERN.exec(text);
  if (!m) return { ok: false, reason: `${expected} (got ${show(value)})` };
  const [, whole, frac = '', milli] = m;
  let millicores: number;
  if (milli) {
    if (frac.replace(/0+$/, '') !== '') return { ok: false, reason: `fractional millicores are not allowed (got ${show(value)})` };
    millicores = Number(whole);
  } else {
    if (frac.length > 3 && /[^0]/.test(frac.slice(3))) {
      return { ok: false, reason: `finer than 1m (one millicore) is not allowed (got ${show(value)})` };
    }
    millicores = Number(whole) * 1000 + Number(frac.slice(0, 3).padEnd(3, '0'));
  }
  if (millicores <= 0) return { ok: false, reason: `must be > 0 (got ${show(value)})` };
  if (millicores > MAX_MILLICORES) return { ok: false, reason: `must be at most ${MAX_MILLICORES / 1000} cores (got ${show(value)})` };
  return { ok: true, value: millicores };
}

/** Bytes for a memory quantity (fractions round up to whole bytes), or why not. Never throws. */
export function memoryBytes(value: unknown): Parsed {
  const expected = 'expected bytes or a quantity like "512Mi", "2GiB", "1G"';
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return { ok: false, reason: `a number of bytes must be a whole number (got ${show(value)})` };
    text = String(value);
  } else if (typeof value === 'string') {
    text = value;
  } else {
    return { ok: false, reason: `${expected} (got ${show(value)})` };
  }
  const m = MEMORY_PATTERN.exec(text);
  if (!m) return { ok: false, reason: `${expected} (got ${show(value)})` };
  const [, whole, frac = '', unit = ''] = m;
  if ((unit === '' || unit === 'B') && /[^0]/.test(frac)) {
    return { ok: false, reason: `a number of bytes must be a whole number (got ${show(value)})` };
  }
  const multiplier = MEMORY_UNITS[unit] as bigint;
  const scale = 10n ** BigInt(frac.length);
  const scaled = BigInt(whole + frac) * multiplier;
  const bytes = (scaled + scale - 1n) / scale; // ceil
  if (bytes <= 0n) return { ok: false, reason: `must be > 0 bytes (got ${show(value)})` };
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: `is too large (got ${show(value)})` };
  return { ok: true, value: Number(bytes) };
}

/** CPU quantity → whole millicores. Throws ContractError (CONTRACT_INVALID). */
export function parseCpu(value: string | number): number {
  const r = cpuMillicores(value);
  if (!r.ok) throw new ContractError('CONTRACT_INVALID', `compute.cpu: ${r.reason}`, { field: 'compute.cpu' });
  return r.value;
}

/** Memory quantity → bytes. Throws ContractError (CONTRACT_INVALID). */
export function parseMemory(value: string | number): number {
  const r = memoryBytes(value);
  if (!r.ok) throw new ContractError('CONTRACT_INVALID', `compute.mem: ${r.reason}`, { field: 'compute.mem' });
  return r.value;
}
