// The speech-guided robot (the paper's HRT flow): spoken commands become robot
// actions, and every action must pass a hard real-time safety guard before the
// actuator runs it.
//
//   speech ──► planner (SRT, main thread) ──► guard (HRT, lane thread) ──► actuator (main thread)
//              utterance → local model →      10 ms period, allow/veto,     runs what was allowed,
//              tool call → action             emits its decision            records what was vetoed
//
// The planner asks a local rules model (through the kernel, so its contract is
// checked) to turn each utterance into a tool call, and tells the guard. The
// guard runs on an HRT lane — a worker thread with its own periodic EDF
// dispatcher that main-thread garbage collection cannot stall — and emits
// allow or veto; each decision comes back as an `@agentos.hrt.output` event,
// which this example forwards to the actuator. A second HRT agent that would
// overload the lane is refused at admission. At the end the example prints the
// guard's lane figures: releases, misses, release jitter, response time, WCET.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, rulesModel, syscall, tell, type ActorRef, type AgentOsError, type Completion, type HrtTaskStats, type Rule, type SystemEvent } from '../src/index.js';
import { Action, robotGuard, visionLoop, type Decision, type GuardLimits } from './support/robot-guard.js';

// ── the speech stream: timestamped utterances, as a recogniser would give them ──
export const SPEECH: readonly { atMs: number; text: string }[] = [
  { atMs: 0, text: 'pick from aisle 3' },
  { atMs: 80, text: 'move to aisle 12 at full speed' },
  { atMs: 160, text: 'move to aisle 12' },
  { atMs: 240, text: 'pick from aisle 7' },
  { atMs: 320, text: 'stop' },
  { atMs: 400, text: 'move to aisle 5 slowly' },
  { atMs: 480, text: 'resume' },
  { atMs: 560, text: 'move to aisle 5 slowly' },
  { atMs: 640, text: 'sing me a song' },
];

const LIMITS: GuardLimits = { maxSpeed: 1.5, forbiddenAisles: [7] };

// ── the local model: regex rules that answer with a tool call (first match wins, so "stop" beats all) ──
const SPEEDS: Record<string, number> = { slowly: 0.5, slow: 0.5, fast: 1.5, 'full speed': 2.5 };
const ROBOT_RULES: Rule[] = [
  { match: /\b(stop|halt|freeze)\b/i, tool: { name: 'robot.stop' } },
  { match: /\b(resume|all clear)\b/i, tool: { name: 'robot.resume' } },
  { match: /\bpick\b.*\baisle (\d+)/i, tool: { name: 'robot.pick', arguments: (m) => ({ aisle: Number(m[1]) }) } },
  {
    match: /\b(?:move|go|drive)\b.*\baisle (\d+)(?:.*\b(slowly|slow|fast|full speed)\b)?/i,
    tool: { name: 'robot.move', arguments: (m) => ({ aisle: Number(m[1]), speed: SPEEDS[m[2]?.toLowerCase() ?? ''] ?? 1.0 }) },
  },
];
const FALLBACK = 'Sorry, I can move, pick, stop or resume.';

/** The tools offered to the model: a rule's tool call is made only if the request offers that tool. */
const aisle = { type: 'integer', minimum: 1 };
const ROBOT_TOOLS = [
  { name: 'robot.move', description: 'Drive to an aisle at a speed in m/s.', parameters: { type: 'object', properties: { aisle, speed: { type: 'number' } }, required: ['aisle', 'speed'] } },
  { name: 'robot.pick', description: 'Pick an item from an aisle.', parameters: { type: 'object', properties: { aisle }, required: ['aisle'] } },
  { name: 'robot.stop', description: 'Emergency stop.', parameters: { type: 'object', properties: {} } },
  { name: 'robot.resume', description: 'Clear an emergency stop.', parameters: { type: 'object', properties: {} } },
];

// ── the planner: SRT, on the main thread ───────────────────────────────────
const plannerMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('heard'), atMs: z.number(), text: z.string() })]);
type Heard = z.infer<typeof plannerMessages>;

