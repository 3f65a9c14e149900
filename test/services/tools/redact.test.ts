// Secret redaction: registered secrets never survive in any string of a redacted
// value (property-tested with secrets at random places, in keys and nested values),
// common credential shapes are scrubbed, and the store never lists a value.
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, Redactor, SecretStore } from '../../../src/services/tools/tool.js';

/** Every string in a JSON value, object keys included. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

// Pieces of the markers the redactor writes, so secrets and their neighbours can try to spell one out.
const piece = fc.oneof(
  fc.constantFrom('[REDACTED', ':secret]', 'ecret]', 'ACTED:', ']', '[', 'x', 'y'),
  fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom(...'abcXYZ019-_.:/+='.split('')) }),
);
const secretArb = fc.array(piece, { minLength: 2, maxLength: 8 }).map((p) => p.join('')).filter((s) => s.length >= 8 && s.length <= 40);
const filler = fc.array(piece, { maxLength: 4 }).map((p) => p.join(''));

/** A JSON value whose strings (and keys) have secrets spliced in at random positions. */
function withSecrets(secrets: string[]) {
  const embedded = fc.tuple(filler, fc.nat(secrets.length - 1), filler, fc.boolean()).map(([a, i, b, twice]) => a + secrets[i]! + b + (twice ? secrets[i]! + a : ''));
  const text = fc.oneof(filler, embedded);
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      text,
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(text, tie('value'), { maxKeys: 4 }),
    ),
  }));
  return value;
}

describe('redact (properties)', () => {
  it('no registered secret survives anywhere in the redacted value, keys and nesting included', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(secretArb, { minLength: 1, maxLength: 4 }).chain((secrets) => fc.tuple(fc.constant(secrets), withSecrets(secrets))),
        ([secrets, value]) => {
          const store = new SecretStore();
          const kept = secrets.filter((s, i) => {
            try {
              store.set(`s${i}`, s);
              return true;
            } catch {
              return false; // too close to the marker to be scrubbable: refused at registration
            }
          });
          const out = new Redactor({ secrets: store }).redact(value);
          for (const s of strings(out)) for (const secret of kept) expect(s.includes(secret)).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('redacting leaves strings without secrets or credentials untouched, and counts nothing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom(...'abc xyz 123,.;'.split('')) }), (text) => {
        const r = new Redactor({ secrets: new SecretStore({ api: 'QQQQ-secret-QQQQ' }) });
        expect(r.redact({ note: text })).toEqual({ note: text });
        expect(r.stats().events).toBe(0);
      }),
    );
  });

  it('a rotated-out secret value is still scrubbed', () => {
    fc.assert(
      fc.property(secretArb, secretArb, (a, b) => {
        fc.pre(a !== b && !a.includes(b) && !b.includes(a));
        const store = new SecretStore();
        try {
          store.set('k', a);
          store.set('k', b);
        } catch {
          return;
        }
        const out = new Redactor({ secrets: store }).redactString(`old ${a} new ${b}`);
        expect(out.includes(a) || out.includes(b)).toBe(false);
      }),
    );
  });
});

