// The redactor: scrubs registered secrets and common credential shapes (API keys,
// bearer tokens, AWS keys, private key blocks, passwords in URLs, values under
// keys like `password`) from strings and, deeply, from JSON values — object keys
// included — before they reach traces, audit records or model prompts.
// Guarantee: no whole occurrence of a registered secret (current or rotated out)
// survives in any string of the output; if a replacement ever left one (a marker
// combining with its neighbours), the whole string becomes `[REDACTED]`.
// Every replacement is counted, by rule.

import { MARKER_PREFIX, secretValues, type SecretStore } from './secrets.js';

export interface RedactionRule {
  /** Stable id; also the marker label: `[REDACTED:<id>]`. */
  id: string;
  /** Global regex. Named groups `pre` and `post`, when present, are kept around the marker. */
  pattern: RegExp;
}

/** Common credential shapes. Order matters: whole blocks first, then tokens. */
export const DEFAULT_RULES: readonly RedactionRule[] = Object.freeze([
  { id: 'private-key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/g },
  // A block cut off before its END line.
  { id: 'private-key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*$/g },
  { id: 'url-password', pattern: /(?<pre>\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)(?!\[REDACTED)[^\s@/]+(?<post>@)/gi },
  { id: 'bearer-token', pattern: /(?<pre>\bBearer\s+)(?!\[REDACTED)[A-Za-z0-9\-._~+/]{8,}=*/gi },
  { id: 'basic-auth', pattern: /(?<pre>\bAuthorization\s*[:=]\s*["']?Basic\s+)[A-Za-z0-9+/]{8,}={0,2}/gi },
  { id: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { id: 'api-key', pattern: /\bsk-(?:[a-z]+-)*[A-Za-z0-9_-]{16,}/g },
  { id: 'api-key', pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { id: 'github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { id: 'slack-token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { id: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g },
  { id: 'aws-access-key', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g },
  { id: 'aws-secret-key', pattern: /(?<pre>\baws_secret_access_key\s*["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{40}/gi },
  {
    id: 'password',
    pattern: /(?<pre>\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)\s*["']?\s*[=:]\s*["']?)(?!\[REDACTED)[^\s"'&,;]{4,}/gi,
  },
]);

/** The fewest characters any of DEFAULT_RULES can match (the `password` and `url-password` rules: 8). */
const SHORTEST_DEFAULT_MATCH = 8;

/** Object keys whose string values are replaced whole. */
export const SENSITIVE_KEY = /^(?:password|passwd|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth[_-]?token|token|authorization|private[_-]?key|cookie|set-cookie|x-api-key)$/i;

export interface RedactorOptions {
  secrets?: SecretStore;
  /** Replaces the default rules (pass `[...DEFAULT_RULES, mine]` to extend them). */
  rules?: readonly RedactionRule[];
  /** Keys whose string values are replaced whole; `null` turns it off. */
  sensitiveKeys?: RegExp | null;
}

export interface RedactionStats {
  /** Replacements made. */
  events: number;
  /** By rule id; registered secrets count as `secret:<name>` (`secret:retired` for rotated-out values), sensitive keys as `key:<key>`. */
  byRule: Record<string, number>;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Redactor {
  private readonly secrets: SecretStore | undefined;
  private readonly rules: readonly RedactionRule[];
  private readonly sensitiveKeys: RegExp | null;
  private readonly counts = new Map<string, number>();
  private total = 0;
  private matcher: { epoch: number; regex: RegExp | undefined; names: Map<string, string>; values: string[]; shortest: number } | undefined;
  /** No default rule matches fewer characters ("pwd=" and 4 more; "a://b:c@"); custom rules get no such shortcut. */
  private readonly shortestRuleMatch: number;

  constructor(options: RedactorOptions = {}) {
    this.secrets = options.secrets;
    this.rules = (options.rules ?? DEFAULT_RULES).map((r) => ({ id: r.id, pattern: new RegExp(r.pattern.source, r.pattern.flags.includes('g') ? r.pattern.flags : r.pattern.flags + 'g') }));
    this.sensitiveKeys = options.sensitiveKeys === undefined ? SENSITIVE_KEY : options.sensitiveKeys;
    this.shortestRuleMatch = options.rules === undefined ? SHORTEST_DEFAULT_MATCH : 1;
  }

  /** A deep copy of a JSON value with every string (keys too) scrubbed. Other values (Map, Date, class instances) are kept as they are. */
  redact<T>(value: T): T {
    return this.walk(value, new Set()) as T;
  }

  redactString(text: string): string {
    if (text.length === 0) return text;
    const m = this.secretMatcher();
    // Shorter than anything a rule or a secret could match (most keys and message types): nothing to scan.
    if (text.length < this.shortestRuleMatch && text.length < m.shortest) return text;
    let out = text;
    if (m.regex) {
      out = out.replace(m.regex, (hit) => {
        this.count(`secret:${m.names.get(hit) ?? 'unknown'}`);
        return `${MARKER_PREFIX}:secret]`;
      });
    }
    for (const rule of this.rules) {
      rule.pattern.lastIndex = 0;
      out = out.replace(rule.pattern, (...args: unknown[]) => {
        const groups = args[args.length - 1] as Record<string, string | undefined> | undefined;
        this.count(rule.id);
        return `${groups?.pre ?? ''}${MARKER_PREFIX}:${rule.id}]${groups?.post ?? ''}`;
      });
    }
    // The guarantee: a marker and its neighbours can never spell a secret out.
    for (const v of m.values) {
      if (out.includes(v)) return `${MARKER_PREFIX}]`;
    }
    return out;
  }

  /** Does the text hold a registered secret or match a credential rule? (Counts nothing.) */
  detects(text: string): boolean {
    const m = this.secretMatcher();
    if (m.values.some((v) => text.includes(v))) return true;
    return this.rules.some((r) => {
      r.pattern.lastIndex = 0;
      const hit = r.pattern.test(text);
      r.pattern.lastIndex = 0;
      return hit;
    });
  }

  /** Replacements made so far (cheap: for counting the ones one operation made). */
  get events(): number {
    return this.total;
  }

  stats(): RedactionStats {
    return { events: this.total, byRule: Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1))) };
  }

  private walk(value: unknown, open: Set<object>): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (typeof value !== 'object' || value === null) return value;
    if (open.has(value)) return '[Circular]';
    if (Array.isArray(value)) {
      open.add(value);
      const out = value.map((v) => this.walk(v, open));
      open.delete(value);
      return out;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    open.add(value);
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a `__proto__` key (JSON.parse makes one) stays a key instead of becoming the copy's prototype.
    const put = (key: string, v: unknown): void => {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    };
    for (const [k, v] of Object.entries(value)) {
      const key = this.redactString(k);
      if (typeof v === 'string' && v.length > 0 && this.sensitiveKeys?.test(k) && !v.startsWith(MARKER_PREFIX)) {
        this.count(`key:${k.toLowerCase()}`);
        const marker = `${MARKER_PREFIX}:${k.toLowerCase()}]`;
        // The marker repeats the key; the key itself went through redactString, so check once more.
        put(key, this.detectsSecret(marker) ? `${MARKER_PREFIX}]` : marker);
      } else {
        put(key, this.walk(v, open));
      }
    }
    open.delete(value);
    return out;
  }

  private detectsSecret(text: string): boolean {
    return this.secretMatcher().values.some((v) => text.includes(v));
  }

  private count(rule: string): void {
    this.total++;
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + 1);
  }

  /** One alternation over every secret value, longest first, rebuilt when the store changes. */
  private secretMatcher(): NonNullable<Redactor['matcher']> {
    if (!this.secrets) return (this.matcher ??= { epoch: -1, regex: undefined, names: new Map(), values: [], shortest: Infinity });
    const { epoch, values } = secretValues(this.secrets);
    if (this.matcher?.epoch === epoch) return this.matcher;
    const names = new Map<string, string>();
    for (const [value, name] of values) if (!names.has(value) || name !== 'retired') names.set(value, name);
    const sorted = [...names.keys()].sort((a, b) => b.length - a.length);
    this.matcher = { epoch, regex: sorted.length === 0 ? undefined : new RegExp(sorted.map(escape).join('|'), 'g'), names, values: sorted, shortest: sorted.at(-1)?.length ?? Infinity };
    return this.matcher;
  }
}
