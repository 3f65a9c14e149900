// Snapshot records: a small header, then the snapshot packed with msgpackr.
// The header names the format and the definition (readable without decoding
// the body) and carries the body length and a SHA-256 over header and body,
// so a truncated, bit-flipped or foreign record is refused, never restored.
//
//   0  4  magic 'AOSN'            12 32 sha-256(bytes 0..12 ‖ bytes 44..H ‖ body)
//   4  2  format version (u16)    44  2 name length, name (utf-8)
//   6  2  header length H (u16)    …  2 version length, version (utf-8)
//   8  4  body length (u32)        H  body (msgpack, self-contained: no shared structures)

import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { AgentOsError, StorageError } from '../../base/errors.js';
import { assertSnapshotShape } from './shape.js';
import { SNAPSHOT_FORMAT, SnapshotCodes, type ActorSnapshot, type DefinitionRef } from './types.js';

const MAGIC = Buffer.from('AOSN', 'latin1');
const FIXED = 46; // through the name length
const DIGEST_AT = 12;
const DIGEST_END = 44;
const MAX_NAME = 1024;

const packr = new Packr({
  useRecords: false,
  moreTypes: true,
  writeFunction: () => {
    throw new TypeError('a function cannot be encoded');
  },
} as ConstructorParameters<typeof Packr>[0]);

export interface SnapshotHeader {
  format: number;
  definition: DefinitionRef;
  headerLength: number;
  bodyLength: number;
}

/** Turns a snapshot written for `fromVersion` into one for the current version; `undefined` if it cannot. */
export type MigrateSnapshot = (snapshot: ActorSnapshot, fromVersion: string) => ActorSnapshot | undefined;

export interface DecodeOptions {
  /** The definition that will restore it: another name is refused, another version migrated or refused. */
  definition?: DefinitionRef;
  migrate?: MigrateSnapshot;
}

export function encodeSnapshot(snapshot: ActorSnapshot): Buffer {
  assertSnapshotShape(snapshot, SnapshotCodes.uncapturable, 'encodeSnapshot');
  let body: Buffer;
  try {
    body = packr.pack(snapshot);
  } catch (err) {
    throw new StorageError(SnapshotCodes.uncapturable, `encodeSnapshot: ${(err as Error).message}`, { cause: err });
  }
  const name = Buffer.from(snapshot.definition.name, 'utf8');
  const version = Buffer.from(snapshot.definition.version, 'utf8');
  if (name.length > MAX_NAME || version.length > MAX_NAME) {
    throw new StorageError(SnapshotCodes.uncapturable, 'encodeSnapshot: definition name or version longer than 1024 bytes', {
      field: 'definition',
    });
  }
  const headerLength = FIXED + name.length + 2 + version.length;
  const out = Buffer.allocUnsafe(headerLength + body.length);
  MAGIC.copy(out, 0);
  out.writeUInt16BE(SNAPSHOT_FORMAT, 4);
  out.writeUInt16BE(headerLength, 6);
  out.writeUInt32BE(body.length, 8);
  out.writeUInt16BE(name.length, DIGEST_END);
  name.copy(out, FIXED);
  out.writeUInt16BE(version.length, FIXED + name.length);
  version.copy(out, FIXED + name.length + 2);
  body.copy(out, headerLength);
  digest(out, headerLength).copy(out, DIGEST_AT);
  return out;
}

