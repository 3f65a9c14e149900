// Stable error codes of the audit log, in one place so docs and tests can
// enumerate them. Errors carrying them are AuditError (caller's fault) or
// StorageError (the stored log is damaged or could not be written).

export const AuditCodes = {
  invalidRecord: 'AUDIT_INVALID_RECORD',
  outOfRange: 'AUDIT_OUT_OF_RANGE',
  unsafeKey: 'AUDIT_UNSAFE_KEY',
  corrupt: 'AUDIT_CORRUPT',
  writeFailed: 'AUDIT_WRITE_FAILED',
} as const;
