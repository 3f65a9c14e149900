// BlackboardService: a shared, typed, versioned board per tenant, persisted in
// the node's LMDB. `start()` runs the board actor (`agentos.blackboard`) under
// the kernel's system supervisor. Agents reach it by invoking the `blackboard`
// logic: the caller's identity and tenant come from the kernel (its cell and
// admission), its contract capabilities are checked here (refusals audited),
// and the request goes to the board actor as a typed message through the
// kernel's router. Why not a kernel syscall: the syscall table checks one fixed
// capability name per call before any handler runs, which cannot express
// per-topic grants (`blackboard.write.<topic>`), and its kinds are tool, model
// and memory. The node's owner reaches the board with `tenant(t)` (no
// capability check) or acts as an actor with `as(id)`.

import type { RootDatabase } from 'lmdb';
import { type JsonValue } from '../../base/canonical.js';
import { ActorError, AgentOsError, ErrorCodes, PolicyDenied } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import { ID_PATTERN } from '../../kernel/spawn-checks.js';
import { mayRead, mayWrite, readCapability, readScope, readsNothing, writeCapability } from './access.js';
import { BOARD_ID, boardDefinition, type BoardMessage, type BoardReply } from './actor.js';
import { BoardCore } from './board.js';
import { BlackboardController, type ControllerHost, type ControllerOptions, type ControllerStats } from './controller.js';
import { BlackboardCodes, BlackboardError, errorFromData } from './errors.js';
import { checkPattern, checkTopic } from './names.js';
import { parseRequest } from './requests.js';
import { TopicSchemas, type TopicSchema } from './schemas.js';
import { BoardStore, type BoardEntry } from './store.js';
import { Subscriptions } from './subscriptions.js';

export interface BlackboardOptions {
  /** The node's LMDB environment (the board opens its own `blackboard` sub-database). */
  db: RootDatabase;
  kernel: Kernel;
  /** Topic schemas to start with (same as `defineTopic` for each). */
  topics?: Record<string, TopicSchema>;
  /** Largest value, as canonical JSON (default 64 KiB, at most 512 KiB). */
  maxValueBytes?: number;
  /** Most topics one tenant may hold (default 10,000). */
  maxTopicsPerTenant?: number;
  /** Most subscription patterns one actor may hold (default 64). */
  maxSubscriptions?: number;
  /** Most entries a query returns (default 1,000). */
  maxQueryResults?: number;
  /** `sync` (default): a write is acknowledged once flushed to disk; `async`: once committed. */
  durability?: 'sync' | 'async';
  /** How long a request may wait for the board actor, on the node clock (default 30 s). */
  requestTimeoutMs?: number;
}

/** One tenant's board, as an actor (`as`) or as the node's owner (`tenant`) sees it. */
export interface BoardClient {
  post<V = JsonValue>(topic: string, value: V, options?: { expectedVersion?: number }): Promise<BoardEntry<V>>;
  read<V = JsonValue>(topic: string): Promise<BoardEntry<V> | null>;
  query<V = JsonValue>(pattern: string, options?: { limit?: number }): Promise<BoardEntry<V>[]>;
  /** Actors only: `board.changed` messages for writes to topics the pattern selects. */
  subscribe(pattern: string): Promise<void>;
  unsubscribe(pattern?: string): Promise<number>;
}

export interface BlackboardStats {
  tenants: number;
  topics: number;
  writes: number;
  staleWrites: number;
  refused: number;
  denied: number;
  notified: number;
  /** Notifications not delivered (full mailbox) and subscriptions dropped (subscriber gone or not accepting `board.changed`). */
  notificationsLost: number;
  subscriptionsDropped: number;
  subscriptions: number;
  pendingWrites: number;
  failed: boolean;
  controllers: ControllerStats[];
}

type Caller = { kind: 'actor'; id: string } | { kind: 'owner'; tenant: string; by: string };

const services = new WeakMap<object, BlackboardService>();