export interface Plan {
  atMs: number;
  text: string;
  /** The action sent to the guard as command `seq`, or why there is none. */
  seq?: number;
  action?: Action;
  note?: string;
}

interface PlannerContext {
  /** Utterances heard while a model call was in flight wait here, in order. */
  inbox: Heard[];
  plans: Plan[];
  seq: number;
}

/** The model's tool call as an action, if it made one the guard would accept. */
function actionOf(output: unknown): Action | undefined {
  const call = (output as Completion).toolCalls[0];
  if (!call) return undefined;
  const parsed = Action.safeParse({ op: call.name.replace(/^robot\./, ''), ...call.arguments });
  return parsed.success ? parsed.data : undefined;
}

/** Record what became of the utterance at the head of the inbox, and take it off. */
const settle = (context: PlannerContext, outcome: Pick<Plan, 'seq' | 'action' | 'note'>): Pick<PlannerContext, 'plans' | 'inbox'> => ({
  plans: [...context.plans, { atMs: context.inbox[0]!.atMs, text: context.inbox[0]!.text, ...outcome }],
  inbox: context.inbox.slice(1),
});

const planner = defineAgent({
  name: 'planner',
  messages: plannerMessages,
  contract: { class: { latency: 'SRT', slo: { onset_ms: 150, turn_ms: 500 } }, modelPolicy: { allow: ['local/robot'], max_context_tokens: 2000 } },
  machine: setup({
    types: { context: {} as PlannerContext, events: {} as Heard },
    actors: { syscall },
    guards: { hasWork: ({ context }) => context.inbox.length > 0 },
  }).createMachine({
    id: 'planner',
    context: { inbox: [], plans: [], seq: 0 },
    initial: 'listening',
    on: { heard: { actions: assign({ inbox: ({ context, event }) => [...context.inbox, event] }) } },
    states: {
      listening: { always: { guard: 'hasWork', target: 'planning' } },
      planning: {
        invoke: {
          src: 'syscall',
          input: ({ context }) => ({
            kind: 'model' as const,
            name: 'local/robot',
            args: { messages: [{ role: 'user' as const, content: context.inbox[0]!.text }], tools: ROBOT_TOOLS },
          }),
          onDone: [
            {
              guard: ({ event }) => actionOf(event.output) !== undefined,
              target: 'listening',
              actions: [
                // Through the kernel: validated against the guard's message schema, then onto the lane's ring.
                tell('guard', ({ context, event }) => ({ type: 'command', seq: context.seq, action: actionOf(event.output)! })),
                assign(({ context, event }) => ({ ...settle(context, { seq: context.seq, action: actionOf(event.output)! }), seq: context.seq + 1 })),
              ],
            },
            // No tool call: the model did not understand; nothing goes to the guard.
            { target: 'listening', actions: assign(({ context, event }) => settle(context, { note: `no action (model: "${(event.output as Completion).text}")` })) },
          ],
          onError: { target: 'listening', actions: assign(({ context, event }) => settle(context, { note: `model call failed: ${(event.error as Error).message}` })) },
        },
      },
    },
  }),
});

// ── the actuator: runs what the guard allowed, never what it vetoed ────────
const actuatorMessages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('allow'), seq: z.number().int(), action: Action }),
  z.object({ type: z.literal('veto'), seq: z.number().int(), action: Action, reason: z.string() }),
]);

interface ActuatorContext {
  aisle: number;
  ran: { seq: number; action: Action }[];
  refused: { seq: number; reason: string }[];
}

const actuator = defineAgent({
  name: 'actuator',
  messages: actuatorMessages,
  contract: { priority: 9 },
  machine: setup({ types: { context: {} as ActuatorContext, events: {} as z.infer<typeof actuatorMessages> } }).createMachine({
    id: 'actuator',
    context: { aisle: 1, ran: [], refused: [] },
    on: {
      // A simulated drive: it "moves" by changing its aisle; a real one would command motors here.
      allow: { actions: assign(({ context, event }) => ({ ran: [...context.ran, { seq: event.seq, action: event.action }], aisle: 'aisle' in event.action ? event.action.aisle : context.aisle })) },
      veto: { actions: assign({ refused: ({ context, event }) => [...context.refused, { seq: event.seq, reason: event.reason }] }) },
    },
  }),
});

