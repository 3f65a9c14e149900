// The blackboard controller: knowledge sources register with trigger patterns,
// a priority and an optional precondition; every durable write in the
// controller's tenant puts the sources it triggers on the agenda, and a strategy
// (priority, fifo, seeded random, or your own) picks which runs next. The chosen
// source gets `board.activate` (an ask) and the controller waits for its reply
// before picking again — one activation at a time, so on a virtual clock a run
// is a function of the seed. Its decisions are taken in the board actor's turns
// (changes arrive with the board's commits, finished activations as
// `board.activated` messages), in order with the writes they react to.

import { canonicalJson } from '../../base/canonical.js';
import type { AgentOsError } from '../../base/errors.js';
import { seededRng, type Rng } from '../../base/rng.js';
import { Agenda, controllerStrategies, topicsOf, type AgendaItem, type BoardChange, type ControllerStrategy, type ControllerStrategyName } from './agenda.js';
import type { BoardView } from './board.js';
import { BlackboardCodes, BlackboardError } from './errors.js';
import { checkPattern, topicMatches } from './names.js';

export interface KnowledgeSource {
  /** Actor id of the source: an admitted agent of the controller's tenant that answers `board.activate` (reply when done). */
  id: string;
  /** Topic globs whose writes put the source on the agenda. */
  trigger: string | readonly string[];
  /** Higher runs first under the `priority` strategy (default 0). */
  priority?: number;
  /** Asked when the source is picked: false takes it off the agenda unrun (counted as skipped). A throw counts as false. */
  precondition?: (board: BoardView, item: AgendaItem) => boolean;
}

export interface ControllerOptions {
  name: string;
  /** The tenant whose writes it reacts to and whose actors it activates (default `default`). */
  tenant?: string;
  strategy?: ControllerStrategyName | ControllerStrategy;
  /** Randomness for the strategy (default: `seededRng(seed ?? 0)`). */
  rng?: Rng;
  seed?: number;
  /** How long an activation may take before it counts as failed (ASK_TIMEOUT), on the node clock (default 60 s). */
  activationTimeoutMs?: number;
  /** Stop after this many activations (default unlimited). */
  maxActivations?: number;
  /** Activation records kept in `history` (default 10,000, oldest dropped first). */
  historyLimit?: number;
  /** Called with each finished activation. */
  onActivation?: (record: ActivationRecord) => void;
}

export interface ActivationRecord {
  controller: string;
  activation: number;
  source: string;
  priority: number;
  /** The topics whose changes triggered it. */
  topics: string[];
  /** Agenda length when it was picked (itself included). */
  agenda: number;
  startedAt: number;
  endedAt: number;
  outcome: 'done' | 'failed';
  /** The error code of a failed activation. */
  code?: string;
  /** The source's reply (JSON data up to 16 KiB; else left out). */
  result?: unknown;
}

export interface ControllerStats {
  name: string;
  tenant: string;
  state: 'running' | 'stopped' | 'limit';
  activations: number;
  done: number;
  failed: number;
  skipped: number;
  agenda: number;
  /** The source running now, if any. */
  active: string | undefined;
  sources: number;
}

/** `board.activate`: what a knowledge source receives (add `boardActivateMessage` to its schema). */
export interface ActivateMessage {
  type: 'board.activate';
  controller: string;
  activation: number;
  topics: string[];
}

/** `board.activated`: an activation's outcome, back to the board actor. */
export interface ActivatedMessage {
  type: 'board.activated';
  controller: string;
  activation: number;
  ok: boolean;
  result?: unknown;
  code?: string;
}

/** What a controller needs from its service. */
export interface ControllerHost {
  now(): number;
  view(tenant: string): BoardView;
  /** The tenant an actor was admitted under (undefined: no such actor). */
  tenantOf(actorId: string): string | undefined;
  /** Ask the source (kernel.ask). */
  activate(source: string, message: ActivateMessage, timeoutMs: number): Promise<unknown>;
  /** Hand an outcome to the board actor, whose turn calls `finished`. */
  report(message: ActivatedMessage): void;
}

