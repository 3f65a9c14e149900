import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactPii, redactValue } from '../../../src/services/memory/redact.js';

describe('redactPii', () => {
  it('replaces e-mail addresses, phone numbers and SSN-like numbers, counting each', () => {
    const r = redactPii('Mail jane.doe+rx@clinic.example.org or call (555) 123-4567 / +44 20 7946 0958. SSN 123-45-6789.');
    expect(r.text).toBe('Mail [EMAIL] or call [PHONE] / [PHONE]. SSN [SSN].');
    expect(r.counts).toEqual({ email: 1, phone: 2, ssn: 1 });
    expect(r.total).toBe(4);
  });

  it('leaves dates, versions, amounts and plain ids alone', () => {
    const text = 'On 2024-01-15 we shipped v1.2.3 for $1,299.00; order 5551234567, room 12-34, port 8080, ISBN 978-3-16-148410-0.';
    expect(redactPii(text)).toMatchObject({ text, total: 0 });
  });

  it('redacts strings inside structured values and counts them together', () => {
    const out = redactValue({ note: 'reach me at a@b.co', tags: ['555-867-5309', 7], nested: { ssn: '078-05-1120' } });
    expect(out.value).toEqual({ note: 'reach me at [EMAIL]', tags: ['[PHONE]', 7], nested: { ssn: '[SSN]' } });
    expect(out.counts).toEqual({ email: 1, phone: 1, ssn: 1 });
  });

  it('property: a redacted text contains no e-mail address and redacting again changes nothing', () => {
    const email = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9._]{0,10}$/), fc.stringMatching(/^[a-z]{1,10}$/), fc.constantFrom('com', 'org', 'io')).map(([u, d, t]) => `${u}@${d}.${t}`);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 20 }), email), { maxLength: 12 }), (parts) => {
        const once = redactPii(parts.join(' '));
        expect(once.text).not.toMatch(/[a-z0-9._]+@[a-z]+\.(com|org|io)/);
        expect(redactPii(once.text).total).toBe(0);
      }),
    );
  });

  it('returns on adversarial input (bounded patterns: a catastrophic backtrack would hit the test timeout)', () => {
    const evil = `${'a'.repeat(5000)}@${'b.'.repeat(5000)}`;
    expect(redactPii(evil).total).toBe(0);
    expect(redactPii(`+${'1 '.repeat(5000)}`).total).toBe(0);
  });
});
