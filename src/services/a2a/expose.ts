// exposeA2A: serve an agentos agent over the A2A protocol (JSON-RPC, protocol
// 1.0 and the 0.3 methods `message/send` / `message/stream`), with its agent card
// at the well-known path. External callers act as one admitted actor (`as`): its
// contract must grant the capability `a2a.serve.<agent>` (consent and audit
// apply), and what they send reaches the agent as an A2A `request` from it,
// through the node's bus. Hostile input stays at the edge: bounded bodies,
// JSON-RPC errors for bad frames, loopback Host checks, an optional bearer token.

import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AGENT_CARD_PATH, type AgentCard } from '@a2a-js/sdk';
import { DefaultRequestHandler, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import type { Kernel } from '../../kernel/kernel.js';
import { validateCapability } from '../../kernel/policy/index.js';
import { a2aBusOf, createA2ABus, type A2ABus } from './bus.js';
import { A2ACodes, A2AError } from './errors.js';
import { ExposedRun, type RunDeps } from './expose-run.js';
import { GuardedRequestHandler } from './expose-guard.js';
import { BoundedTaskStore } from './task-store.js';

export interface A2ACardInput {
  name: string;
  description: string;
  /** Default '1.0.0'. */
  version?: string;
  /** Default: one skill named after the card. */
  skills?: { id: string; name: string; description: string; tags?: string[]; examples?: string[] }[];
  provider?: { organization: string; url: string };
  documentationUrl?: string;
  iconUrl?: string;
}

export interface ExposeA2AOptions {
  /** The agentos actor A2A callers talk to. */
  agent: string | { id: string };
  /** The admitted actor callers act as: its contract must grant `capability`. */
  as: string;
  card: A2ACardInput;
  /** Default 127.0.0.1 (loopback binds check the Host header against DNS rebinding). */
  host?: string;
  /** Default 0: any free port (read it back from `url`). */
  port?: number;
  /** JSON-RPC endpoint path (default `/a2a`). */
  path?: string;
  /** How long the agent has to answer one message, ms (default 30,000). */
  timeoutMs?: number;
  /** Largest request body (default 1 MiB); larger ones get HTTP 413 and a JSON-RPC error. */
  maxBodyBytes?: number;
  /** Require `Authorization: Bearer <token>` on the JSON-RPC endpoint (the card stays public). */
  token?: string;
  /** The capability checked on the principal (default `a2a.serve.<agent>`). */
  capability?: string;
  /** Tasks kept for GetTask/ListTasks (default 1,000; oldest forgotten). */
  maxTasks?: number;
}

export interface A2AServing {
  /** Base URL: the card is at `${url}/.well-known/agent-card.json`. */
  readonly url: string;
  /** The JSON-RPC endpoint. */
  readonly endpoint: string;
  readonly card: AgentCard;
  /** Calls in progress. */
  running(): number;
  /** Tasks remembered. */
  tasks(): number;
  /** Stop serving: calls in progress end failed (A2A_CLOSED), connections are closed. */
  close(): Promise<void>;
}

/** A node (its kernel and, once wired, its bus) or a bare kernel. */
export type ExposeHost = Kernel | { kernel: Kernel; a2a?: A2ABus };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

class Executor implements AgentExecutor {
  readonly runs = new Map<string, ExposedRun>();
  constructor(private readonly deps: RunDeps) {}

  async execute(ctx: RequestContext, events: ExecutionEventBus): Promise<void> {
    const run = new ExposedRun(this.deps, ctx, events);
    this.runs.set(ctx.taskId, run);
    try {
      await run.run();
    } finally {
      if (this.runs.get(ctx.taskId) === run) this.runs.delete(ctx.taskId);
    }
  }

  async cancelTask(taskId: string): Promise<void> {
    this.runs.get(taskId)?.cancel();
  }
}

export async function exposeA2A(host: ExposeHost, options: ExposeA2AOptions): Promise<A2AServing> {
  const kernel = kernelOf(host);
  const o = checkOptions(kernel, options);
  const bus = (host as { a2a?: A2ABus }).a2a ?? a2aBusOf(kernel) ?? createA2ABus(kernel);
  const executor = new Executor({ kernel, bus, agent: o.agent, as: o.as, capability: o.capability, timeoutMs: o.timeoutMs });
  const store = new BoundedTaskStore(o.maxTasks);

  const app = express();
  app.disable('x-powered-by');
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${shownHost}:${port}`;
  const endpoint = `${url}${o.path}`;
  const card = cardOf(o.cardInput, o.agent, endpoint);
  const handler = new GuardedRequestHandler(new DefaultRequestHandler(card, store, executor), bus);

  if (LOOPBACK.has(o.host)) app.use(hostGuard([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]));
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler, legacyCompat: { enabled: true } }));
  app.use(o.path, bearerGuard(o.token), express.json({ limit: o.maxBodyBytes }), jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } }));
  app.use((_req: Request, res: Response) => rpcError(res, 404, -32601, `no A2A endpoint here; JSON-RPC is at ${o.path}, the card at /${AGENT_CARD_PATH}`));
  app.use(edgeErrors(o.maxBodyBytes));

  let closing: Promise<void> | undefined;
  return {
    url,
    endpoint,
    card,
    running: () => executor.runs.size,
    tasks: () => store.size,
    close: () =>
      (closing ??= (async () => {
        for (const run of [...executor.runs.values()]) run.abort(new A2AError(A2ACodes.closed, `A2A serving of "${o.agent}" was closed`));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })()),
  };
}

function kernelOf(host: ExposeHost): Kernel {
  const k = (host as { kernel?: Kernel }).kernel ?? host;
  if (typeof (k as Kernel)?.syscall !== 'function' || typeof (k as Kernel)?.governance !== 'object') {
    throw new A2AError(A2ACodes.invalidOptions, 'exposeA2A: host must be a node or a kernel', { field: 'host' });
  }
  return k as Kernel;
}

function checkOptions(kernel: Kernel, options: ExposeA2AOptions) {
  const bad = (field: string, why: string): never => {
    throw new A2AError(A2ACodes.invalidOptions, `exposeA2A: ${field} ${why}`, { field });
  };
  if (typeof options !== 'object' || options === null) bad('options', 'must be an object');
  const agent = typeof options.agent === 'string' ? options.agent : options.agent?.id;
  if (typeof agent !== 'string' || kernel.lookup(agent) === undefined) bad('agent', `must name a running actor of this node (got ${JSON.stringify(agent)})`);
  if (typeof options.as !== 'string' || kernel.governance.admittedActor(options.as) === undefined) {
    bad('as', `must name an actor admitted on this node (got ${JSON.stringify(options.as)}); spawn the principal A2A callers act as first`);
  }
  const card = options.card;
  if (typeof card?.name !== 'string' || card.name.length === 0 || card.name.length > 200) bad('card.name', 'must be a non-empty string (at most 200 characters)');
  if (typeof card.description !== 'string' || card.description.length === 0 || card.description.length > 4000) bad('card.description', 'must be a non-empty string (at most 4000 characters)');
  const path = options.path ?? '/a2a';
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~/-]*$/.test(path) || path.startsWith('/.well-known')) bad('path', `must be a URL path like "/a2a" (got ${JSON.stringify(path)})`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad('port', `must be a port number 0-65535 (got ${String(port)})`);
  const num = (field: 'timeoutMs' | 'maxBodyBytes' | 'maxTasks', fallback: number, max: number): number => {
    const v = options[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) bad(field, `must be a whole number from 1 to ${max} (got ${String(v)})`);
    return v;
  };
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 8)) bad('token', 'must be a string of at least 8 characters');
  const capability = options.capability ?? `a2a.serve.${agent}`;
  try {
    validateCapability(capability, 'capability');
    if (capability.includes('*')) throw new Error('a wildcard');
  } catch {
    bad('capability', `must be a capability name like "a2a.serve.planner" (got ${JSON.stringify(capability)})`);
  }
  return {
    agent: agent!,
    as: options.as,
    cardInput: card,
    host: options.host ?? '127.0.0.1',
    port,
    path: path === '/' ? '/' : path.replace(/\/+$/, ''),
    timeoutMs: num('timeoutMs', 30_000, 2 ** 31 - 1),
    maxBodyBytes: num('maxBodyBytes', 1024 * 1024, 64 * 1024 * 1024),
    maxTasks: num('maxTasks', 1000, 1_000_000),
    token: options.token,
    capability,
  };
}

function cardOf(input: A2ACardInput, agent: string, endpoint: string): AgentCard {
  const modes = ['text/plain', 'application/json'];
  const skills = (input.skills ?? [{ id: agent, name: input.name, description: input.description }]).map((s) => ({
    id: String(s.id),
    name: String(s.name),
    description: String(s.description),
    tags: [...(s.tags ?? [])],
    examples: [...(s.examples ?? [])],
    inputModes: modes,
    outputModes: modes,
    securityRequirements: [],
  }));
  return {
    name: input.name,
    description: input.description,
    version: input.version ?? '1.0.0',
    supportedInterfaces: [
      { url: endpoint, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' },
      { url: endpoint, protocolBinding: 'JSONRPC', protocolVersion: '0.3', tenant: '' },
    ],
    provider: input.provider,
    ...(input.documentationUrl === undefined ? {} : { documentationUrl: input.documentationUrl }),
    ...(input.iconUrl === undefined ? {} : { iconUrl: input.iconUrl }),
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: modes,
    defaultOutputModes: modes,
    skills,
    signatures: [],
  };
}

function rpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** Loopback only: a page on another origin cannot reach the agent through DNS rebinding. */
function hostGuard(allowed: string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (allowed.includes(String(req.headers.host ?? ''))) return next();
    rpcError(res, 403, -32600, `Host ${JSON.stringify(req.headers.host ?? '')} is not allowed`);
  };
}

function bearerGuard(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === undefined) return next();
    const header = req.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    const want = Buffer.from(token);
    if (given.length === want.length && timingSafeEqual(given, want)) return next();
    rpcError(res, 401, -32600, 'missing or wrong bearer token');
  };
}

/** Body-parser refusals (too large, not JSON) as JSON-RPC errors; anything else as an internal error. */
function edgeErrors(maxBodyBytes: number) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string; status?: number };
    if (e?.type === 'entity.too.large') return rpcError(res, 413, -32600, `request body larger than ${maxBodyBytes} bytes`);
    if (e?.type === 'entity.parse.failed') return rpcError(res, 400, -32700, 'request body is not JSON');
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return rpcError(res, e.status, -32600, 'malformed request');
    rpcError(res, 500, -32603, 'internal error');
  };
}
