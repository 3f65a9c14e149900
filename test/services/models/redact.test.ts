import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PiiRedactor, redactMessages } from '../../../src/services/models/redact.js';

describe('PII redactor', () => {
  const r = new PiiRedactor({ secrets: ['sk-live-abcdef123456'] });

  it('replaces e-mails, phone numbers, SSN-like numbers and registered secrets, counting each', () => {
    const out = r.redact('Mail jane.doe+x@example.co.uk or call +1 (555) 123-4567 / 030 1234567; SSN 123-45-6789; key sk-live-abcdef123456.');
    expect(out.text).toBe('Mail [EMAIL] or call [PHONE] / [PHONE]; SSN [SSN]; key [SECRET].');
    expect(out.counts).toEqual({ email: 1, phone: 2, ssn: 1, secret: 1 });
  });

  it('leaves ordinary numbers alone: dates, prices, versions, IP addresses, short numbers', () => {
    const text = 'On 2024-01-15 it cost 12.50 for v1.2.3 at 10.0.0.1, room 42, order 12345.';
    expect(r.redact(text)).toEqual({ text, counts: {} });
  });

  it('never leaves a registered secret in the output, wherever it appears', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const out = r.redact(`${a}sk-live-abcdef123456${b}`).text;
        return !out.includes('sk-live-abcdef123456');
      }),
    );
  });

  it('never leaves an e-mail address of the common shape', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9.]{0,10}$/), fc.stringMatching(/^[a-z]{2,10}$/), fc.constantFrom('com', 'org', 'de'), (user, host, tld) => {
        return !r.redact(`write to ${user}@${host}.${tld} today`).text.includes('@');
      }),
    );
  });

  it('refuses secrets too short to redact safely', () => {
    expect(() => r.addSecret('abc')).toThrow(TypeError);
  });

  it('redacts message contents and tool-call arguments, without touching the input', () => {
    const messages = [
      { role: 'user' as const, content: 'I am bob@example.com' },
      { role: 'assistant' as const, content: '', toolCalls: [{ id: 'c', name: 'lookup', arguments: { email: 'bob@example.com', n: 3, nested: ['555-123-4567'] } }] },
    ];
    const copy = structuredClone(messages);
    const out = redactMessages(r, messages);
    expect(out.messages[0]!.content).toBe('I am [EMAIL]');
    expect(out.messages[1]!.toolCalls![0]!.arguments).toEqual({ email: '[EMAIL]', n: 3, nested: ['[PHONE]'] });
    expect(out.counts).toEqual({ email: 2, phone: 1 });
    expect(messages).toEqual(copy);
  });
});
