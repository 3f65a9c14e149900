// The local control endpoint: JSON over HTTP on 127.0.0.1 only, for the
// `agentos` commands that talk to a running node (ps, tree, send, ask,
// approvals, audit). Every request
// carries `Authorization: Bearer <token>`; the token is random per start and
// sits with the port in `<dataDir>/<node>/control.json`, created 0600, so only
// the node's owner can read it. The server never throws into the node: a
// failing request is a JSON error `{ error: { code, message } }`.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { AgentOsError, ErrorCodes, StorageError, isAgentOsError } from '../base/errors.js';
import { PolicyCodes } from '../kernel/policy/index.js';
import { ControlCodes, ControlError, V1_ROUTES, matchRoute, type ControlRoute } from './control-routes.js';
import type { AgentOsNode } from './node.js';
import { nodePaths } from './storage.js';

export { ControlCodes, ControlError, V1_ROUTES, type ControlRoute, type ControlRequest, type PsResponse, type TreeResponse, type ClusterResponse } from './control-routes.js';
export type { ApprovalsResponse, ApproveResponse, AskResponse, AuditHeadResponse, AuditVerifyResponse, MigrateResponse, RejectResponse, SendResponse } from './control-actions.js';
export { psRows, stateLabel, type LaneFigures, type PsRow } from '../kernel/ps-rows.js';

export const CONTROL_FILE = 'control.json';
export const CONTROL_HOST = '127.0.0.1';
/** Largest request body accepted (for POST routes). */
export const MAX_CONTROL_BODY = 1024 * 1024;

/** What `control.json` holds: where the node's control endpoint listens, and its token. */
export interface ControlFile {
  version: 1;
  node: string;
  pid: number;
  host: typeof CONTROL_HOST;
  port: number;
  token: string;
}

export interface ControlServerOptions {
  /** Only the loopback address: the endpoint is never reachable from another machine. */
  host?: typeof CONTROL_HOST;
  /** 0 (default): any free port; the chosen one is in `control.json`. */
  port?: number;
  /** Extra routes, matched before the built-in ones. */
  routes?: readonly ControlRoute[];
  maxBodyBytes?: number;
}

export interface ControlServer {
  readonly port: number;
  /** The `control.json` this server wrote (removed on close). */
  readonly file: string;
  /** Stop listening, drop open connections and remove `control.json`. Idempotent. */
  close(): Promise<void>;
}

export function controlFilePath(dataDir: string, node: string): string {
  return join(nodePaths(dataDir, node).root, CONTROL_FILE);
}

/** The control file of a node, or undefined if there is none. Throws a StorageError if it is not one. */
export function readControlFile(path: string): ControlFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StorageError('CONTROL_FILE_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, { field: 'dataDir', cause: err });
  }
  let value: Partial<ControlFile>;
  try {
    value = JSON.parse(text) as Partial<ControlFile>;
  } catch {
    value = {};
  }
  const ok =
    value?.version === 1 &&
    typeof value.node === 'string' &&
    Number.isSafeInteger(value.pid) &&
    value.host === CONTROL_HOST &&
    Number.isInteger(value.port) &&
    value.port! > 0 &&
    value.port! <= 65_535 &&
    typeof value.token === 'string' &&
    /^[0-9a-f]{64}$/.test(value.token);
  if (!ok) throw new StorageError('CONTROL_FILE_INVALID', `${path} is not a control file of agentos (version 1); remove it if no node runs there`, { field: 'dataDir' });
  return value as ControlFile;
}

/** Write `content` to `path` as a file that is 0600 from its creation, replacing any older one atomically. */
function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

function bearerMatches(header: string | undefined, token: Buffer): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7).trim() : '');
  // timingSafeEqual needs equal lengths; comparing against the token itself keeps the time independent of the guess.
  return timingSafeEqual(given.length === token.length ? given : token, token) && given.length === token.length;
}

/** HTTP statuses of the AgentOsError codes that are not a plain bad request (400). */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  [ErrorCodes.unknownActor]: 404,
  [PolicyCodes.approvalNotFound]: 404,
  [PolicyCodes.sodViolation]: 403,
  [PolicyCodes.approverNotAuthorized]: 403,
  [PolicyCodes.approvalDecided]: 409,
  [ErrorCodes.actorStopped]: 409,
  [ErrorCodes.mailboxFull]: 503,
  [ErrorCodes.nodeStopped]: 503,
  [ErrorCodes.askTimeout]: 504,
};

/** HTTP status for an AgentOsError a route handler threw. */
function statusOf(err: AgentOsError): number {
  if (err instanceof ControlError) return err.status;
  return STATUS_OF_CODE[err.code] ?? 400;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The body as JSON, at most `max` bytes. A longer one is a 413: read on (unkept) up to a hard limit so the
 * client gets the answer rather than a reset, and the connection is closed after it.
 */
async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const tooLarge = (): ControlError => new ControlError(413, ControlCodes.bodyTooLarge, `request body over ${max} bytes`, { details: { maxBytes: max } });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const drainLimit = Math.max(max * 4, MAX_CONTROL_BODY);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > drainLimit) break; // the stream is destroyed: the client sees the connection drop
    if (size <= max) chunks.push(chunk as Buffer);
  }
  if (size > max) throw tooLarge();
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ControlError(400, ControlCodes.invalidJson, 'expected a JSON body, got none', { field: 'body' });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ControlError(400, ControlCodes.invalidJson, `the body is not JSON: ${(err as Error).message}`, { field: 'body' });
  }
}

