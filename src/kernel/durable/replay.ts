// Deterministic replay of a persistent actor: restore its replay base checkpoint
// on a virtual clock, run its recorded turns again in order, hand each call the
// outcome the effect journal holds at the point the recorded actor got it, and
// compare what happens (state after each turn, calls and their arguments) with
// what was recorded. A replay that diverges, or a history whose hash chains are
// broken, is reported with the turn; replay never runs a tool or sends a message.

import type { RootDatabase } from 'lmdb';
import { ActorCell, type CallRequest, type CellDurability } from '../../actors/cell.js';
import type { AgentDefinition } from '../../actors/define.js';
import type { Envelope } from '../../actors/envelope.js';
import { decodeSnapshot, readSnapshotHeader, type ActorSnapshot } from '../../actors/snapshot/index.js';
import { VirtualClock } from '../../base/clock.js';
import { AgentOsError } from '../../base/errors.js';
import { describeExit } from '../../base/exit.js';
import { createMailbox } from '../../mailboxes/index.js';
import { stateDigest } from './digest.js';
import { DurableCodes, type ActorRecord, type ChildRecord, type SpecRecord, type TurnRecord } from './records.js';
import { ReplayHost, type ReplayedCall, type SentMessage } from './replay-host.js';
import { JournalView, readHistory, turnOf, type ChainBreak, type RecordedHistory, type RecordedTurn } from './replay-log.js';

export const ReplayCodes = {
  /** Nothing is stored for the actor (no registration, checkpoint or turn). */
  unknownActor: 'REPLAY_UNKNOWN_ACTOR',
  /** None of the given definitions is the one the actor was recorded with. */
  noDefinition: 'REPLAY_NO_DEFINITION',
  /** The requested turn is before the replay base (compacted) or after the last recorded turn. */
  turnOutOfRange: 'REPLAY_TURN_OUT_OF_RANGE',
} as const;

export class ReplayError extends AgentOsError {}

export type DivergenceKind = 'state' | 'calls' | 'args' | 'missing-call' | 'chain';

export interface Divergence {
  /** The turn it belongs to; null for a journal break whose key cannot be read. */
  turn: number | null;
  kind: DivergenceKind;
  /** One line saying what differs. */
  message: string;
  expected: unknown;
  actual: unknown;
  /** For `chain`: DURABLE_CHAIN_BROKEN, and which log broke. */
  code?: string;
  log?: ChainBreak['log'];
}

/** One replayed turn, for the report's table. */
export interface ReplayedTurn {
  turn: number;
  /** The message type. */
  type: string;
  at: number;
  crashed: boolean;
  /** Calls keyed to this turn (made by its message or by continuations before the next one). */
  calls: ReplayedCall[];
  sent: SentMessage[];
  /** State value after the turn, as replayed. */
  value: unknown;
  ok: boolean;
}

export interface ReplayReport {
  actor: string;
  /** `name@version` of the definition replayed. */
  definition: string;
  /** The replay base: turns after it are replayed. */
  fromTurn: number;
  throughTurn: number;
  /** Turns replayed (crashed ones counted, not run). */
  turns: number;
  /** Calls the replayed actor made or resumed. */
  calls: number;
  ok: boolean;
  divergences: Divergence[];
  log: ReplayedTurn[];
}

export interface ReplayOptions {
  /** The node's LMDB environment (read-only is enough: replay writes nothing). */
  db: RootDatabase;
  /** The actor's definition, or several: the one named by its stored checkpoint (or registration) is used. */
  definition: AgentDefinition | readonly AgentDefinition[];
  actor: string;
  /** Stop after this turn (default: the last recorded). */
  throughTurn?: number;
  /** Virtual time for the replay; starts at the base checkpoint's capture time. */
  clock?: VirtualClock;
  /** Arguments as the node checks them before journaling (tool input schemas); default: as the machine passed them. */
  normalize?: (request: CallRequest) => unknown;
  /** Yield to let the machine take results (XState delivers them a few microtasks later). Default setImmediate. */
  defer?: (fn: () => void) => void;
  /** Told after each turn replayed (for a progress bar). */
  onTurn?: (done: number, total: number) => void;
}

