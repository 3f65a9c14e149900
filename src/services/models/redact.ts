// De-identification before a prompt leaves for a cloud model: a Redactor
// replaces what identifies a person or unlocks something — e-mail addresses,
// phone numbers, SSN-like numbers, and registered secrets — with typed
// placeholders, and counts what it replaced. Pattern-based: it lowers the
// risk, it does not prove the absence of PII.

import type { Message, ToolCall } from './types.js';

export interface RedactionResult {
  text: string;
  /** Replacements by kind (`email`, `phone`, `ssn`, `secret`). */
  counts: Record<string, number>;
}

export interface Redactor {
  redact(text: string): RedactionResult;
}

const PATTERNS: readonly { kind: string; re: RegExp; placeholder: string }[] = [
  { kind: 'email', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, placeholder: '[EMAIL]' },
  // Before phone numbers, which would otherwise take 123-45-6789.
  { kind: 'ssn', re: /\b\d{3}-\d{2}-\d{4}\b/g, placeholder: '[SSN]' },
  // +1 (555) 123-4567, 555-123-4567, 030 1234567, +44 20 7946 0958: 7+ digits in at most four groups.
  { kind: 'phone', re: /(?<![\w.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,8}){1,3}(?![\w-])/g, placeholder: '[PHONE]' },
];

const MIN_SECRET_LENGTH = 6;

/** Emails, phone numbers, SSN-like numbers and registered secrets. */
export class PiiRedactor implements Redactor {
  private readonly secrets = new Set<string>();

  constructor(options: { secrets?: readonly string[] } = {}) {
    for (const s of options.secrets ?? []) this.addSecret(s);
  }

  /** Never send this value to a model (short values are refused: they would blank ordinary words). */
  addSecret(value: string): void {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) throw new TypeError(`a secret to redact must be a string of at least ${MIN_SECRET_LENGTH} characters`);
    this.secrets.add(value);
  }

  redact(text: string): RedactionResult {
    const counts: Record<string, number> = {};
    const bump = (kind: string): void => {
      counts[kind] = (counts[kind] ?? 0) + 1;
    };
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (!out.includes(secret)) continue;
      const parts = out.split(secret);
      for (let i = 1; i < parts.length; i++) bump('secret');
      out = parts.join('[SECRET]');
    }
    for (const { kind, re, placeholder } of PATTERNS) {
      out = out.replace(re, (m) => {
        if (kind === 'phone' && !looksLikePhone(m)) return m;
        bump(kind);
        return placeholder;
      });
    }
    return { text: out, counts };
  }
}

/** A request's messages with every content and tool-call argument string redacted; the counts summed. */
export function redactMessages(redactor: Redactor, messages: readonly Message[]): { messages: Message[]; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const text = (s: string): string => {
    const r = redactor.redact(s);
    for (const [k, n] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + n;
    return r.text;
  };
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(value);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
    return v;
  };
  const out = messages.map((m) => {
    const copy: Message = { ...m, content: text(m.content) };
    if (m.toolCalls) copy.toolCalls = m.toolCalls.map((c): ToolCall => ({ ...c, arguments: value(c.arguments) as Record<string, unknown> }));
    return copy;
  });
  return { messages: out, counts };
}

/** Enough digits for a phone number, and not an ISO date or an IPv4 address. */
function looksLikePhone(m: string): boolean {
  if (m.replace(/\D/g, '').length < 7) return false;
  if (/^\d{4}-\d{2}-\d{2}$/.test(m) || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(m)) return false;
  return true;
}