export class BlackboardService {
  readonly id = BOARD_ID;
  private readonly kernel: Kernel;
  private readonly core: BoardCore;
  private readonly schemas = new TopicSchemas();
  private readonly subscriptions = new Subscriptions();
  private readonly controllers = new Map<string, BlackboardController>();
  private readonly limits: { maxSubscriptions: number; maxQueryResults: number; requestTimeoutMs: number };
  private readonly counts = { denied: 0, notified: 0, notificationsLost: 0, subscriptionsDropped: 0 };
  private closed = false;

  /** The service running on a kernel (what the `blackboard` invoke logic uses). */
  static of(kernel: object): BlackboardService | undefined {
    return services.get(kernel);
  }

  constructor(options: BlackboardOptions) {
    const o = checkOptions(options);
    this.kernel = options.kernel;
    this.limits = { maxSubscriptions: o.maxSubscriptions, maxQueryResults: o.maxQueryResults, requestTimeoutMs: o.requestTimeoutMs };
    for (const [name, schema] of Object.entries(options.topics ?? {})) this.schemas.define(name, schema);
    this.core = new BoardCore({
      store: new BoardStore(options.db),
      schemas: this.schemas,
      now: () => this.kernel.clock.now(),
      audit: (r) => this.kernel.governance.record(r),
      maxValueBytes: o.maxValueBytes,
      maxTopicsPerTenant: o.maxTopicsPerTenant,
      durability: o.durability,
      committed: (tenant, entry) => this.committed(tenant, entry),
    });
  }

  /** Start the board actor under the system supervisor (once per kernel). */
  async start(): Promise<void> {
    if (services.has(this.kernel)) throw new BlackboardError(BlackboardCodes.invalidOptions, 'this kernel already runs a blackboard service', { field: 'kernel' });
    services.set(this.kernel, this);
    try {
      await this.kernel.system.startService(BOARD_ID, boardDefinition((m, from) => this.handle(m, from)));
    } catch (err) {
      services.delete(this.kernel);
      throw err;
    }
  }

  /** Give a topic (or every topic a glob selects) a schema: writes that fail it are refused naming the field. */
  defineTopic(name: string, schema: TopicSchema): void {
    this.schemas.define(name, schema);
  }

  /** The board as an admitted actor sees it: its tenant, its capabilities (what its `blackboard` invokes do). */
  as(actorId: string): BoardClient {
    return this.client({ kind: 'actor', id: actorId });
  }

  /** The board of one tenant as the node's owner sees it: no capability check; writes are recorded `by` the label given (default `host`). */
  tenant(tenant = 'default', options: { by?: string } = {}): BoardClient {
    if (typeof tenant !== 'string' || !ID_PATTERN.test(tenant)) {
      throw new BlackboardError(BlackboardCodes.invalidOptions, `tenant must be 1-128 letters, digits and _.:@- (got ${JSON.stringify(tenant)})`, { field: 'tenant' });
    }
    const by = options.by ?? 'host';
    if (typeof by !== 'string' || by.length === 0 || by.length > 128) throw new BlackboardError(BlackboardCodes.invalidOptions, 'by must be a label of 1-128 characters', { field: 'by' });
    return this.client({ kind: 'owner', tenant, by });
  }

  /** A controller over one tenant's board (names are unique per service). */
  controller(options: ControllerOptions): BlackboardController {
    if (typeof options?.name !== 'string' || options.name.length === 0 || options.name.length > 128) {
      throw new BlackboardError(BlackboardCodes.invalidSource, 'controller name must be 1-128 characters', { field: 'name' });
    }
    if (this.controllers.has(options.name)) throw new BlackboardError(BlackboardCodes.invalidSource, `controller "${options.name}" exists`, { field: 'name' });
    if (options.tenant !== undefined && !ID_PATTERN.test(options.tenant)) {
      throw new BlackboardError(BlackboardCodes.invalidSource, `controller tenant must be 1-128 letters, digits and _.:@- (got ${JSON.stringify(options.tenant)})`, { field: 'tenant' });
    }
    const ctl = new BlackboardController(this.controllerHost(), options);
    this.controllers.set(ctl.name, ctl);
    return ctl;
  }