// ── running it ─────────────────────────────────────────────────────────────
/** The guard's figures from its lane, as `node.tree()` shows them under `info.lane.stats`. */
export type LaneFigures = HrtTaskStats;

export interface RobotSummary {
  plans: Plan[];
  /** The guard's decisions in the order they came back. */
  decisions: Decision[];
  /** What the actuator ran, in order. */
  ran: { seq: number; action: Action }[];
  /** The extra HRT agent's refusal. */
  refused: { id: string; code: string; message: string };
  /** The guard's state on the lane at the end (`armed` or `stopped`). */
  guardState: unknown;
  lane: LaneFigures;
  /** The guard's lane events as they came: misses, WCET overruns, skipped jobs (`@agentos.hrt.*`). */
  laneEvents: LaneEvent[];
}

/** One `@agentos.hrt.<type>` event of the guard, reduced to what the report prints. */
export interface LaneEvent {
  type: string;
  release: number;
  execMs?: number;
  latenessMs?: number;
  cause?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`robot: timed out waiting for ${what}`);
    await sleep(5);
  }
}

const REPORT_EVERY_MS = 50;

export async function main(dataDir = '.agentos/robot'): Promise<RobotSummary> {
  const decisions: Decision[] = [];
  const laneEvents: LaneEvent[] = [];
  let actuatorRef: ActorRef | undefined;
  const onGuardEvent = (e: SystemEvent): void => {
    if (e.type === '@agentos.hrt.output') {
      // A decision the guard emitted on its lane: hand it to the actuator.
      const decision = e.event as Decision;
      decisions.push(decision);
      actuatorRef?.send(decision);
    } else {
      // A miss, WCET overrun or skipped job: rare, reported as it happens, never hidden.
      const { release, execMs, latenessMs, cause } = e as unknown as { release?: { index: number }; execMs?: number; latenessMs?: number; cause?: string };
      laneEvents.push({ type: e.type.slice('@agentos.hrt.'.length), release: release?.index ?? -1, ...(execMs === undefined ? {} : { execMs }), ...(latenessMs === undefined ? {} : { latenessMs }), ...(cause === undefined ? {} : { cause }) });
    }
  };
  const node = await createNode({
    name: 'robot',
    dataDir,
    // One HRT lane (a worker thread); `realtime` (default true) asks the OS for SCHED_FIFO for it,
    // falling back to a raised nice, or nothing, when not permitted. Lane figures every 50 ms.
    hrt: { lanes: 1, reportEveryMs: REPORT_EVERY_MS },
    modelGateway: {
      local: { models: { robot: rulesModel(ROBOT_RULES, FALLBACK) } },
      catalog: [{ id: 'local/robot', contextTokens: 4096, placement: 'edge', privacy: ['public', 'internal', 'confidential', 'pii'] }],
    },
    inspect: (e) => {
      if (e.type.startsWith('@agentos.hrt.') && (e as SystemEvent).id === 'guard') onGuardEvent(e as SystemEvent);
    },
  });
  try {
    actuatorRef = await node.spawn(actuator, { id: 'actuator' });
    await node.spawn(robotGuard, { id: 'guard', input: LIMITS });
    const plannerRef = await node.spawn(planner, { id: 'planner' });

    // Admission: the guard holds 0.10 of the lane; a loop needing 0.95 more does not fit, and is never started.
    const refused = await node.spawn(visionLoop, { id: 'vision' }).then(
      () => ({ id: 'vision', code: 'ADMITTED', message: 'admitted (unexpected)' }),
      (err: AgentOsError) => ({ id: 'vision', code: err.code, message: err.message }),
    );
    console.log(`guard admitted on the HRT lane (period 10 ms, deadline 10 ms, WCET 1 ms declared)`);
    console.log(`vision-loop refused: ${refused.code}: ${refused.message}`);

    // The speech stream, played at its timestamps.
    const start = Date.now();
    for (const u of SPEECH) {
      await sleep(u.atMs - (Date.now() - start));
      plannerRef.send({ type: 'heard', atMs: u.atMs, text: u.text });
    }
    const plans = (): Plan[] => (plannerRef.getSnapshot()?.context as PlannerContext).plans;
    await until(() => plans().length === SPEECH.length, 'the planner');
    const commands = plans().filter((p) => p.seq !== undefined).length;
    const actuatorContext = (): ActuatorContext => actuatorRef!.getSnapshot()!.context as ActuatorContext;
    await until(() => decisions.length === commands && actuatorContext().ran.length + actuatorContext().refused.length === commands, 'the guard and the actuator');
    // Let the lane send a report that covers the last decision.
    await sleep(3 * REPORT_EVERY_MS);

    const info = node.tree().children!.find((c) => c.id === 'guard')!.info as { lane: { state: unknown; stats: LaneFigures } };
    const { state: guardState, stats } = info.lane;
    const summary: RobotSummary = { plans: plans(), decisions, ran: actuatorContext().ran, refused, guardState, lane: stats, laneEvents };
    print(summary);
    return summary;
  } finally {
    await node.stop();
  }
}

