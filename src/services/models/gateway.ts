// The model gateway: providers, catalog, routing, context windows and metrics
// behind the kernel. `register(kernel)` makes every catalogued model a `model`
// syscall, so an agent's `syscall({ kind: 'model', name, args })` is checked by
// the kernel (modelPolicy.allow, token budgets, audit) before the gateway
// routes and runs it. `stream()` serves in-process callers with a live stream,
// through the same two governance checks the syscall path makes. Each call's
// routing decision is audited, its span and metrics recorded, and the tokens
// charged up front settled with what it used when it ends (call.ts).

import type { Clock } from '../../base/clock.js';
import type { Contract } from '../../kernel/contract/index.js';
import { DEFAULT_TENANT, type SyscallRequest } from '../../kernel/governance.js';
import type { Kernel } from '../../kernel/kernel.js';
import { checkSyscallRequest, type SyscallContext } from '../../kernel/syscalls.js';
import { NO_TELEMETRY, type Telemetry, type TraceSpan } from '../../kernel/trace.js';
import { booked, fallbackRecord, modelSpan, routeRecord, type CallBooks } from './call.js';
import { ModelCatalog, providerOf, type ModelEntry } from './catalog.js';
import { ContextWindow, type ContextWindowState, type Summarizer } from './context-window.js';
import { ModelCodes, ModelError } from './errors.js';
import { LocalProvider, type LocalProviderOptions } from './local/provider.js';
import { ModelMetrics, type ModelTotals } from './metrics.js';
import { PiiRedactor, type Redactor } from './redact.js';
import { DEFAULT_MAX_TOKENS, parseCompletionRequest } from './request.js';
import { route, PLACEMENT_MODES, type Fallbacks, type PlacementMode, type RedactCloud, type RouteDecision, type RoutePolicy } from './router.js';
import { ModelStream, runPlan, type Attempt, type Completion, type RunDeps } from './run.js';
import type { Tokenizer } from './tokenizer.js';
import type { CompletionRequest, ModelProvider } from './types.js';

export interface ModelGatewayOptions {
  /** Models to route to (default: the local models). Each id's provider must be among `providers` (or `local`). */
  catalog?: ModelCatalog | readonly ModelEntry[];
  /** Providers besides the local one (e.g. an OpenAiCompatibleProvider named `ollama`). */
  providers?: readonly ModelProvider[];
  /** The local provider, or its options. */
  local?: LocalProvider | LocalProviderOptions;
  /** The node's placement mode (default `hybrid`). */
  mode?: PlacementMode;
  /** Fallback policy, for all calls or per requested model id (default `auto`: any model the contract allows). */
  fallbacks?: Fallbacks | Record<string, Fallbacks>;
  /** When to de-identify before a cloud model (default `sensitive`). */
  redactCloud?: RedactCloud;
  redactor?: Redactor;
  tokenizer?: Tokenizer;
  /** Called with the turns a window drops; its text stands in for them. */
  summarize?: Summarizer;
  /** Context-window state per model, from `contextState()` of an earlier run. */
  contextState?: Record<string, ContextWindowState>;
  /** Default: the kernel's clock. */
  clock?: Clock;
  /** Completion tokens reserved when a request has no `maxTokens` (default 512). */
  defaultMaxTokens?: number;
  /** Where `agentos.model` spans and metrics go (default: the kernel's telemetry). A syscall's span is always the parent when there is one. */
  telemetry?: Telemetry;
}

/** A model call from an in-process caller. */
export interface ModelCall extends CompletionRequest {
  /** The catalog id asked for: the name the kernel checks against `modelPolicy.allow`. */
  model: string;
  /** Tokens to charge to the caller's budgets (default: the estimated prompt plus `maxTokens`). */
  tokens?: number;
  /** Act for another actor: both contracts must allow the model. */
  onBehalfOf?: string;
  fallbacks?: Fallbacks;
}

/** What an agent's `model` syscall takes as `args`. */
export interface ModelSyscallArgs extends CompletionRequest {
  fallbacks?: Fallbacks;
}