export async function replayActor(options: ReplayOptions): Promise<ReplayReport> {
  const { db, actor } = options;
  const history = readHistory(db, actor);
  if (!history.registration && !history.base && history.turns.length === 0 && history.breaks.length === 0) {
    throw new ReplayError(ReplayCodes.unknownActor, `no persistent actor "${actor}" is stored on this node`, { field: 'actor' });
  }
  const def = pickDefinition(options.definition, history, actor);
  const journal = new JournalView(db, actor);
  const fromTurn = history.base?.turn ?? 0;
  const report: ReplayReport = { actor, definition: `${def.name}@${def.version}`, fromTurn, throughTurn: fromTurn, turns: 0, calls: 0, ok: false, divergences: [], log: [] };
  const breaks = [...history.breaks];
  const journalBreak = journal.verify();
  if (journalBreak) breaks.push(journalBreak);
  if (breaks.length > 0) {
    report.divergences = breaks.map((b) => ({ turn: b.turn, kind: 'chain', message: b.problem, expected: 'an intact hash chain', actual: b.problem, code: DurableCodes.chainBroken, log: b.log }));
    return report;
  }
  const lastTurn = history.turns.at(-1)?.record.turn ?? fromTurn;
  const through = options.throughTurn ?? lastTurn;
  if (!Number.isSafeInteger(through) || through < fromTurn || through > lastTurn) {
    const range = lastTurn > fromTurn ? `turns ${fromTurn + 1}-${lastTurn}` : 'no turns';
    throw new ReplayError(ReplayCodes.turnOutOfRange, `turn ${through} of "${actor}" cannot be replayed: the log holds ${range} (turns up to ${fromTurn} are compacted into its replay base)`, {
      field: 'turn',
    });
  }
  report.throughTurn = through;
  await new ReplayRun(options, def, history, journal, report).run();
  report.ok = report.divergences.length === 0;
  return report;
}

/** One replay: the cell, its host, and the walk through the recorded turns. */
class ReplayRun implements CellDurability {
  private readonly clock: VirtualClock;
  private readonly host: ReplayHost;
  private readonly cell: ActorCell;
  private readonly fromTurn: number;
  private expected: RecordedTurn | undefined;
  private readonly values = new Map<number, unknown>();
  private readonly missing = new Set<string>();

  constructor(
    private readonly options: ReplayOptions,
    def: AgentDefinition,
    private readonly history: RecordedHistory,
    private readonly journal: JournalView,
    private readonly report: ReplayReport,
  ) {
    this.fromTurn = report.fromTurn;
    const base = history.base ? decodeSnapshot(history.base.snapshot, { definition: { name: def.name, version: def.version }, ...(def.persistence?.migrate ? { migrate: def.persistence.migrate } : {}) }) : undefined;
    const startAt = base?.capturedAt ?? history.turns[0]?.record.at ?? 0;
    this.clock = options.clock ?? new VirtualClock(startAt);
    this.clock.advanceTo(startAt);
    this.host = new ReplayHost(this.clock, journal, options.normalize);
    const input = base ? undefined : inputOf(history.registration, options.actor);
    this.cell = new ActorCell(input === undefined ? def : { ...def, input }, {
      id: options.actor,
      path: `/${options.actor}`,
      parentPath: '',
      tenant: spawnTenant(history.registration),
      latency: 'SRT',
      mailbox: createMailbox<Envelope>('fifo'),
      host: this.host,
      deadlineMs: undefined,
      priority: undefined,
    });
    this.cell.durable = this; // turns are counted, and side effects numbered, as for a persistent actor
    this.cell.start(1, base);
    if (base) this.resumeHeld(base);
  }

  async run(): Promise<void> {
    const { report } = this;
    const turns = this.history.turns.filter((t) => t.record.turn <= report.throughTurn);
    for (const t of turns) {
      await this.settleBefore(t.record);
      if (this.host.exit) {
        this.diverge(t.record.turn, 'state', `the replayed actor ended (${describeExit(this.host.exit)}) before turn ${t.record.turn}`, t.record.value, 'ended');
        break;
      }
      this.clock.advanceTo(t.record.at);
      report.turns++;
      if (t.record.crashed) this.cell.skipTurn();
      else {
        this.expected = t;
        this.cell.deliver(this.envelope(t));
        this.expected = undefined;
        await this.yieldToMachine();
      }
      report.log.push({ turn: t.record.turn, type: t.message.type, at: t.record.at, crashed: t.record.crashed === true, calls: [], sent: [], value: this.values.get(t.record.turn), ok: true });
      this.options.onTurn?.(report.turns, turns.length);
      if (this.host.exit && !t.record.crashed) break;
    }
    const next = this.history.turns.find((t) => t.record.turn > report.throughTurn);
    if (next) await this.settleBefore(next.record);
    else await this.settleRest();
    this.cell.kill(); // nothing outlives the replay (its timers are on the virtual clock, its calls held here)
    this.compareCalls();
    this.finish();
  }

