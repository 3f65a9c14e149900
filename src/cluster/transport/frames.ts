// The wire format. Every frame is one binary WebSocket message whose first
// byte is its kind. Control frames (handshake, ack, ping/pong, bye) are a
// plain msgpack map after that byte, checked against a strict schema; batch
// frames carry envelopes and have their own codec (codec.ts). Close codes say
// precisely why a connection was dropped.

import { Packr, Unpackr } from 'msgpackr';
import { z } from 'zod';
import { ClusterCodes, ClusterError } from '../errors.js';
import { NODE_ID } from './options.js';

export const PROTOCOL_VERSION = 1;

export const FrameKind = {
  hello: 0x01,
  challenge: 0x02,
  response: 0x03,
  welcome: 0x04,
  batch: 0x10,
  ack: 0x11,
  ping: 0x12,
  pong: 0x13,
  bye: 0x14,
} as const;
export type FrameKindName = keyof typeof FrameKind;

/** WebSocket close codes this transport sends (4000–4999 are application codes). */
export const CloseCodes = {
  normal: 1000,
  /** The transport is shutting down. */
  goingAway: 1001,
  /** Broken WebSocket framing (sent by ws itself). */
  protocolError: 1002,
  /** A frame exceeded `maxPayload` (sent by ws itself). */
  tooBig: 1009,
  /** Not decodable, unknown kind, text frame, or fails the schema. */
  frameInvalid: 4001,
  /** A well-formed frame that is not allowed now (e.g. a batch before authentication). */
  unexpectedFrame: 4002,
  /** Wrong HMAC proof: the peer does not know the cluster secret. */
  authFailed: 4003,
  handshakeTimeout: 4004,
  /** Another live peer already holds this node id (or it is our own). */
  nodeIdClash: 4005,
  /** A frame over the limit that reached our own check. */
  frameTooLarge: 4006,
  /** A second connection of the same link won the tie-break. */
  superseded: 4007,
  /** Nothing heard from the peer within the heartbeat timeout. */
  heartbeatTimeout: 4008,
  /** Sequence gap, or an acknowledgement of something never sent. */
  protocolViolation: 4009,
  /** The dialed node authenticated under another node id. */
  wrongPeer: 4010,
  versionMismatch: 4011,
  /** The link was removed by `disconnect`. */
  removed: 4012,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/** Handshake frames are tiny; anything bigger before authentication is hostile. */
export const PREAUTH_MAX_BYTES = 4096;
export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;

const bytes = (n: number) => z.custom<Uint8Array>((b) => b instanceof Uint8Array && b.length === n, `expected ${n} bytes`);
const nodeId = z.string().regex(NODE_ID);
const incarnation = z.string().regex(/^[0-9a-f]{32}$/);
const seq = z.int().nonnegative();
/** Where a reconnecting side stands: delivered from the peer's incarnation, and its own oldest held seq. */
const resume = { recv: seq, base: z.int().positive() };

const schemas = {
  hello: z.strictObject({ v: z.int(), node: nodeId, inc: incarnation, nonce: bytes(NONCE_BYTES) }),
  challenge: z.strictObject({ v: z.int(), node: nodeId, inc: incarnation, nonce: bytes(NONCE_BYTES), proof: bytes(PROOF_BYTES) }),
  response: z.strictObject({ proof: bytes(PROOF_BYTES), ...resume }),
  welcome: z.strictObject(resume),
  ack: z.strictObject({ ack: seq }),
  ping: z.strictObject({ t: z.number() }),
  pong: z.strictObject({ t: z.number() }),
  bye: z.strictObject({ reason: z.string().max(200) }),
} as const;

type ControlKind = keyof typeof schemas;
export type ControlFrame = { [K in ControlKind]: { kind: K } & z.infer<(typeof schemas)[K]> }[ControlKind];
export type Resume = { recv: number; base: number };

const kindByByte = new Map<number, FrameKindName>(Object.entries(FrameKind).map(([k, v]) => [v, k as FrameKindName]));

// Control frames never use records: no state is shared before authentication.
const plainPackr = new Packr({ useRecords: false, variableMapSize: true });
const plainUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export function invalidFrame(message: string, cause?: unknown): ClusterError {
  return new ClusterError(ClusterCodes.frameInvalid, message, { field: 'frame', ...(cause === undefined ? {} : { cause }) });
}

/** The kind of a frame, or undefined for an empty frame or an unknown first byte. */
export function frameKind(frame: Uint8Array): FrameKindName | undefined {
  return frame.length === 0 ? undefined : kindByByte.get(frame[0]!);
}

export function encodeControl(frame: ControlFrame): Buffer {
  const { kind, ...body } = frame;
  const packed = plainPackr.pack(body);
  const out = Buffer.allocUnsafe(packed.length + 1);
  out[0] = FrameKind[kind];
  out.set(packed, 1);
  return out;
}

/** Decode and validate a control frame; throws ClusterError CLUSTER_FRAME_INVALID. */
export function decodeControl(frame: Uint8Array): ControlFrame {
  const kind = frameKind(frame);
  if (kind === undefined || kind === 'batch') throw invalidFrame(`not a control frame (first byte ${frame[0] ?? 'none'})`);
  let body: unknown;
  try {
    body = plainUnpackr.unpack(frame.subarray(1));
  } catch (err) {
    throw invalidFrame(`${kind} frame is not valid msgpack`, err);
  }
  const parsed = schemas[kind].safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidFrame(`${kind} frame: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return { kind, ...parsed.data } as ControlFrame;
}

/** The ClusterError code that goes with a close code, for events and typed errors. */
export function errorCodeFor(closeCode: number): string {
  switch (closeCode) {
    case CloseCodes.authFailed:
    case CloseCodes.wrongPeer:
      return ClusterCodes.authFailed;
    case CloseCodes.handshakeTimeout:
      return ClusterCodes.handshakeTimeout;
    case CloseCodes.nodeIdClash:
      return ClusterCodes.nodeIdClash;
    case CloseCodes.tooBig:
    case CloseCodes.frameTooLarge:
      return ClusterCodes.frameTooLarge;
    case CloseCodes.goingAway:
    case CloseCodes.removed:
      return ClusterCodes.closed;
    default:
      return ClusterCodes.frameInvalid;
  }
}