/** The syscall context, with what newer kernels pass along (used when present). */
type CallContext = SyscallContext & { signal?: AbortSignal; onBehalfOf?: string };

/** The gateway registered with each kernel: how child logic running in an actor (streamCompletion) finds it. */
const byKernel = new WeakMap<object, ModelGateway>();

export class ModelGateway {
  readonly catalog: ModelCatalog;
  readonly local: LocalProvider;
  readonly mode: PlacementMode;
  private readonly providers = new Map<string, ModelProvider>();
  private readonly windows = new Map<string, ContextWindow>();
  private readonly totals = new ModelMetrics();
  private readonly redactor: Redactor;
  private readonly defaultMaxTokens: number;
  private kernel: Kernel | undefined;
  private registered: string[] = [];

  constructor(private readonly options: ModelGatewayOptions = {}) {
    const mode = options.mode ?? 'hybrid';
    if (!PLACEMENT_MODES.includes(mode)) throw new ModelError(ModelCodes.badConfig, `model gateway: mode must be one of ${PLACEMENT_MODES.join(', ')} (got ${JSON.stringify(mode)})`, { field: 'mode' });
    this.mode = mode;
    const max = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
    if (!Number.isInteger(max) || max < 1) throw new ModelError(ModelCodes.badConfig, `model gateway: defaultMaxTokens must be a positive integer (got ${max})`, { field: 'defaultMaxTokens' });
    this.defaultMaxTokens = max;
    this.local = options.local instanceof LocalProvider ? options.local : new LocalProvider(options.local);
    this.providers.set('local', this.local);
    for (const p of options.providers ?? []) this.addProvider(p);
    this.catalog = options.catalog instanceof ModelCatalog ? options.catalog : new ModelCatalog(options.catalog);
    for (const e of this.catalog.list()) this.providerFor(e.id);
    this.redactor = options.redactor ?? new PiiRedactor();
  }

  addProvider(provider: ModelProvider): void {
    if (typeof provider?.stream !== 'function' || typeof provider.name !== 'string') throw new ModelError(ModelCodes.badConfig, 'model gateway: a provider needs a name and a stream()', { field: 'providers' });
    if (this.providers.has(provider.name)) throw new ModelError(ModelCodes.badConfig, `model gateway: a provider named "${provider.name}" is already registered`, { field: 'providers' });
    this.providers.set(provider.name, provider);
  }

  /** Add a model to the catalog (and, once registered, to the kernel's syscalls). */
  addModel(entry: ModelEntry): void {
    this.catalog.add(entry);
    this.providerFor(entry.id);
    if (this.kernel && !this.registered.includes(entry.id)) this.registerModel(this.kernel, entry.id);
  }

  /** Make every catalogued model a `model` syscall of `kernel`. */
  register(kernel: Kernel): void {
    if (this.kernel && this.kernel !== kernel) throw new ModelError(ModelCodes.badConfig, 'model gateway: already registered with another kernel', { field: 'kernel' });
    this.kernel = kernel;
    byKernel.set(kernel, this);
    for (const e of this.catalog.list()) if (!this.registered.includes(e.id)) this.registerModel(kernel, e.id);
  }

  /** The gateway registered with `kernel` (an actor cell's host), if any. */
  static of(kernel: object): ModelGateway | undefined {
    return byKernel.get(kernel);
  }