function describeAction(a: Action | undefined): string {
  if (!a) return '—';
  if (a.op === 'move') return `move to aisle ${a.aisle} at ${a.speed} m/s`;
  if (a.op === 'pick') return `pick from aisle ${a.aisle}`;
  return a.op;
}

function print(s: RobotSummary): void {
  const ran = new Set(s.ran.map((r) => r.seq));
  for (const p of s.plans) {
    const d = s.decisions.find((x) => x.seq === p.seq);
    const verdict = !d ? p.note ?? '' : d.type === 'allow' ? `ALLOW${ran.has(d.seq) ? ' → actuator ran it' : ''}` : `VETO: ${d.reason}`;
    console.log(`${String(p.atMs).padStart(4)} ms  "${p.text}"`.padEnd(44) + describeAction(p.action).padEnd(30) + verdict);
  }
  const allowed = s.decisions.filter((d) => d.type === 'allow').length;
  console.log(`actions: ${allowed} allowed, ${s.decisions.length - allowed} vetoed; actuator ran ${s.ran.length}; guard ends ${JSON.stringify(s.guardState)}`);
  const l = s.lane;
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  console.log(`guard lane: ${l.releases} releases, ${l.completions} completions, ${l.skipped} skipped, ${l.misses} deadline misses, ${l.wcetOverruns} WCET overruns`);
  console.log(`  release jitter p50 ${ms(l.jitterMs.p50)}, p99 ${ms(l.jitterMs.p99)}, max ${ms(l.jitterMs.max)}; response p50 ${ms(l.responseMs.p50)}, p99 ${ms(l.responseMs.p99)}, max ${ms(l.responseMs.max)}`);
  console.log(`  WCET observed ${ms(l.observedWcetMs)} (declared ${l.wcetMs} ms)`);
  for (const e of s.laneEvents.slice(0, 6)) {
    const what = e.type === 'overrun' ? `ran ${ms(e.execMs!)}, over the declared WCET` : e.type === 'miss' ? `finished ${ms(e.latenessMs!)} after its deadline` : `${e.cause ?? ''}`;
    console.log(`  release #${e.release} ${e.type}: ${what}`);
  }
  if (s.laneEvents.length > 6) console.log(`  … and ${s.laneEvents.length - 6} more lane events`);
  // Typically the first job down each new path (the first allow, the first veto) runs cold while V8 compiles it.
  if (l.wcetOverruns > 0) console.log('  (declare WCET from a measured worst case: the first jobs down a new code path run cold)');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