/** The header alone (not yet checksummed: `decodeSnapshot` verifies). For listing and routing records. */
export function readSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  const buf = asBuffer(bytes);
  if (buf.length < FIXED) corrupt('truncated', `${buf.length} bytes is shorter than a snapshot header`);
  if (!buf.subarray(0, 4).equals(MAGIC)) corrupt('magic', 'not an agentos snapshot (bad magic)');
  const format = buf.readUInt16BE(4);
  if (format !== SNAPSHOT_FORMAT) {
    throw new StorageError(
      SnapshotCodes.incompatible,
      `snapshot record: format ${format} is not supported (this build reads format ${SNAPSHOT_FORMAT})`,
      { field: 'format', details: { format } },
    );
  }
  const headerLength = buf.readUInt16BE(6);
  const bodyLength = buf.readUInt32BE(8);
  if (headerLength < FIXED + 2 || headerLength > buf.length) corrupt('truncated', `header length ${headerLength} exceeds the ${buf.length} bytes read`);
  const nameLength = buf.readUInt16BE(DIGEST_END);
  const versionAt = FIXED + nameLength;
  if (versionAt + 2 > headerLength) corrupt('header', `name length ${nameLength} overruns the header`);
  const versionLength = buf.readUInt16BE(versionAt);
  if (versionAt + 2 + versionLength !== headerLength) corrupt('header', 'name and version lengths disagree with the header length');
  return {
    format,
    definition: {
      name: buf.toString('utf8', FIXED, versionAt),
      version: buf.toString('utf8', versionAt + 2, headerLength),
    },
    headerLength,
    bodyLength,
  };
}

export function decodeSnapshot(bytes: Uint8Array, options: DecodeOptions = {}): ActorSnapshot {
  const buf = asBuffer(bytes);
  const header = readSnapshotHeader(buf);
  const total = header.headerLength + header.bodyLength;
  if (buf.length < total) corrupt('truncated', `record is ${buf.length} bytes, its header says ${total}`);
  if (buf.length > total) corrupt('length', `record is ${buf.length} bytes, its header says ${total}`);
  if (!digest(buf, header.headerLength).equals(buf.subarray(DIGEST_AT, DIGEST_END))) {
    corrupt('checksum', 'SHA-256 of header and body does not match');
  }
  let body: unknown;
  try {
    body = packr.unpack(buf.subarray(header.headerLength));
  } catch (err) {
    corrupt('body', `body does not decode: ${(err as Error).message}`, err);
  }
  assertSnapshotShape(body, SnapshotCodes.corrupt, 'decodeSnapshot');
  if (body.definition.name !== header.definition.name || body.definition.version !== header.definition.version) {
    corrupt('header', 'header and body name different definitions');
  }
  return options.definition ? fitToDefinition(body, options.definition, options.migrate) : body;
}

function fitToDefinition(snapshot: ActorSnapshot, want: DefinitionRef, migrate: MigrateSnapshot | undefined): ActorSnapshot {
  const have = snapshot.definition;
  if (have.name !== want.name) {
    throw new StorageError(
      SnapshotCodes.incompatible,
      `decodeSnapshot: snapshot of definition '${have.name}' cannot restore '${want.name}'`,
      { field: 'definition.name', details: { have, want } },
    );
  }
  if (have.version === want.version) return snapshot;
  const incompatible = (why: string, cause?: unknown): never => {
    throw new StorageError(
      SnapshotCodes.incompatible,
      `decodeSnapshot: snapshot of '${have.name}' version ${have.version} cannot restore version ${want.version}: ${why}`,
      { field: 'definition.version', details: { have, want }, ...(cause === undefined ? {} : { cause }) },
    );
  };
  if (!migrate) return incompatible('no migration given');
  let migrated: ActorSnapshot | undefined;
  try {
    migrated = migrate(snapshot, have.version);
  } catch (err) {
    return incompatible(`the migration threw: ${err instanceof AgentOsError ? err.message : String(err)}`, err);
  }
  if (migrated === undefined || migrated === null) return incompatible(`the migration has no path from ${have.version}`);
  assertSnapshotShape(migrated, SnapshotCodes.incompatible, `decodeSnapshot: migration from ${have.version}`);
  return { ...migrated, definition: { name: want.name, version: want.version } };
}

function digest(buf: Buffer, headerLength: number): Buffer {
  return createHash('sha256')
    .update(buf.subarray(0, DIGEST_AT))
    .update(buf.subarray(DIGEST_END, headerLength))
    .update(buf.subarray(headerLength))
    .digest();
}

function asBuffer(bytes: Uint8Array): Buffer {
  if (!(bytes instanceof Uint8Array)) corrupt('type', 'expected bytes (Uint8Array)');
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function corrupt(reason: string, why: string, cause?: unknown): never {
  throw new StorageError(SnapshotCodes.corrupt, `snapshot record: ${why}`, {
    field: 'record',
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}