function checkOptions(options: ControlServerOptions): { port: number; maxBody: number } {
  const host = options.host ?? CONTROL_HOST;
  if (host !== CONTROL_HOST) throw new AgentOsError(ErrorCodes.invalidOptions, `control endpoint: host must be ${CONTROL_HOST} (got ${JSON.stringify(host)}); it is never exposed beyond this machine`, { field: 'host' });
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new AgentOsError(ErrorCodes.invalidOptions, `control endpoint: port must be an integer 0-65535 (got ${String(port)})`, { field: 'port' });
  const maxBody = options.maxBodyBytes ?? MAX_CONTROL_BODY;
  if (!Number.isInteger(maxBody) || maxBody < 0) throw new AgentOsError(ErrorCodes.invalidOptions, `control endpoint: maxBodyBytes must be a non-negative integer (got ${String(maxBody)})`, { field: 'maxBodyBytes' });
  return { port, maxBody };
}

/**
 * Serve `node`'s control endpoint on 127.0.0.1 and write `control.json` (port and token, mode 0600) in the
 * node's directory. Closes by itself when the node stops.
 */
export async function startControlServer(node: AgentOsNode, options: ControlServerOptions = {}): Promise<ControlServer> {
  const { port: wanted, maxBody } = checkOptions(options);
  const routes = [...(options.routes ?? []), ...V1_ROUTES];
  const token = randomBytes(32).toString('hex');
  const tokenBytes = Buffer.from(token);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A browser page cannot read the token, but refuse it outright: the CLI never sends an Origin.
    if (req.headers.origin !== undefined) throw new ControlError(403, ControlCodes.forbidden, 'requests from a browser (with an Origin header) are refused');
    if (!bearerMatches(req.headers.authorization, tokenBytes)) throw new ControlError(401, ControlCodes.unauthorized, `missing or wrong bearer token (it is in ${file})`);
    const url = new URL(req.url ?? '/', `http://${CONTROL_HOST}`);
    const match = matchRoute(routes, req.method ?? '', url.pathname);
    if (match === undefined) throw new ControlError(404, ControlCodes.notFound, `no endpoint ${url.pathname}`, { field: 'path' });
    if ('methods' in match) {
      throw new ControlError(405, ControlCodes.methodNotAllowed, `${req.method ?? ''} is not allowed on ${url.pathname} (allowed: ${match.methods.join(', ')})`, {
        field: 'method',
        details: { allow: match.methods },
      });
    }
    const allowed = new Set(match.route.query ?? []);
    for (const key of url.searchParams.keys()) {
      if (!allowed.has(key)) {
        const accepts = allowed.size === 0 ? 'no query parameters' : `only ${[...allowed].join(', ')}`;
        throw new ControlError(400, ControlCodes.badRequest, `unknown query parameter "${key.slice(0, 40)}" for ${url.pathname} (it accepts ${accepts})`, { field: key.slice(0, 40) });
      }
    }
    const body = match.route.body ? await readJson(req, maxBody) : undefined;
    const result = await match.route.handle({ node, params: match.params, query: url.searchParams, body });
    send(res, 200, result ?? {});
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      try {
        const agentErr = isAgentOsError(err) ? err : undefined;
        const status = agentErr ? statusOf(agentErr) : 500;
        const headers: Record<string, string> = {};
        if (status === 401) headers['www-authenticate'] = 'Bearer';
        if (status === 405) headers.allow = ((agentErr?.details?.allow as string[] | undefined) ?? []).join(', ');
        if (status === 413) headers.connection = 'close';
        const error = agentErr ? { code: agentErr.code, message: agentErr.message, ...(agentErr.field === undefined ? {} : { field: agentErr.field }) } : { code: ControlCodes.internal, message: err instanceof Error ? err.message : String(err) };
        send(res, status, { error }, headers);
      } catch {
        res.destroy();
      }
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('error', () => {}); // after listen: nothing to report to, and nothing may reach the node

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted, CONTROL_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    throw new AgentOsError(ControlCodes.listenFailed, `control endpoint of node "${node.name}": cannot listen on ${CONTROL_HOST}:${wanted}: ${(err as Error).message}`, { field: 'port', cause: err });
  });
  const port = (server.address() as { port: number }).port;
  const root = nodePaths(node.dataDir, node.name).root;
  const file = join(root, CONTROL_FILE);
  const content: ControlFile = { version: 1, node: node.name, pid: process.pid, host: CONTROL_HOST, port, token };
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    writePrivateFile(file, `${JSON.stringify(content)}\n`);
  } catch (err) {
    server.close();
    throw new StorageError('CONTROL_FILE_FAILED', `cannot write the control file ${file}: ${(err as Error).message}`, { field: 'dataDir', cause: err });
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // Only our own file: a later server for this node may have replaced it.
      try {
        if (readControlFile(file)?.token === token) unlinkSync(file);
      } catch {
        // gone or replaced: not ours to remove
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    })());
  void node.stopped.then(close, close);
  return { port, file, close };
}