interface Running {
  activation: number;
  source: string;
  priority: number;
  topics: string[];
  agenda: number;
  startedAt: number;
}

export class BlackboardController {
  readonly name: string;
  readonly tenant: string;
  /** Finished activations, oldest first (bounded by `historyLimit`). */
  readonly history: ActivationRecord[] = [];
  private readonly sources = new Map<string, { priority: number; triggers: string[]; precondition: KnowledgeSource['precondition'] }>();
  private readonly agenda = new Agenda();
  private readonly strategy: ControllerStrategy;
  private readonly rng: Rng;
  private running: Running | undefined;
  private seq = 0;
  private state: ControllerStats['state'] = 'running';
  private readonly counts = { done: 0, failed: 0, skipped: 0 };
  private waiters: (() => void)[] = [];

  constructor(
    private readonly host: ControllerHost,
    private readonly options: ControllerOptions,
  ) {
    this.name = options.name;
    this.tenant = options.tenant ?? 'default';
    const s = options.strategy ?? 'priority';
    const strategy = typeof s === 'function' ? s : Object.hasOwn(controllerStrategies, s) ? controllerStrategies[s] : undefined;
    if (!strategy) invalid('strategy', `must be 'priority', 'fifo', 'random' or a function (got ${JSON.stringify(s)})`);
    this.strategy = strategy!;
    this.rng = options.rng ?? seededRng(options.seed ?? 0);
    for (const k of ['activationTimeoutMs', 'maxActivations', 'historyLimit'] as const) {
      const v = options[k];
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) invalid(k, `must be a positive integer (got ${String(v)})`);
    }
  }

  /** Add a knowledge source (its actor must be running in the controller's tenant). */
  register(source: KnowledgeSource): void {
    const bad = (field: string, why: string): never => {
      throw new BlackboardError(BlackboardCodes.invalidSource, `controller "${this.name}": ${field} ${why}`, { field });
    };
    if (typeof source !== 'object' || source === null) bad('source', 'must be { id, trigger, priority?, precondition? }');
    if (typeof source.id !== 'string' || source.id.length === 0) bad('id', 'must be an actor id');
    const tenant = this.host.tenantOf(source.id);
    if (tenant === undefined) bad('id', `names no running actor ("${source.id}")`);
    if (tenant !== this.tenant) bad('id', `"${source.id}" runs in tenant ${tenant}, not the controller's tenant ${this.tenant}`);
    if (this.sources.has(source.id)) bad('id', `"${source.id}" is already registered`);
    const triggers = typeof source.trigger === 'string' ? [source.trigger] : [...(source.trigger ?? [])];
    if (triggers.length === 0) bad('trigger', 'must name at least one topic pattern');
    triggers.forEach((t, i) => checkPattern(t, `trigger[${i}]`));
    const priority = source.priority ?? 0;
    if (!Number.isFinite(priority)) bad('priority', 'must be a finite number');
    if (source.precondition !== undefined && typeof source.precondition !== 'function') bad('precondition', 'must be a function (board, item) => boolean');
    this.sources.set(source.id, { priority, triggers, precondition: source.precondition });
  }

  unregister(id: string): boolean {
    this.agenda.remove(id);
    return this.sources.delete(id);
  }

  /** A write in the tenant became durable (from the board). */
  changed(change: BoardChange): void {
    if (this.state !== 'running') return;
    for (const [id, s] of this.sources) {
      if (s.triggers.some((t) => topicMatches(t, change.topic))) this.agenda.trigger(id, s.priority, change);
    }
    this.pump();
  }

  /** An activation finished (the board's turn handling `board.activated`). */
  finished(msg: ActivatedMessage): void {
    const run = this.running;
    if (!run || run.activation !== msg.activation) return; // not ours, or a repeat
    this.running = undefined;
    const record: ActivationRecord = {
      controller: this.name,
      activation: run.activation,
      source: run.source,
      priority: run.priority,
      topics: run.topics,
      agenda: run.agenda,
      startedAt: run.startedAt,
      endedAt: this.host.now(),
      outcome: msg.ok ? 'done' : 'failed',
      ...(msg.code === undefined ? {} : { code: msg.code }),
      ...(msg.result === undefined ? {} : { result: msg.result }),
    };
    if (msg.ok) this.counts.done++;
    else this.counts.failed++;
    // A source whose actor is gone for good leaves the controller with it.
    if (msg.code === 'UNKNOWN_ACTOR') this.unregister(run.source);
    this.history.push(record);
    if (this.history.length > (this.options.historyLimit ?? 10_000)) this.history.shift();
    try {
      this.options.onActivation?.(record);
    } catch {
      // An observer's bug must not stop the controller.
    }
    this.pump();
  }

  /** Resolves when nothing runs and the agenda is empty (or the controller stopped). */
  idle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get isIdle(): boolean {
    return this.running === undefined && (this.agenda.size === 0 || this.state !== 'running');
  }

  /** No more activations (one running finishes and is recorded). */
  stop(): void {
    if (this.state === 'running') this.state = 'stopped';
    this.wake();
  }

  stats(): ControllerStats {
    return {
      name: this.name,
      tenant: this.tenant,
      state: this.state,
      activations: this.seq,
      ...this.counts,
      agenda: this.agenda.size,
      active: this.running?.source,
      sources: this.sources.size,
    };
  }

  private pump(): void {
    while (this.running === undefined && this.state === 'running' && this.agenda.size > 0) {
      if (this.seq >= (this.options.maxActivations ?? Infinity)) {
        this.state = 'limit';
        break;
      }
      const items = this.agenda.list();
      const size = items.length;
      let index: number;
      try {
        index = this.strategy(items, this.rng);
      } catch {
        index = -1;
      }
      if (!Number.isInteger(index) || index < 0 || index >= size) {
        // A strategy bug (a throw, or no valid index): stop picking rather than guess; the board carries on.
        this.state = 'stopped';
        break;
      }
      const item = this.agenda.take(index);
      const source = this.sources.get(item.source);
      if (!source) continue;
      if (!this.ready(source.precondition, item)) {
        this.counts.skipped++;
        continue;
      }
      this.start(item, size);
    }
    this.wake();
  }

  private ready(precondition: KnowledgeSource['precondition'], item: AgendaItem): boolean {
    if (!precondition) return true;
    try {
      return precondition(this.host.view(this.tenant), item) === true;
    } catch {
      return false;
    }
  }

  private start(item: AgendaItem, agenda: number): void {
    const activation = ++this.seq;
    const topics = topicsOf(item);
    this.running = { activation, source: item.source, priority: item.priority, topics, agenda, startedAt: this.host.now() };
    const message: ActivateMessage = { type: 'board.activate', controller: this.name, activation, topics };
    const report = (outcome: Omit<ActivatedMessage, 'type' | 'controller' | 'activation'>): void => {
      const msg: ActivatedMessage = { type: 'board.activated', controller: this.name, activation, ...outcome };
      try {
        this.host.report(msg);
      } catch {
        this.finished(msg); // the node is stopping: record it here
      }
    };
    this.host.activate(item.source, message, this.options.activationTimeoutMs ?? 60_000).then(
      (result) => report({ ok: true, ...dataOrNothing(result) }),
      (err: unknown) => report({ ok: false, code: (err as AgentOsError)?.code ?? 'ERROR' }),
    );
  }

  private wake(): void {
    if (!this.isIdle) return;
    for (const w of this.waiters.splice(0)) w();
  }
}

function invalid(field: string, why: string): never {
  throw new BlackboardError(BlackboardCodes.invalidSource, `controller: ${field} ${why}`, { field });
}

/** A source's reply as `result` when it is JSON data of at most 16 KiB. */
function dataOrNothing(result: unknown): { result?: unknown } {
  if (result === undefined) return {};
  try {
    const json = canonicalJson(result, { maxDepth: 32 });
    return json.length <= 16 * 1024 ? { result: JSON.parse(json) } : {};
  } catch {
    return {};
  }
}
