// The node's admission controller: `check` decides whether one more actor fits (HRT
// schedulability with jitter, CPU and memory reservations, model policy) without changing
// anything; `admit` does the same, records the reservation or throws an AdmissionError naming the constraint.

import { AdmissionError, ContractError } from '../../base/errors.js';
import { describeModelRefusal, INVALID_ADMISSION_REQUEST, matchModels, validateModelPolicy, type ModelCatalog, type ModelPolicy, type ModelRejection } from './catalog.js';
import { edfTest } from './edf.js';
import { placeOnLane } from './partition.js';
import { rmTest } from './fixedPriority.js';
import { ms, normaliseTask, ratio, type HrtPolicy, type HrtVerdict, type NormalTask } from './task.js';

export const ADMISSION_REFUSED = 'ADMISSION_REFUSED';

export type LatencyClass = 'HRT' | 'SRT' | 'DT';

/**
 * What admission needs from an Agent Contract (the lead maps contract fields onto this):
 * `latency` ← latency class; `hrt` ← period/wcet/deadline/jitter (ms, HRT only, required for
 * HRT and ignored otherwise); `compute` ← resource reservations; `model` ← model policy.
 */
export interface AdmissionRequest {
  id: string;
  latency: LatencyClass;
  hrt?: { periodMs: number; wcetMs: number; deadlineMs?: number; jitterMs?: number };
  compute?: { cpuMillis?: number; memBytes?: number };
  model?: ModelPolicy;
  /** An HRT actor that runs on an HRT lane (tested per lane, partitioned EDF), not on the main thread. */
  lane?: boolean;
}

export interface NodeCapacity {
  cpuMillis: number;
  memBytes: number;
}

export interface AdmissionControllerOptions {
  /** Schedulability policy for HRT actors on this node (default `edf`). */
  hrtPolicy?: HrtPolicy;
  capacity: NodeCapacity;
  /** Needed only to admit requests with a model policy. */
  catalog?: ModelCatalog;
  /** HRT lanes (worker threads) lane actors are placed on, first fit (default 1). */
  hrtLanes?: number;
}

export type Constraint = 'id' | 'hrt' | 'jitter' | 'cpu' | 'mem' | 'model';

export interface Refusal {
  constraint: Constraint;
  /** The request field the refusal is about (e.g. `hrt`, `compute.cpuMillis`, `model.allow`). */
  field: string;
  message: string;
  figures: Record<string, number | string>;
}

export interface ResourceFigures {
  before: number;
  after: number;
  capacity: number;
}

/** The outcome of `check`/`admit`, with every figure that went into it. */
export interface Decision {
  id: string;
  admitted: boolean;
  /** 'admitted "x": …' or every refusal, joined. */
  message: string;
  refusals: Refusal[];
  /** Present for HRT requests: the set before and the verdict on the set with this actor added. */
  hrt?: { policy: HrtPolicy; before: { tasks: number; utilisation: number }; after: HrtVerdict };
  compute: { cpuMillis: ResourceFigures; memBytes: ResourceFigures };
  /** For a lane actor: the lane it was placed on. */
  lane?: number;
  /** Present when the request has a model policy; `chosen` is the first eligible model. */
  model?: { eligible: string[]; chosen: string | undefined; rejected: ModelRejection[] };
}

export interface Reservation {
  id: string;
  latency: LatencyClass;
  task: NormalTask | undefined;
  cpuMillis: number;
  memBytes: number;
  model: string | undefined;
  /** The HRT lane of a lane actor. */
  lane?: number;
}

export interface ReservationSnapshot {
  hrtPolicy: HrtPolicy;
  capacity: NodeCapacity;
  reservations: Reservation[];
  cpuMillis: number;
  memBytes: number;
  hrtUtilisation: number;
}

function invalid(field: string, message: string): ContractError {
  return new ContractError(INVALID_ADMISSION_REQUEST, `${field} ${message}`, { field });
}