  /** CellDurability: a message was handled; compare the state with the recorded one. */
  handled(cell: ActorCell, _env: Envelope, crashed: boolean): void {
    cell.settled = [];
    const t = this.expected;
    if (!t) return;
    const turn = t.record.turn;
    if (crashed) {
      const reason = this.host.exit ? describeExit(this.host.exit) : 'crashed';
      this.values.set(turn, 'crashed');
      this.diverge(turn, 'state', `turn ${turn} (${t.message.type}) crashed the replayed actor (${reason}); the recorded one handled it`, t.record.value, reason);
      return;
    }
    const actual = stateDigest(cell.getSnapshot() as { value?: unknown; context?: unknown } | undefined);
    this.values.set(turn, actual.value);
    if (actual.digest === t.record.digest) return;
    const sameValue = JSON.stringify(actual.value) === JSON.stringify(t.record.value);
    const what = sameValue ? `state ${JSON.stringify(actual.value)} as recorded, but its context differs` : `state ${JSON.stringify(actual.value)}, recorded ${JSON.stringify(t.record.value)}`;
    this.diverge(turn, 'state', `after turn ${turn} (${t.message.type}): ${what}`, { value: t.record.value, digest: t.record.digest }, actual);
  }

  // ── settling calls where the recording says ─────────────────────────

  /** Before `record` runs: the results the recorded actor received since the previous turn, in order, at their journaled times. */
  private async settleBefore(record: TurnRecord): Promise<void> {
    for (const key of record.settled) {
      if (this.host.settled.has(key)) continue; // received again after a restart in the recording
      const recorded = this.journal.call(key);
      if (recorded && recorded.at < record.at) this.clock.advanceTo(recorded.at);
      await this.yieldToMachine();
      if (this.host.isPending(key)) {
        this.host.settle(key);
        await this.yieldToMachine();
      } else if ((turnOf(key) ?? 0) > this.fromTurn) {
        // Not made by the replay (turns up to the base consumed their results before the base checkpoint).
        this.missing.add(key);
        this.diverge(turnOf(key), 'missing-call', `call ${key} was made in the recording (its result arrived before turn ${record.turn}), not in the replay`, key, null);
      }
    }
    this.clock.advanceTo(record.at);
    await this.yieldToMachine();
  }

  /** After the last recorded turn: every call still pending whose outcome the journal holds, in journal order. */
  private async settleRest(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      const next = this.host.journaledPending()[0];
      if (!next) return;
      this.clock.advanceTo(next.at);
      await this.yieldToMachine();
      this.host.settle(next.key);
      await this.yieldToMachine();
    }
  }

  /** A call in flight in the base checkpoint: held until its result is due, then settled into the restored promise actor. */
  private resumeHeld(snapshot: ActorSnapshot): void {
    const calls = (snapshot.extra as { calls?: Array<{ path: string[]; key: string; request: CallRequest }> }).calls ?? [];
    for (const f of snapshot.inFlight) {
      const label = f.path.join('/');
      const rec = calls.find((c) => c.path.join('/') === label);
      if (!rec) {
        this.cell.reissueHeld(f.path); // not a kernel call: the machine's own promise runs again, as on recovery
        continue;
      }
      const origin = this.cell.childAt(f.path);
      this.cell.trackCall(origin, { key: rec.key, request: rec.request });
      this.host.resume(this.cell, rec.key, rec.request, (outcome) => {
        this.cell.callSettled(origin, rec.key);
        try {
          this.cell.settleHeld(f.path, outcome);
        } catch {
          // the actor ended meanwhile
        }
      });
    }
  }

  // ── comparing ───────────────────────────────────────────────────────

  /** Per turn: the calls the journal holds against those the replay made (up to where the replayed actor got). */
  private compareCalls(): void {
    const { fromTurn } = this;
    const through = Math.min(this.report.throughTurn, this.report.log.at(-1)?.turn ?? fromTurn);
    const made = new Map(this.host.calls.map((c) => [c.key, c]));
    for (const m of this.host.mismatches) {
      this.diverge(m.turn, 'args', `call ${m.key} (${made.get(m.key)?.name ?? '?'}) was made with other arguments than recorded`, { key: m.key, args: m.expected }, { key: m.key, args: m.actual });
    }
    for (const { key, turn } of this.journal.keys()) {
      if (turn <= fromTurn || turn > through || made.has(key) || this.missing.has(key)) continue;
      this.diverge(turn, 'missing-call', `call ${key} was made in the recording, not in the replay`, key, null);
    }
    const named = new Set(this.history.turns.flatMap((t) => t.record.settled));
    const compacted = this.journal.compactedThrough();
    for (const c of this.host.calls) {
      if (c.resumed || this.journal.call(c.key) || named.has(c.key)) continue;
      if (c.turn <= compacted) {
        this.diverge(c.turn, 'calls', `call ${c.key} (${c.name}) belongs to a compacted turn: its journal entry is gone, its outcome cannot be replayed`, null, c.key);
      } else if (c.turn > fromTurn && c.turn <= through) {
        this.diverge(c.turn, 'calls', `unexpected call ${c.key} (${c.kind} ${c.name}): the recording made no call there`, null, { key: c.key, name: c.name, args: c.args });
      }
    }
  }

  private finish(): void {
    const { report } = this;
    const byTurn = new Map(report.log.map((t) => [t.turn, t]));
    for (const c of this.host.calls) byTurn.get(c.turn)?.calls.push(c);
    for (const s of this.host.sent) byTurn.get(s.turn)?.sent.push(s);
    for (const d of report.divergences) {
      const row = d.turn === null ? undefined : byTurn.get(d.turn);
      if (row) row.ok = false;
    }
    report.divergences.sort((a, b) => (a.turn ?? -1) - (b.turn ?? -1));
    report.calls = this.host.calls.length;
  }

  private diverge(turn: number | null, kind: DivergenceKind, message: string, expected: unknown, actual: unknown): void {
    this.report.divergences.push({ turn, kind, message, expected, actual });
  }

  private envelope(t: RecordedTurn): Envelope {
    return {
      id: `replay:${t.record.turn}`,
      from: t.record.from,
      to: this.cell.id,
      type: t.message.type,
      payload: t.message,
      class: this.cell.latency,
      sentAt: t.record.at,
      ...(this.cell.tenant === undefined ? {} : { tenant: this.cell.tenant }),
    };
  }

  private async yieldToMachine(): Promise<void> {
    const defer = this.options.defer ?? ((fn: () => void) => void setImmediate(fn));
    for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => defer(resolve));
  }
}