describe('redact (short strings)', () => {
  // The redactor skips strings shorter than 8 characters (and than every secret): no default rule may match one.
  const near = fc.string({ unit: fc.constantFrom(...Array.from('pwdsecrtkyPWDA:=/@ "\'-_.aB1eyJsk')), maxLength: 7 });
  it('no default rule matches a string under 8 characters (property)', () => {
    fc.assert(
      fc.property(fc.oneof(near, fc.string({ maxLength: 7 })), (text) => {
        for (const rule of DEFAULT_RULES) {
          const pattern = new RegExp(rule.pattern.source, rule.pattern.flags);
          expect(pattern.test(text), `${rule.id} on ${JSON.stringify(text)}`).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('still scrubs the shortest secret a store takes (8 characters) and the shortest credential shape', () => {
    const secrets = new SecretStore();
    secrets.set('pin', '47110815');
    const r = new Redactor({ secrets });
    expect(r.redact({ note: 'pin 47110815', code: '47110815', short: '4711081' })).toEqual({ note: 'pin [REDACTED:secret]', code: '[REDACTED:secret]', short: '4711081' });
    expect(r.redactString('pwd=abcd')).toBe('pwd=[REDACTED:password]');
  });
});

describe('redact (credential shapes)', () => {
  const r = new Redactor();
  it.each([
    ['an OpenAI-style key', 'use sk-proj-AbCdEfGhIjKlMnOpQrStUv now', 'sk-proj-AbCdEfGhIjKlMnOpQrStUv', 'api-key'],
    ['a bearer token', 'Authorization: Bearer eyabc.def-ghi_jkl~mno', 'eyabc.def-ghi_jkl~mno', 'bearer-token'],
    ['an AWS access key id', 'key AKIAIOSFODNN7EXAMPLE here', 'AKIAIOSFODNN7EXAMPLE', 'aws-access-key'],
    ['an AWS secret key', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws-secret-key'],
    ['a password in a URL', 'postgres://admin:hunter2hunter2@db.internal:5432/app', 'hunter2hunter2', 'url-password'],
    ['a GitHub token', 'ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'github-token'],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'dozjgNryP4J3jVmNHl0w5N', 'jwt'],
    ['a password assignment', 'login with password=correct-horse-battery', 'correct-horse-battery', 'password'],
    ['a private key block', 'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC\n-----END RSA PRIVATE KEY-----\nend', 'MIIEow', 'private-key'],
    ['a cut-off private key block', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA', 'b3BlbnNzaC1rZXktdjEAAAAA', 'private-key'],
  ])('scrubs %s', (_what, text, secret, rule) => {
    const out = r.redactString(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(`[REDACTED:${rule}]`);
  });

  it('keeps what frames a credential (scheme, user, host; the word Bearer)', () => {
    expect(r.redactString('postgres://admin:hunter2hunter2@db.internal/app')).toBe('postgres://admin:[REDACTED:url-password]@db.internal/app');
    expect(r.redactString('Bearer abcdefgh12345678')).toBe('Bearer [REDACTED:bearer-token]');
  });

  it('replaces string values under sensitive keys whole, and counts every event by rule', () => {
    const red = new Redactor({ secrets: new SecretStore({ 'db.pw': 'P@ssw0rd-Db-Prod' }) });
    const out = red.redact({ user: 'ann', password: 'x', nested: [{ Authorization: 'Basic Zm9vOmJhcg==' }, 'pw P@ssw0rd-Db-Prod twice P@ssw0rd-Db-Prod'] });
    expect(out).toEqual({ user: 'ann', password: '[REDACTED:password]', nested: [{ Authorization: '[REDACTED:authorization]' }, 'pw [REDACTED:secret] twice [REDACTED:secret]'] });
    expect(red.stats()).toEqual({ events: 4, byRule: { 'key:authorization': 1, 'key:password': 1, 'secret:db.pw': 2 } });
  });

  it('leaves non-JSON objects alone and survives cycles', () => {
    const when = new Date(0);
    const cyclic: Record<string, unknown> = { a: 'sk-abcdefghijklmnopqrstuvwx' };
    cyclic.self = cyclic;
    const out = r.redact({ when, cyclic }) as { when: Date; cyclic: Record<string, unknown> };
    expect(out.when).toBe(when);
    expect(out.cyclic).toEqual({ a: '[REDACTED:api-key]', self: '[Circular]' });
  });

  it('takes extra rules beside the defaults', () => {
    const custom = new Redactor({ rules: [...DEFAULT_RULES, { id: 'ticket', pattern: /TCK-\d{6}/g }] });
    expect(custom.redactString('see TCK-123456')).toBe('see [REDACTED:ticket]');
  });
});

describe('SecretStore', () => {
  it('never shows a value in listings, JSON or inspect, and reveals it only by name', () => {
    const store = new SecretStore({ 'github.token': 'ghp-very-secret-value' });
    store.set('db.password', 'another-secret-value');
    expect(store.list()).toEqual([
      { name: 'db.password', revision: 1 },
      { name: 'github.token', revision: 1 },
    ]);
    const shown = JSON.stringify(store) + inspect(store) + JSON.stringify(store.list());
    expect(shown).not.toContain('very-secret');
    expect(shown).not.toContain('another-secret');
    expect(store.reveal('github.token')).toBe('ghp-very-secret-value');
    expect(() => store.reveal('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_SECRET' }));
  });

  it('refuses bad names, short values and values a marker could spell, without quoting the value', () => {
    const store = new SecretStore();
    expect(() => store.set('has space', 'long-enough-value')).toThrow(expect.objectContaining({ code: 'INVALID_SECRET', field: 'name' }));
    const short = (() => {
      try {
        store.set('pin', '1234');
      } catch (err) {
        return err as Error & { code: string };
      }
    })();
    expect(short).toMatchObject({ code: 'INVALID_SECRET', field: 'value' });
    expect(short!.message).not.toContain('1234');
    expect(() => store.set('m', 'REDACTED')).toThrow(expect.objectContaining({ code: 'INVALID_SECRET' }));
  });
});

describe('hostile keys', () => {
  it('keeps a __proto__ key from JSON as a key (redacted), never as the copy’s prototype', () => {
    const r = new Redactor();
    const input = JSON.parse('{"__proto__":{"x":"sk-live-abcdefghijklmnop1234"},"a":1}') as Record<string, unknown>;
    const out = r.redact(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toContain('"__proto__"');
    expect(JSON.stringify(out)).not.toContain('sk-live-abcdefghijklmnop1234');
    expect(out.a).toBe(1);
  });
});
