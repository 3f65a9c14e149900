// The HMAC proofs of the handshake: each side's proof verifies only for its
// own role, and changing any field of the transcript (or the secret) breaks it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newIncarnation, newNonce, proof, verifyProof, type Transcript } from '../../../src/cluster/transport/handshake.js';

const secret = Buffer.from('a cluster secret of some length');

function transcript(): Transcript {
  return { clientNonce: newNonce(), serverNonce: newNonce(), clientNode: 'a', serverNode: 'b', clientInc: newIncarnation(), serverInc: newIncarnation() };
}

describe('handshake proofs', () => {
  it('a proof verifies for its role only, so it cannot be reflected back', () => {
    const t = transcript();
    const server = proof(secret, 'server', t);
    expect(verifyProof(secret, 'server', t, server)).toBe(true);
    expect(verifyProof(secret, 'client', t, server)).toBe(false);
    expect(verifyProof(secret, 'client', t, proof(secret, 'client', t))).toBe(true);
  });

  it('property: changing any transcript field, or the secret, makes the proof fail', () => {
    const fields = ['clientNonce', 'serverNonce', 'clientNode', 'serverNode', 'clientInc', 'serverInc'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.string({ minLength: 1, maxLength: 8 }), (field, junk) => {
        const t = transcript();
        const p = proof(secret, 'client', t);
        const changed: Transcript = { ...t };
        const v = t[field];
        (changed as unknown as Record<string, unknown>)[field] = typeof v === 'string' ? v + junk : Buffer.concat([v.subarray(1), Buffer.from([v[0]! ^ 1])]);
        expect(verifyProof(secret, 'client', changed, p)).toBe(false);
        expect(verifyProof(Buffer.from('another cluster secret!!'), 'client', t, p)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('length-prefixed fields: moving bytes between adjacent node ids changes the proof', () => {
    const t = transcript();
    const a = proof(secret, 'client', { ...t, clientNode: 'ab', serverNode: 'c' });
    const b = proof(secret, 'client', { ...t, clientNode: 'a', serverNode: 'bc' });
    expect(a.equals(b)).toBe(false);
  });

  it('a proof of the wrong length is rejected without throwing', () => {
    expect(verifyProof(secret, 'client', transcript(), Buffer.alloc(16))).toBe(false);
  });
});
