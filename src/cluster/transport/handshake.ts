// Mutual authentication by HMAC-SHA256 challenge–response over the shared
// cluster secret. Both sides contribute a fresh 32-byte nonce; each proves
// knowledge of the secret with an HMAC over the whole transcript (both nonces,
// both node ids, both incarnations) and its role, so a proof can be neither
// replayed on another connection nor reflected back to its author.
//
//   dialer → hello     { v, node, inc, nonce }
//   server → challenge { v, node, inc, nonce, proof(server) }   dialer checks it
//   dialer → response  { proof(client), recv, base }             server checks it
//   server → welcome   { recv, base }
//
// `recv`/`base` are the resume point (session.ts). The handshake
// authenticates peers; it does not encrypt or sign later frames: on an
// untrusted network use the TLS option as well.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NONCE_BYTES, PROOF_BYTES } from './frames.js';

export type Role = 'server' | 'client';

export interface Transcript {
  clientNonce: Uint8Array;
  serverNonce: Uint8Array;
  clientNode: string;
  serverNode: string;
  clientInc: string;
  serverInc: string;
}

const LABEL = 'agentos-cluster/v1';

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** A process's identity in the cluster: fresh on every start, so peers can tell a restart from a reconnect. */
export function newIncarnation(): string {
  return randomBytes(16).toString('hex');
}

/** HMAC over length-prefixed fields, so no two different transcripts serialise alike. */
export function proof(secret: Uint8Array, role: Role, t: Transcript): Buffer {
  const mac = createHmac('sha256', secret);
  const field = (data: Uint8Array | string): void => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(bytes.length);
    mac.update(len);
    mac.update(bytes);
  };
  field(LABEL);
  field(role);
  field(t.clientNonce);
  field(t.serverNonce);
  field(t.clientNode);
  field(t.serverNode);
  field(t.clientInc);
  field(t.serverInc);
  return mac.digest();
}

/** Constant-time check of a peer's proof. */
export function verifyProof(secret: Uint8Array, role: Role, t: Transcript, candidate: Uint8Array): boolean {
  if (candidate.length !== PROOF_BYTES) return false;
  return timingSafeEqual(proof(secret, role, t), candidate);
}