  /**
   * Stream a completion for `actorId`. Policy first, as on the syscall path:
   * the model must be in the caller's `modelPolicy.allow` (precheck, then the
   * request is validated, then the audited check that charges `tokens`); then
   * the call is routed. Rejects with the kernel's PolicyDenied / BudgetExceeded,
   * or a ModelError; the stream itself throws ModelErrors (MODEL_ABORTED on `signal`).
   * `parent`: the span the call's `agentos.model` span goes under (e.g. the caller's turn);
   * default the active OpenTelemetry context.
   */
  async stream(actorId: string, call: ModelCall, signal?: AbortSignal, parent?: TraceSpan): Promise<ModelStream> {
    const kernel = this.requireKernel();
    const { model, tokens, onBehalfOf, fallbacks, ...rest } = (call ?? {}) as ModelCall;
    const policyRequest: SyscallRequest = { kind: 'model', name: model, ...(tokens === undefined ? {} : { tokens }), ...(onBehalfOf === undefined ? {} : { onBehalfOf }) };
    checkSyscallRequest(policyRequest);
    await kernel.governance.precheck(actorId, policyRequest);
    this.catalog.require(model);
    const request = parseCompletionRequest(rest);
    if (tokens === undefined) policyRequest.tokens = this.estimate(actorId, model, request);
    await kernel.governance.check(actorId, policyRequest, signal);
    const reserved = kernel.governance.claimModelReservation(actorId, model) ?? policyRequest.tokens ?? 0;
    return this.open(actorId, model, request, { reserved, ...(parent ? { span: parent } : {}), ...(fallbacks === undefined ? {} : { fallbacks }), ...(onBehalfOf === undefined ? {} : { onBehalfOf }), ...(signal ? { signal } : {}) });
  }

  /** `stream()` read to the end. */
  async complete(actorId: string, call: ModelCall, signal?: AbortSignal): Promise<Completion> {
    return (await this.stream(actorId, call, signal)).collect();
  }

  /** Totals per model: calls, failures by code, tokens, cost, mean TTFT. */
  metrics(): Record<string, ModelTotals> {
    return this.totals.snapshot();
  }

  /** Plain data per model (tokenizer calibration, last usage): keep it in a checkpoint, pass it back as `contextState`. */
  contextState(): Record<string, ContextWindowState> {
    return Object.fromEntries([...this.windows].map(([id, w]) => [id, w.state()]));
  }

  /** The routing decision a call would get, without running it (for tooling and tests). */
  explain(actorId: string, model: string, request: CompletionRequest, fallbacks?: Fallbacks, onBehalfOf?: string): RouteDecision {
    return this.decide(actorId, model, parseCompletionRequest(request), fallbacks, onBehalfOf);
  }

  // ── internals ──────────────────────────────────────────────────────────

  private registerModel(kernel: Kernel, id: string): void {
    kernel.syscalls.register('model', id, {
      validate: (args) => parseSyscallArgs(args),
      // A completion changes nothing in the world: after a crash it may simply run again.
      idempotent: true,
      handler: async (args, ctx) => {
        const { request, fallbacks } = args as { request: CompletionRequest; fallbacks?: Fallbacks };
        const c = ctx as CallContext;
        // What the kernel's check charged for this call; a call that declared no tokens is charged the estimate now.
        const governance = this.requireKernel().governance;
        let reserved = governance.claimModelReservation(ctx.actor, id);
        if (reserved === undefined) {
          reserved = this.estimate(ctx.actor, id, request);
          governance.reserveModelTokens(ctx.actor, id, reserved);
        }
        const stream = this.open(ctx.actor, id, request, {
          reserved,
          ...(c.span ? { span: c.span } : {}),
          ...(fallbacks === undefined ? {} : { fallbacks }),
          ...(c.onBehalfOf === undefined ? {} : { onBehalfOf: c.onBehalfOf }),
          ...(c.signal ? { signal: c.signal } : {}),
        });
        return stream.collect();
      },
    });
    this.registered.push(id);
  }