/** The definition the actor was recorded with: by the name in its base checkpoint, else its registration. */
function pickDefinition(given: AgentDefinition | readonly AgentDefinition[], history: RecordedHistory, actor: string): AgentDefinition {
  const defs = Array.isArray(given) ? (given as readonly AgentDefinition[]) : [given as AgentDefinition];
  const ref = history.base ? readSnapshotHeader(history.base.snapshot).definition : recordedRef(history.registration, actor);
  if (!ref) {
    if (defs.length === 1) return defs[0]!;
    throw new ReplayError(ReplayCodes.noDefinition, `the definition "${actor}" was recorded with is not stored; pass only its definition`, { field: 'definition' });
  }
  const found = defs.find((d) => d.name === ref.name && d.version === ref.version) ?? defs.find((d) => d.name === ref.name);
  if (!found) {
    const have = defs.map((d) => `${d.name}@${d.version}`).join(', ') || 'none';
    throw new ReplayError(ReplayCodes.noDefinition, `"${actor}" was recorded with agent ${ref.name}@${ref.version}; the definitions given are ${have}`, { field: 'definition' });
  }
  return found;
}

function recordedRef(registration: ActorRecord | undefined, actor: string): { name: string; version: string } | undefined {
  let agent: string | undefined;
  if (registration?.kind === 'agent') agent = registration.agent;
  else if (registration?.kind === 'tree') agent = findChild(registration.spec, actor)?.agent;
  if (agent === undefined) return undefined;
  const at = agent.lastIndexOf('@');
  return { name: agent.slice(0, at), version: agent.slice(at + 1) };
}

/** The input a fresh start (no base checkpoint) takes, as recovery would pass it. */
function inputOf(registration: ActorRecord | undefined, actor: string): unknown {
  if (registration?.kind === 'agent') return registration.spawn.input;
  if (registration?.kind === 'dynamic') return registration.args;
  if (registration?.kind === 'tree') {
    const child = findChild(registration.spec, actor);
    return child?.args ?? child?.input;
  }
  return undefined;
}

function spawnTenant(registration: ActorRecord | undefined): string | undefined {
  return registration && registration.kind !== 'dynamic' ? registration.spawn.tenant : undefined;
}

function findChild(spec: SpecRecord, id: string): ChildRecord | undefined {
  for (const c of spec.children) {
    if (c.kind === 'supervisor') {
      const found = findChild(c, id);
      if (found) return found;
    } else if (c.id === id) return c;
  }
  return undefined;
}