  /** Stop a controller and forget it. */
  removeController(name: string): boolean {
    this.controllers.get(name)?.stop();
    return this.controllers.delete(name);
  }

  /** A request on behalf of an actor (the `blackboard` invoke logic calls this with the invoking actor's id). */
  request(actorId: string, input: unknown): Promise<unknown> {
    return this.perform({ kind: 'actor', id: actorId }, input);
  }

  /** Resolves once every write accepted so far is durable. */
  settled(): Promise<void> {
    return this.core.settled();
  }

  stats(): BlackboardStats {
    const size = this.core.size();
    return {
      ...size,
      writes: this.core.counts.writes,
      staleWrites: this.core.counts.stale,
      refused: this.core.counts.refused,
      ...this.counts,
      subscriptions: this.subscriptions.size,
      pendingWrites: this.core.pendingWrites,
      failed: this.core.failed !== undefined,
      controllers: [...this.controllers.values()].map((c) => c.stats()),
    };
  }

  /** Refuse new requests, stop the controllers, and wait until every accepted write is durable (before LMDB closes). */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.controllers.values()) c.stop();
    if (services.get(this.kernel) === this) services.delete(this.kernel);
    await this.core.settled().catch(() => undefined);
  }

  // ── requests ───────────────────────────────────────────────────────────

  private client(caller: Caller): BoardClient {
    return {
      post: (topic, value, options) => this.perform(caller, { op: 'post', topic, value, ...(options?.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }) }) as never,
      read: (topic) => this.perform(caller, { op: 'read', topic }) as never,
      query: (pattern, options) => this.perform(caller, { op: 'query', pattern, ...(options?.limit === undefined ? {} : { limit: options.limit }) }) as never,
      subscribe: async (pattern) => {
        await this.perform(caller, { op: 'subscribe', pattern });
      },
      unsubscribe: (pattern) => this.perform(caller, pattern === undefined ? { op: 'unsubscribe' } : { op: 'unsubscribe', pattern }) as Promise<number>,
    };
  }

  private async perform(caller: Caller, input: unknown): Promise<unknown> {
    if (this.closed) throw new BlackboardError(BlackboardCodes.unavailable, 'the blackboard service is closed', { field: 'blackboard' });
    const req = parseRequest(input);
    const { tenant, by, caps } = this.identify(caller);
    const deny = (capability: string, subject: string): never => this.deny(caller, tenant, req.op, capability, subject);
    switch (req.op) {
      case 'post':
        checkTopic(req.topic);
        if (caps && !mayWrite(caps, req.topic)) deny(writeCapability(req.topic), req.topic);
        return this.ask({ type: 'board.post', tenant, by, topic: req.topic, value: req.value, ...(req.expectedVersion === undefined ? {} : { expectedVersion: req.expectedVersion }) });
      case 'read':
        checkTopic(req.topic);
        if (caps && !mayRead(caps, req.topic)) deny(readCapability(req.topic), req.topic);
        return this.ask({ type: 'board.read', tenant, topic: req.topic });
      case 'query': {
        checkPattern(req.pattern);
        const scope = caps ? readScope(caps) : 'all';
        if (caps && readsNothing(caps)) deny('blackboard.read', req.pattern);
        const limit = Math.min(req.limit ?? this.limits.maxQueryResults, this.limits.maxQueryResults);
        return this.ask({ type: 'board.query', tenant, pattern: req.pattern, limit, ...(scope === 'all' ? {} : { only: scope }) });
      }
      case 'subscribe':
      case 'unsubscribe': {
        if (caller.kind !== 'actor') throw new BlackboardError(BlackboardCodes.invalidRequest, `${req.op}: only an actor can subscribe (use as(actorId))`, { field: 'op' });
        if (req.pattern !== undefined) checkPattern(req.pattern);
        if (req.op === 'subscribe' && caps && readsNothing(caps)) deny('blackboard.read', req.pattern);
        return req.op === 'subscribe'
          ? this.ask({ type: 'board.subscribe', tenant, subscriber: caller.id, pattern: req.pattern })
          : this.ask({ type: 'board.unsubscribe', tenant, subscriber: caller.id, ...(req.pattern === undefined ? {} : { pattern: req.pattern }) });
      }
    }
  }

  /** Tenant, writer label and capabilities of a caller, from the kernel (an owner has no capability check). */
  private identify(caller: Caller): { tenant: string; by: string; caps: string[] | undefined } {
    if (caller.kind === 'owner') return { tenant: caller.tenant, by: caller.by, caps: undefined };
    const admitted = this.kernel.governance.admittedActor(caller.id);
    if (!admitted) throw new ActorError(ErrorCodes.unknownActor, `no admitted actor "${caller.id}" on this node`, { field: 'actor' });
    return { tenant: admitted.tenant, by: caller.id, caps: this.kernel.governance.policy.effectiveCapabilities(caller.id) };
  }

  private deny(caller: Caller, tenant: string, op: string, capability: string, subject: string): never {
    const actor = caller.kind === 'actor' ? caller.id : caller.by;
    const reason = `Actor "${actor}" lacks capability "${capability}" (blackboard ${op} of "${subject}")`;
    this.counts.denied++;
    try {
      this.kernel.governance.record({ kind: 'blackboard', decision: 'denied', actor, tenant, subject, reason, data: { op, capability } });
    } catch {
      // The node stopping: the refusal stands.
    }
    throw new PolicyDenied('CAPABILITY_DENIED', reason, { field: op === 'query' || op === 'subscribe' ? 'pattern' : 'topic', details: { capability } });
  }

  private async ask(message: BoardMessage): Promise<unknown> {
    const reply = (await this.kernel.ask(BOARD_ID, message, { timeoutMs: this.limits.requestTimeoutMs })) as BoardReply;
    if (reply.ok) return reply.value;
    throw errorFromData(reply.error);
  }

  // ── the board actor's turns ───────────────────────────────────────────

  private handle(m: BoardMessage, from: string | undefined): BoardReply | Promise<BoardReply> | undefined {
    if (from !== undefined) {
      return failed(new PolicyDenied('CAPABILITY_DENIED', `"${from}": agents reach the blackboard by invoking the blackboard logic, not by messages`, { field: 'to' }));
    }
    try {
      switch (m.type) {
        case 'board.post': {
          const { entry, durable } = this.core.post(m);
          return durable.then(() => ok(entry), failed);
        }
        case 'board.read':
          return this.afterWrites(this.core.read(m.tenant, m.topic));
        case 'board.query':
          return this.afterWrites(this.core.query(m.tenant, m.pattern, { ...(m.only ? { only: m.only } : {}), ...(m.limit === undefined ? {} : { limit: m.limit }) }));
        case 'board.subscribe': {
          const token = this.kernel.governance.admittedActor(m.subscriber);
          if (!token) throw new ActorError(ErrorCodes.unknownActor, `no admitted actor "${m.subscriber}"`, { field: 'subscriber' });
          this.counts.subscriptionsDropped += this.subscriptions.sweep(m.tenant, (sub) => this.kernel.governance.admittedActor(sub.subscriber) === sub.token);
          this.subscriptions.add(m.tenant, m.subscriber, m.pattern, token, this.limits.maxSubscriptions);
          return ok(null);
        }
        case 'board.unsubscribe':
          return ok(this.subscriptions.remove(m.tenant, m.subscriber, m.pattern));
        case 'board.activated':
          this.controllers.get(m.controller)?.finished(m);
          return undefined;
      }
    } catch (err) {
      if (err instanceof AgentOsError) return this.afterWrites(err);
      throw err; // a bug: the board actor crashes and is restarted
    }
  }

  /** Answers go out once the writes before them are durable: no one learns of a write a crash could still undo. */
  private afterWrites(value: unknown): Promise<BoardReply> {
    return this.core.settled().then(() => (value instanceof AgentOsError ? failed(value) : ok(value)), failed);
  }

  /** A write is durable: tell its subscribers, then the tenant's controllers. */
  private committed(tenant: string, entry: BoardEntry): void {
    for (const sub of this.subscriptions.matching(tenant, entry.topic)) {
      const governance = this.kernel.governance;
      if (governance.admittedActor(sub.subscriber) !== sub.token) {
        this.subscriptions.drop(tenant, sub.subscriber); // stopped, or the id now belongs to another actor
        this.counts.subscriptionsDropped++;
        continue;
      }
      if (!mayRead(governance.policy.effectiveCapabilities(sub.subscriber), entry.topic)) continue;
      try {
        this.kernel.send(sub.subscriber, { type: 'board.changed', topic: entry.topic, version: entry.version, value: entry.value, by: entry.by, at: entry.at });
        this.counts.notified++;
      } catch (err) {
        const code = (err as AgentOsError).code;
        if (code === ErrorCodes.unknownActor || code === ErrorCodes.unknownMessageType || code === ErrorCodes.invalidMessage) {
          this.subscriptions.drop(tenant, sub.subscriber);
          this.counts.subscriptionsDropped++;
        } else this.counts.notificationsLost++;
      }
    }
    for (const c of this.controllers.values()) if (c.tenant === tenant) c.changed({ topic: entry.topic, version: entry.version, by: entry.by });
  }

  private controllerHost(): ControllerHost {
    const k = this.kernel;
    return {
      now: () => k.clock.now(),
      view: (tenant) => this.core.view(tenant),
      tenantOf: (id) => k.governance.admittedActor(id)?.tenant,
      activate: (source, message, timeoutMs) => k.ask(source, message, { timeoutMs }),
      report: (message) => k.send(BOARD_ID, message),
    };
  }
}

