import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EffectError } from '../../../src/base/errors.js';
import { idempotencyKey, keyPrefix, MAX_KEY_LENGTH, parseIdempotencyKey, type CallSite } from '../../../src/kernel/effects/index.js';

const site = fc.record(
  {
    actor: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    turn: fc.nat(),
    step: fc.nat(),
    call: fc.nat(),
  },
  { requiredKeys: ['actor', 'turn', 'call'] },
);

describe('idempotencyKey', () => {
  it('spells ik1/<actor>/t<turn>[/s<step>]/c<call> with the actor percent-encoded', () => {
    expect(idempotencyKey({ actor: 'support/agent-7', turn: 12, call: 0 })).toBe('ik1/support%2Fagent-7/t12/c0');
    expect(idempotencyKey({ actor: 'wf', turn: 3, step: 2, call: 1 })).toBe('ik1/wf/t3/s2/c1');
    expect(idempotencyKey({ actor: 'a b:ü', turn: 0, call: 9 })).toBe('ik1/a%20b%3A%C3%BC/t0/c9');
  });

  it('depends on the call site alone, so a restarted incarnation derives the same key', () => {
    const s: CallSite = { actor: 'root/child', turn: 4, call: 2 };
    expect(idempotencyKey({ ...s })).toBe(idempotencyKey(s));
  });

  it('parses back to the site it was made from, for any site', () => {
    fc.assert(
      fc.property(site, (s) => {
        expect(parseIdempotencyKey(idempotencyKey(s))).toEqual(s);
      }),
    );
  });

  it('gives distinct sites distinct keys', () => {
    fc.assert(
      fc.property(site, site, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(idempotencyKey(a)).not.toBe(idempotencyKey(b));
      }),
    );
  });

  it('keys of one actor, and only those, start with keyPrefix(actor)', () => {
    fc.assert(
      fc.property(site, fc.string({ minLength: 1, maxLength: 10 }), (s, other) => {
        expect(idempotencyKey(s).startsWith(keyPrefix(s.actor))).toBe(true);
        if (other !== s.actor) expect(idempotencyKey(s).startsWith(keyPrefix(other))).toBe(false);
      }),
    );
  });

  it.each([
    [{ actor: '', turn: 0, call: 0 }, 'actor'],
    [{ actor: 'a', turn: -1, call: 0 }, 'turn'],
    [{ actor: 'a', turn: 1.5, call: 0 }, 'turn'],
    [{ actor: 'a', turn: 0, step: NaN, call: 0 }, 'step'],
    [{ actor: 'a', turn: 0, call: 2 ** 53 }, 'call'],
    [{ actor: 'a\uD800', turn: 0, call: 0 }, 'actor'],
    [{ actor: 'x'.repeat(MAX_KEY_LENGTH), turn: 0, call: 0 }, 'actor'],
  ])('refuses %j naming %s', (s, field) => {
    expect(() => idempotencyKey(s as CallSite)).toThrow(expect.objectContaining({ code: 'EFFECT_INVALID_KEY', field }));
  });

  it.each(['', 'a/t0/c0', 'ik1/a/t0', 'ik1//t0/c0', 'ik1/a/t01/c0', 'ik1/a/t0/c0/', 'ik1/a%2f/t0/c0', 'ik1/%E0%A4/t0/c0', 'ik1/a/b/t0/c0'])(
    'parseIdempotencyKey refuses %j (only canonical keys name a call)',
    (key) => {
      let thrown: unknown;
      try {
        parseIdempotencyKey(key);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(EffectError);
      expect(thrown).toMatchObject({ code: 'EFFECT_INVALID_KEY' });
    },
  );
});