  private open(
    actorId: string,
    requested: string,
    request: CompletionRequest,
    o: { reserved: number; span?: TraceSpan; fallbacks?: Fallbacks; onBehalfOf?: string; signal?: AbortSignal },
  ): ModelStream {
    const kernel = this.requireKernel();
    const governance = kernel.governance;
    const tenant = governance.admittedActor(actorId)?.tenant ?? DEFAULT_TENANT;
    const telemetry = this.options.telemetry ?? (kernel as { telemetry?: Telemetry }).telemetry ?? NO_TELEMETRY;
    const span = modelSpan(telemetry, o.span, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': requested, 'agentos.actor': actorId });
    const books: CallBooks = {
      governance,
      telemetry,
      span,
      actor: actorId,
      tenant,
      requested,
      reserved: o.reserved,
      placementOf: (id) => this.catalog.get(id)?.placement,
      count: (id, text) => this.window(id).tokenizer.count(text),
    };
    let decision: RouteDecision;
    try {
      decision = this.decide(actorId, requested, request, o.fallbacks, o.onBehalfOf, books);
    } catch (err) {
      // Nothing ran: the reservation goes back.
      if (o.reserved > 0) governance.settleModelTokens(actorId, tenant, requested, o.reserved, 0, { outcome: 'failed', code: (err as { code?: string }).code ?? ModelCodes.noRoute });
      span.end(err);
      throw err;
    }
    const head = decision.candidates[0]!;
    span.set({
      'agentos.model.provider': providerOf(head.id),
      'agentos.model.placement': this.catalog.require(head.id).placement,
      'agentos.model.deidentified': head.redact,
      'agentos.route.reason': decision.reason,
    });
    const deps: RunDeps = {
      clock: this.clock(),
      catalog: this.catalog,
      provider: (name) => this.providers.get(name)!,
      window: (id) => this.window(id),
      redactor: this.redactor,
      metrics: this.totals,
      emit: (type, data) => kernel.emit(type, data),
      fellBack: (failed, next) => governance.record(fallbackRecord(books, failed, next)),
    };
    const maxTokens = request.maxTokens ?? this.defaultMaxTokens;
    const track: { attempt?: Attempt } = {};
    const run = runPlan(deps, { actor: actorId, requested, request, maxTokens, decision, track, ...(o.signal ? { signal: o.signal } : {}) });
    return new ModelStream(decision, booked(run, track, books));
  }

  /** The routing decision; with `books` (a real call, not `explain`) it is announced and audited. */
  private decide(actorId: string, requested: string, request: CompletionRequest, fallbacks: Fallbacks | undefined, onBehalfOf: string | undefined, books?: CallBooks): RouteDecision {
    const kernel = this.requireKernel();
    const maxTokens = request.maxTokens ?? this.defaultMaxTokens;
    const window = this.window(requested);
    const base = {
      requested,
      wantTokens: window.estimate(request.messages, request.tools) + maxTokens,
      minTokens: window.minimum(request.messages, request.tools) + maxTokens,
      mode: this.mode,
      fallbacks: fallbacks ?? this.fallbacksFor(requested),
      ...(this.options.redactCloud ? { redactCloud: this.options.redactCloud } : {}),
    };
    const models = this.catalog.list().map((e) => ({ ...e, network: this.providerFor(e.id).network }));
    let decision = route(models, { ...base, policy: this.policyOf(actorId) });
    if (onBehalfOf !== undefined) {
      // Delegation narrows: a model must suit both contracts, in the narrower window.
      const theirs = route(models, { ...base, policy: this.policyOf(onBehalfOf) });
      const mine = new Map(theirs.candidates.map((c) => [c.id, c]));
      const candidates = decision.candidates
        .filter((c) => mine.has(c.id))
        .map((c) => {
          const theirsC = mine.get(c.id)!;
          const redactBy = c.redactBy ?? theirsC.redactBy;
          return { ...c, window: Math.min(c.window, theirsC.window), redact: c.redact || theirsC.redact, ...(redactBy === undefined ? {} : { redactBy }) };
        });
      decision = { candidates, rejected: [...decision.rejected, ...theirs.rejected], reason: `${decision.reason}; on behalf of ${onBehalfOf}: ${theirs.reason}` };
    }
    if (books) {
      const privacy = this.policyOf(actorId).privacy;
      kernel.governance.record(routeRecord(books, decision, { mode: this.mode, fallbacks: base.fallbacks, ...(privacy === undefined ? {} : { privacy }), ...(onBehalfOf === undefined ? {} : { onBehalfOf }) }));
    }
    const head = decision.candidates[0];
    if (!head) {
      throw new ModelError(ModelCodes.noRoute, decision.reason, { field: 'model', details: { rejected: decision.rejected } });
    }
    if (books) kernel.emit('@agentos.model.routed', { actor: actorId, requested, model: head.id, candidates: decision.candidates.map((c) => c.id), reason: decision.reason });
    return decision;
  }

  private estimate(actorId: string, model: string, request: CompletionRequest): number {
    const policy = this.policyOf(actorId);
    const prompt = this.window(model).estimate(request.messages, request.tools);
    return Math.min(prompt, policy.maxContextTokens ?? Infinity) + (request.maxTokens ?? this.defaultMaxTokens);
  }

  private policyOf(actorId: string): RoutePolicy {
    const contract: Contract | undefined = this.requireKernel().governance.admittedActor(actorId)?.contract;
    const mp = contract?.modelPolicy;
    return {
      allow: mp?.allow ?? [],
      ...(mp?.max_context_tokens === undefined ? {} : { maxContextTokens: mp.max_context_tokens }),
      ...(mp?.privacy === undefined ? {} : { privacy: mp.privacy }),
      ...(mp?.placement === undefined ? {} : { placement: mp.placement }),
      ...(mp?.redact_pii === undefined ? {} : { redactPii: mp.redact_pii }),
      ...(mp?.deidentify === undefined ? {} : { deidentify: mp.deidentify }),
    };
  }

  private fallbacksFor(requested: string): Fallbacks {
    const f = this.options.fallbacks;
    if (f === undefined || f === false || f === 'auto' || Array.isArray(f)) return (f as Fallbacks | undefined) ?? 'auto';
    return (f as Record<string, Fallbacks>)[requested] ?? 'auto';
  }

  private window(model: string): ContextWindow {
    let w = this.windows.get(model);
    if (!w) {
      const state = this.options.contextState?.[model];
      w = new ContextWindow({
        ...(this.options.tokenizer ? { tokenizer: this.options.tokenizer } : {}),
        ...(this.options.summarize ? { summarize: this.options.summarize } : {}),
        ...(state ? { state } : {}),
      });
      // Only catalogued models keep state: the map stays as small as the catalog.
      if (this.catalog.get(model)) this.windows.set(model, w);
    }
    return w;
  }

  private providerFor(id: string): ModelProvider {
    const p = this.providers.get(providerOf(id));
    if (!p) throw new ModelError(ModelCodes.badConfig, `model gateway: model "${id}" needs a provider named "${providerOf(id)}" (have ${[...this.providers.keys()].join(', ')})`, { field: 'providers' });
    return p;
  }

  private clock(): Clock {
    return this.options.clock ?? this.requireKernel().clock;
  }

  private requireKernel(): Kernel {
    if (!this.kernel) throw new ModelError(ModelCodes.notRegistered, 'model gateway: call register(kernel) first', { field: 'kernel' });
    return this.kernel;
  }
}

/** The syscall's `args`: a completion request, plus an optional fallback policy. */
function parseSyscallArgs(args: unknown): { request: CompletionRequest; fallbacks?: Fallbacks } {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new ModelError(ModelCodes.badRequest, 'model syscall: args must be { messages, tools?, maxTokens?, temperature?, seed?, fallbacks? }', { field: 'args' });
  }
  const { fallbacks, ...rest } = args as ModelSyscallArgs;
  if (fallbacks !== undefined && fallbacks !== false && fallbacks !== 'auto' && !(Array.isArray(fallbacks) && fallbacks.every((f) => typeof f === 'string'))) {
    throw new ModelError(ModelCodes.badRequest, "model syscall: fallbacks must be false, 'auto' or a list of model ids", { field: 'fallbacks' });
  }
  return { request: parseCompletionRequest(rest), ...(fallbacks === undefined ? {} : { fallbacks }) };
}