const ok = (value: unknown): BoardReply => ({ ok: true, value });

function failed(err: unknown): BoardReply {
  const e = err instanceof AgentOsError ? err : new BlackboardError('BLACKBOARD_FAILED', String((err as Error)?.message ?? err));
  return { ok: false, error: { code: e.code, message: e.message, ...(e.field === undefined ? {} : { field: e.field }), ...(e.details === undefined ? {} : { details: e.details }) } };
}

function checkOptions(o: BlackboardOptions): Required<Omit<BlackboardOptions, 'db' | 'kernel' | 'topics'>> {
  const bad = (field: string, why: string): never => {
    throw new BlackboardError(BlackboardCodes.invalidOptions, `blackboard: ${field} ${why}`, { field });
  };
  if (typeof o !== 'object' || o === null) bad('options', 'must be { db, kernel, … }');
  if (typeof o.db?.openDB !== 'function') bad('db', 'must be the node’s LMDB root database');
  if (typeof o.kernel?.ask !== 'function') bad('kernel', 'must be the node’s kernel');
  const int = (field: string, v: number | undefined, dflt: number, max = Number.MAX_SAFE_INTEGER): number => {
    const x = v ?? dflt;
    if (!Number.isSafeInteger(x) || x < 1 || x > max) bad(field, `must be an integer from 1 to ${max} (got ${String(v)})`);
    return x;
  };
  const durability = o.durability ?? 'sync';
  if (durability !== 'sync' && durability !== 'async') bad('durability', `must be 'sync' or 'async' (got ${JSON.stringify(o.durability)})`);
  return {
    maxValueBytes: int('maxValueBytes', o.maxValueBytes, 64 * 1024, 512 * 1024),
    maxTopicsPerTenant: int('maxTopicsPerTenant', o.maxTopicsPerTenant, 10_000),
    maxSubscriptions: int('maxSubscriptions', o.maxSubscriptions, 64),
    maxQueryResults: int('maxQueryResults', o.maxQueryResults, 1000),
    requestTimeoutMs: int('requestTimeoutMs', o.requestTimeoutMs, 30_000, 2 ** 31 - 1),
    durability,
  };
}
