// Public surface of the kernel's audit log: the log itself, node keys and signed
// heads, and the pure RFC 6962 verifiers that let anyone check what it publishes.
// Leaf, hash and head formats are specified in docs/audit-format.md.

export { AuditLog, tenantLeaves, type AuditLogOptions } from './log.js';
export { loadOrCreateNodeKeys, generateNodeKeys, verifyTreeHead, treeHeadMessage, KEY_FILE, type NodeKeys, type SignedTreeHead } from './keys.js';
export {
  buildRecord,
  canonicalJson,
  decodeRecord,
  encodeRecord,
  MAX_RECORD_BYTES,
  type AuditKind,
  type AuditRecord,
  type AuditRecordInput,
} from './record.js';
export {
  EMPTY_ROOT,
  MerkleFrontier,
  consistencyProof,
  inclusionProof,
  leafHash,
  memorySubtrees,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export { AUDIT_DBS } from './store.js';
export { AuditCodes } from './codes.js';
export type { VerifyResult } from './verify.js';