function amount(value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(field, `must be a finite number ≥ 0, got ${String(value)}`);
  return value;
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${Number(v.toFixed(2))} ${units[u]}`;
}

function describeTask(t: NormalTask): string {
  const parts = [`wcet ${ms(t.wcetMs)}`, `period ${ms(t.periodMs)}`];
  if (t.deadlineMs !== t.periodMs) parts.push(`deadline ${ms(t.deadlineMs)}`);
  if (t.jitterMs > 0) parts.push(`jitter ${ms(t.jitterMs)}`);
  return `adding "${t.id}": ${parts.join(' / ')}`;
}

/** The headline of an HRT refusal, from the verdict that refused. */
function hrtHeadline(v: HrtVerdict): string {
  if (v.test === 'utilisation') return `HRT utilisation would be ${ratio(v.utilisation)} > ${ratio(v.bound)}`;
  if (v.test === 'response-time') {
    const r = v.responseTimes?.find((x) => x.id === v.failingTask);
    return r
      ? `HRT response time of "${r.id}" would be ≥ ${ms(r.responseMs)} > deadline ${ms(r.deadlineMs)} under RM (utilisation ${ratio(v.utilisation)}, Liu–Layland bound ${v.bound.toFixed(4)})`
      : `HRT set would be unschedulable: ${v.reason}`;
  }
  if (v.demand && v.failingTask === undefined) {
    return `HRT processor demand would be ${ms(v.demand.demandMs)} in the first ${ms(v.demand.atMs)} > ${ms(v.demand.atMs)} under EDF (utilisation ${ratio(v.utilisation)}, density ${ratio(v.density)})`;
  }
  return `HRT set would be unschedulable: ${v.reason}`;
}

function hrtFigures(v: HrtVerdict, before: number): Record<string, number | string> {
  const figures: Record<string, number | string> = {
    policy: v.policy, test: v.test, utilisationBefore: before, utilisationAfter: v.utilisation,
    density: v.density, bound: v.bound,
  };
  if (v.test === 'utilisation') figures.excess = v.utilisation - v.bound;
  if (v.demand) Object.assign(figures, { atMs: v.demand.atMs, demandMs: v.demand.demandMs, excessMs: v.demand.demandMs - v.demand.atMs });
  const r = v.responseTimes?.find((x) => x.id === v.failingTask);
  if (r) Object.assign(figures, { failingTask: r.id, responseMs: r.responseMs, deadlineMs: r.deadlineMs, excessMs: r.responseMs - r.deadlineMs });
  return figures;
}

export class AdmissionController {
  private readonly policy: HrtPolicy;
  private readonly capacity: NodeCapacity;
  private readonly catalog: ModelCatalog | undefined;
  private readonly held = new Map<string, Reservation>();
  // Running totals, so a decision costs O(HRT tasks), not O(all reservations).
  private readonly hrtTasks = new Map<string, NormalTask>();
  /** Lane actors: id → lane. */
  private readonly laneOf = new Map<string, number>();
  private readonly lanes: number;
  private usedCpu = 0;
  private usedMem = 0;

  constructor(options: AdmissionControllerOptions) {
    const policy = options.hrtPolicy ?? 'edf';
    if (policy !== 'edf' && policy !== 'rm') throw invalid('hrtPolicy', `must be 'edf' or 'rm', got ${String(policy)}`);
    this.policy = policy;
    this.capacity = {
      cpuMillis: amount(options.capacity?.cpuMillis, 'capacity.cpuMillis'),
      memBytes: amount(options.capacity?.memBytes, 'capacity.memBytes'),
    };
    this.catalog = options.catalog;
    this.lanes = options.hrtLanes ?? 1;
    if (!Number.isInteger(this.lanes) || this.lanes < 1) throw invalid('hrtLanes', `must be a whole number ≥ 1, got ${String(options.hrtLanes)}`);
  }

  /** Decide without reserving anything. Throws ContractError only for a malformed request. */
  check(request: AdmissionRequest): Decision {
    return this.decide(request).decision;
  }

  /** Decide and, if admitted, reserve. Throws AdmissionError (`ADMISSION_REFUSED`) on refusal. */
  admit(request: AdmissionRequest): Decision {
    const { decision, reservation } = this.decide(request);
    if (!decision.admitted) {
      const first = decision.refusals[0];
      throw new AdmissionError(ADMISSION_REFUSED, decision.message, {
        field: first.field,
        details: { id: decision.id, constraint: first.constraint, figures: first.figures, refusals: decision.refusals },
      });
    }
    this.held.set(reservation.id, reservation);
    this.usedCpu += reservation.cpuMillis;
    this.usedMem += reservation.memBytes;
    if (reservation.task) this.hrtTasks.set(reservation.id, reservation.task);
    if (reservation.lane !== undefined) this.laneOf.set(reservation.id, reservation.lane);
    return decision;
  }

  /** Give back an actor's reservation; false if it held none. */
  release(id: string): boolean {
    const r = this.held.get(id);
    if (!r) return false;
    this.held.delete(id);
    this.usedCpu -= r.cpuMillis;
    this.usedMem -= r.memBytes;
    this.hrtTasks.delete(id);
    this.laneOf.delete(id);
    return true;
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  snapshot(): ReservationSnapshot {
    const reservations = [...this.held.values()].map((r) => ({ ...r, task: r.task && { ...r.task } }));
    return {
      hrtPolicy: this.policy,
      capacity: { ...this.capacity },
      reservations,
      cpuMillis: reservations.reduce((s, r) => s + r.cpuMillis, 0),
      memBytes: reservations.reduce((s, r) => s + r.memBytes, 0),
      hrtUtilisation: reservations.reduce((s, r) => s + (r.task ? r.task.wcetMs / r.task.periodMs : 0), 0),
    };
  }

  private decide(request: AdmissionRequest): { decision: Decision; reservation: Reservation } {
    const { id, latency } = this.validate(request);
    const refusals: Refusal[] = [];
    if (this.held.has(id)) {
      refusals.push({ constraint: 'id', field: 'id', message: `actor "${id}" already holds a reservation on this node`, figures: { id } });
    }

    let task: NormalTask | undefined;
    let hrt: Decision['hrt'];
    let lane: number | undefined;
    if (latency === 'HRT' && request.lane) {
      task = normaliseTask({ ...request.hrt, id } as NormalTask, 'hrt');
      const placement = placeOnLane(this.laneSets(id), task);
      if (placement.placed) lane = placement.lane;
      else refusals.push({ constraint: 'hrt', field: 'hrt', message: placement.message, figures: { lanes: this.lanes } });
    } else if (latency === 'HRT') {
      task = normaliseTask({ ...request.hrt, id } as NormalTask, 'hrt');
      const others = [...this.hrtTasks.values()].filter((t) => t.id !== id && !this.laneOf.has(t.id));
      const before = others.reduce((s, t) => s + t.wcetMs / t.periodMs, 0);
      const after = this.test([...others, task]);
      hrt = { policy: this.policy, before: { tasks: others.length, utilisation: before }, after };
      if (!after.schedulable) refusals.push(this.hrtRefusal([...others, task], task, after, before));
    }

    const cpu = amount(request.compute?.cpuMillis, 'compute.cpuMillis');
    const mem = amount(request.compute?.memBytes, 'compute.memBytes');
    const usedCpu = this.usedCpu;
    const usedMem = this.usedMem;
    const compute = {
      cpuMillis: { before: usedCpu, after: usedCpu + cpu, capacity: this.capacity.cpuMillis },
      memBytes: { before: usedMem, after: usedMem + mem, capacity: this.capacity.memBytes },
    };
    if (compute.cpuMillis.after > this.capacity.cpuMillis) {
      const over = compute.cpuMillis.after - this.capacity.cpuMillis;
      refusals.push({
        constraint: 'cpu', field: 'compute.cpuMillis',
        message: `CPU reservation would be ${compute.cpuMillis.after} m > ${this.capacity.cpuMillis} m capacity, over by ${over} m (adding "${id}": ${cpu} m; ${usedCpu} m already reserved)`,
        figures: { requested: cpu, reserved: usedCpu, after: compute.cpuMillis.after, capacity: this.capacity.cpuMillis, excess: over },
      });
    }
    if (compute.memBytes.after > this.capacity.memBytes) {
      const over = compute.memBytes.after - this.capacity.memBytes;
      refusals.push({
        constraint: 'mem', field: 'compute.memBytes',
        message: `memory reservation would be ${bytes(compute.memBytes.after)} > ${bytes(this.capacity.memBytes)} capacity, over by ${bytes(over)} (adding "${id}": ${bytes(mem)}; ${bytes(usedMem)} already reserved)`,
        figures: { requested: mem, reserved: usedMem, after: compute.memBytes.after, capacity: this.capacity.memBytes, excess: over },
      });
    }

    let model: Decision['model'];
    if (request.model !== undefined) {
      const match = this.catalog ? matchModels(this.catalog, request.model) : { eligible: [], rejected: [], unmatched: 0 };
      model = { eligible: match.eligible, chosen: match.eligible[0], rejected: match.rejected };
      const why = this.catalog ? describeModelRefusal(request.model, match) : 'this node has no model catalog';
      if (why !== undefined) {
        refusals.push({
          constraint: 'model', field: 'model.allow', message: `model policy of "${id}": ${why}`,
          figures: { allow: request.model.allow.join(', '), maxContextTokens: request.model.maxContextTokens, rejected: match.rejected.length, unmatched: match.unmatched },
        });
      }
    }

    const admitted = refusals.length === 0;
    const message = admitted
      ? `admitted "${id}" (${latency}${hrt ? `; ${hrt.after.reason}` : ''})`
      : `admission of "${id}" refused: ${refusals.map((r) => r.message).join('; ')}`;
    const decision: Decision = { id, admitted, message, refusals, compute, ...(hrt && { hrt }), ...(model && { model }), ...(lane === undefined ? {} : { lane }) };
    return { decision, reservation: { id, latency, task, cpuMillis: cpu, memBytes: mem, model: model?.chosen, ...(lane === undefined ? {} : { lane }) } };
  }

  /** Each lane's task set, without `except`. */
  private laneSets(except: string): NormalTask[][] {
    const sets: NormalTask[][] = Array.from({ length: this.lanes }, () => []);
    for (const [id, l] of this.laneOf) {
      const t = this.hrtTasks.get(id);
      if (t && id !== except) sets[l]!.push(t);
    }
    return sets;
  }

  private test(tasks: NormalTask[]): HrtVerdict {
    return this.policy === 'edf' ? edfTest(tasks) : rmTest(tasks);
  }

  /** An unschedulable set is blamed on jitter when the same set without jitter would fit. */
  private hrtRefusal(tasks: NormalTask[], added: NormalTask, verdict: HrtVerdict, before: number): Refusal {
    const figures = hrtFigures(verdict, before);
    if (tasks.some((t) => t.jitterMs > 0)) {
      const calm = this.test(tasks.map((t) => ({ ...t, jitterMs: 0 })));
      if (calm.schedulable) {
        const jitter = tasks.filter((t) => t.jitterMs > 0).map((t) => `"${t.id}" ${ms(t.jitterMs)}`).join(', ');
        return {
          constraint: 'jitter', field: 'hrt.jitterMs',
          message: `HRT jitter budget exceeded: ${hrtHeadline(verdict)} with release jitter ${jitter}; without jitter the set fits (${describeTask(added)})`,
          figures: { ...figures, jitterMs: added.jitterMs },
        };
      }
    }
    return { constraint: 'hrt', field: 'hrt', message: `${hrtHeadline(verdict)} (${describeTask(added)})`, figures };
  }

  private validate(request: AdmissionRequest): { id: string; latency: LatencyClass } {
    if (typeof request?.id !== 'string' || request.id.length === 0) throw invalid('id', 'must be a non-empty string');
    const { latency } = request;
    if (latency !== 'HRT' && latency !== 'SRT' && latency !== 'DT') throw invalid('latency', `must be HRT, SRT or DT, got ${String(latency)}`);
    if (latency === 'HRT' && request.hrt === undefined) throw invalid('hrt', `is required for an HRT actor ("${request.id}"): periodMs and wcetMs`);
    if (request.model !== undefined) validateModelPolicy(request.model);
    return { id: request.id, latency };
  }
}
