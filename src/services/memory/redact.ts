// Redaction of personal data before it is stored: e-mail addresses, phone numbers
// and SSN-like numbers are replaced by a typed placeholder ("[EMAIL]"), and each
// replacement is counted. Patterns are bounded (no catastrophic backtracking) and
// deliberately conservative: dates, versions and plain long numbers are left alone.

export type PiiKind = 'email' | 'phone' | 'ssn';

export interface Redaction {
  text: string;
  counts: Record<PiiKind, number>;
  total: number;
}

interface Rule {
  kind: PiiKind;
  pattern: RegExp;
  /** Further check on a match (e.g. digit count); default accept. */
  accept?: (match: string) => boolean;
}

const digits = (s: string): number => s.replace(/\D/g, '').length;

// Order matters: SSNs before phones, so 123-45-6789 is an SSN, not part of a phone.
const RULES: readonly Rule[] = [
  { kind: 'email', pattern: /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])/g },
  { kind: 'ssn', pattern: /(?<![\w-])\d{3}[- ]\d{2}[- ]\d{4}(?![\w-])/g },
  {
    kind: 'phone',
    pattern: /(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?![\w-])/g,
    accept: (m) => digits(m) >= 8 && digits(m) <= 15,
  },
  { kind: 'phone', pattern: /(?<![\w(+-])(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w-])/g },
];

export const PLACEHOLDER: Record<PiiKind, string> = { email: '[EMAIL]', phone: '[PHONE]', ssn: '[SSN]' };

export function redactPii(text: string): Redaction {
  const counts: Record<PiiKind, number> = { email: 0, phone: 0, ssn: 0 };
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.pattern, (m) => {
      if (rule.accept && !rule.accept(m)) return m;
      counts[rule.kind]++;
      return PLACEHOLDER[rule.kind];
    });
  }
  return { text: out, counts, total: counts.email + counts.phone + counts.ssn };
}

/** Redact every string inside a JSON-like value (objects, arrays); other values pass through. */
export function redactValue(value: unknown, counts: Record<PiiKind, number> = { email: 0, phone: 0, ssn: 0 }, depth = 0): { value: unknown; counts: Record<PiiKind, number> } {
  if (typeof value === 'string') {
    const r = redactPii(value);
    for (const k of Object.keys(r.counts) as PiiKind[]) counts[k] += r.counts[k];
    return { value: r.text, counts };
  }
  if (depth > 32 || value === null || typeof value !== 'object') return { value, counts };
  if (Array.isArray(value)) return { value: value.map((v) => redactValue(v, counts, depth + 1).value), counts };
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return { value, counts };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, counts, depth + 1).value;
  return { value: out, counts };
}
