// The speech scheduling copilot (the paper's SRT flow): people talk to a copilot
// that books meetings. It answers while it thinks — the answer streams from a
// local model token by token — and books through a calendar tool. Speaking while
// the answer is still streaming ("actually, make it 11") is barge-in: the turn in
// flight is cancelled and the new request is the one booked.
//
//   speech chunks ──► copilot (SRT) ── streamCompletion ──► local/scheduler (180 ms prefill, then 35 tokens/s)
//   (timestamped)       │   model.chunk … model.tool_call, model.done
//                       └── syscall ──► calendar.book
//
// Barge-in is a statechart transition: speech heard in `responding` leaves the
// state, which stops the invoked stream — the gateway aborts it (MODEL_ABORTED)
// and charges only for what streamed. Several sessions talk at once; onset (end
// of utterance → first token) and turn (end of utterance → answer done and
// booking confirmed) are measured on the node clock and reported as p50/p95 and
// jitter against the contract's SLO.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, defineTool, streamCompletion, syscall, type AgentOsNode, type Clock, type CompletionRequest, type Message, type StreamCompletionEvent, type ToolCall, type ToolSpec } from '../src/index.js';

// ── the speech stream: each utterance arrives as a few recognised chunks, the last one final ──
export interface Utterance {
  chunks: string[];
  /** Spoken while the previous answer is still streaming, instead of after it. */
  bargeIn?: boolean;
}

export const SCRIPT: readonly Utterance[] = [
  { chunks: ['can you book', 'a meeting with Dana', 'tomorrow at 10'] },
  { chunks: ['actually', 'make it 11'], bargeIn: true },
  { chunks: ['also book a call', 'with Priya on Friday at 3'] },
];

/** The paper's SRT targets; the contract's SLO holds the upper bounds. */
export const TARGET = { onsetMs: [150, 300], turnMs: [800, 1200], jitterP95Pct: 20 } as const;

// Pacing of the local model: a small on-device model's prefill and decode speed. Answers of
// 25–28 tokens then take about 0.9–1 s, which puts the turns inside the target band.
export const MODEL_PACE = { firstTokenDelayMs: 180, tokensPerSecond: 35 };
export const SESSIONS = 6;
const CHUNK_GAP_MS = 80; // between recognised chunks of one utterance
const THINK_MS = 150; // the user's pause after an answer
export const BARGE_IN_AFTER_CHUNKS = 12; // the user cuts in once this much of the answer has streamed

// ── the calendar: a tool that records what it booked, stamped on the node clock ──
export interface Booking {
  session: string;
  title: string;
  with: string;
  day: string;
  time: string;
  bookedAt: number;
}

const BookArgs = z.object({ title: z.string(), with: z.string(), day: z.string(), time: z.string().regex(/^\d{2}:00$/) });
export const BOOK_TOOL: ToolSpec = {
  name: 'calendar.book',
  description: 'Book a meeting.',
  parameters: { type: 'object', properties: { title: { type: 'string' }, with: { type: 'string' }, day: { type: 'string' }, time: { type: 'string' } }, required: ['title', 'with', 'day', 'time'] },
};

export function calendar(clock: Clock) {
  const bookings: Booking[] = [];
  const tool = defineTool({
    name: 'calendar.book',
    description: 'Book a meeting; returns the booking.',
    input: BookArgs,
    execute: (args, ctx) => {
      const booking: Booking = { session: ctx.actor, ...args, bookedAt: clock.now() };
      bookings.push(booking);
      return booking;
    },
  });
  return { tool, bookings };
}

// ── the local model: understands booking requests and corrections, deterministically ──
const BOOK = /\bbook (?:a |an )?(meeting|call|lunch) with (\w+) (?:on )?(\w+) at (\d{1,2})\b/i;
const CORRECTION = /\bmake it (\d{1,2})\b/i;
/** "at 3" in a work calendar is 15:00. */
const clockTime = (hour: string): string => `${String(Number(hour) < 8 ? Number(hour) + 12 : Number(hour)).padStart(2, '0')}:00`;
const dayPhrase = (day: string): string => (/^(today|tomorrow)$/i.test(day) ? day.toLowerCase() : `on ${day}`);

/** A local model (`local/scheduler`): a pure function from the conversation to a reply and, if offered the tool, a booking. */
export function schedulerModel(request: CompletionRequest): { text: string; toolCalls?: { name: string; arguments: Record<string, unknown> }[] } {
  const said = request.messages.filter((m) => m.role === 'user').map((m) => m.content);
  const offered = (request.tools ?? []).some((t) => t.name === BOOK_TOOL.name);
  const reply = (text: string, [, what, who, day]: RegExpExecArray, time: string) => ({
    text,
    ...(offered ? { toolCalls: [{ name: BOOK_TOOL.name, arguments: { title: what!.toLowerCase(), with: who!, day: day!, time } }] } : {}),
  });
  const asked = BOOK.exec(said[said.length - 1] ?? '');
  if (asked) {
    const [, what, who, day, hour] = asked;
    return reply(`Sure, booking a ${what} with ${who} ${dayPhrase(day!)} at ${clockTime(hour!)}, and I will send ${who} the invite.`, asked, clockTime(hour!));
  }
  // "actually, make it 11": the latest request before this one, at the new hour.
  const correction = CORRECTION.exec(said[said.length - 1] ?? '');
  const earlier = said.slice(0, -1).reverse().map((s) => BOOK.exec(s)).find((m) => m !== null);
  if (correction && earlier) {
    const [, what, who, day] = earlier;
    return reply(`Okay, I changed it: the ${what} with ${who} is ${dayPhrase(day!)} at ${clockTime(correction[1]!)}, and the invite goes out now.`, earlier, clockTime(correction[1]!));
  }
  return { text: 'Sorry, I did not catch a meeting in that. Tell me who, which day and what time, and I will book it.' };
}

// ── the copilot: one per session ──────────────────────────────────────────
const messages = z.discriminatedUnion('type', [
  // A recognised chunk of speech; `at` is when the recogniser emitted it (node clock), `final` ends the utterance.
  z.object({ type: z.literal('speech'), text: z.string(), final: z.boolean(), at: z.number() }),
]);
type Speech = z.infer<typeof messages>;

/** One turn: an utterance and what became of it. Times are on the node clock. */
export interface Turn {
  utterance: string;
  endedAt: number;
  firstTokenAt?: number;
  doneAt?: number;
  outcome: 'pending' | 'answered' | 'booked' | 'barged-in' | 'failed';
  /** What streamed, in chunks (cut short on barge-in). */
  chunks: string[];
  booking?: Booking;
  error?: string;
}

export interface CopilotContext {
  heard: string[];
  /** A complete utterance not yet answered. */
  utterance?: { text: string; endedAt: number };
  conversation: Message[];
  turns: Turn[];
  call?: ToolCall;
}

const SYSTEM = 'You are a scheduling copilot. Book what the user asks for with calendar.book; keep answers to one sentence.';
const current = (c: CopilotContext): Turn => c.turns[c.turns.length - 1]!;
const patch = (c: CopilotContext, p: Partial<Turn>): Turn[] => [...c.turns.slice(0, -1), { ...current(c), ...p }];
const said = (c: CopilotContext): string => current(c).chunks.join('');

const copilotMachine = setup({
  types: { context: {} as CopilotContext, events: {} as Speech | StreamCompletionEvent },
  actors: { streamCompletion, syscall },
  guards: {
    heardUtterance: ({ context }) => context.utterance !== undefined,
    madeCall: ({ context }) => context.call !== undefined,
  },
  actions: {
    hear: assign(({ context, event }) => {
      const e = event as Speech;
      const heard = [...context.heard, e.text];
      return e.final ? { heard: [], utterance: { text: heard.join(' '), endedAt: e.at } } : { heard };
    }),
    startTurn: assign(({ context }) => ({
      conversation: [...context.conversation, { role: 'user' as const, content: context.utterance!.text }],
      turns: [...context.turns, { utterance: context.utterance!.text, endedAt: context.utterance!.endedAt, outcome: 'pending' as const, chunks: [] }],
      utterance: undefined,
      call: undefined,
    })),
    // The user spoke over the answer: what was said so far stays in the conversation, cut off.
    bargeIn: assign(({ context }) => ({
      turns: patch(context, { outcome: 'barged-in' }),
      conversation: [...context.conversation, { role: 'assistant' as const, content: `${said(context)}…` }],
    })),
  },
}).createMachine({
  id: 'copilot',
  context: { heard: [], conversation: [], turns: [] },
  initial: 'listening',
  on: { speech: { actions: 'hear' } },
  states: {
    listening: { always: { guard: 'heardUtterance', target: 'responding', actions: 'startTurn' } },
    responding: {
      invoke: {
        src: 'streamCompletion',
        input: ({ context }) => ({ model: 'local/scheduler', messages: [{ role: 'system' as const, content: SYSTEM }, ...context.conversation], tools: [BOOK_TOOL], maxTokens: 80 }),
      },
      on: {
        'model.chunk': { actions: assign({ turns: ({ context, event }) => patch(context, { chunks: [...current(context).chunks, event.text], firstTokenAt: current(context).firstTokenAt ?? event.at }) }) },
        'model.tool_call': { actions: assign(({ event }) => ({ call: event.call })) },
        'model.done': [
          { guard: 'madeCall', target: 'booking' },
          {
            target: 'listening',
            actions: assign(({ context, event }) => ({
              turns: patch(context, { outcome: 'answered', doneAt: event.completion.metrics.startedAt + event.completion.metrics.durationMs }),
              conversation: [...context.conversation, { role: 'assistant' as const, content: event.text }],
            })),
          },
        ],
        'model.error': { target: 'listening', actions: assign({ turns: ({ context, event }) => patch(context, { outcome: 'failed', error: event.code }) }) },
        // Barge-in: leaving this state stops the stream.
        speech: { target: 'listening', actions: ['bargeIn', 'hear'] },
      },
    },
    booking: {
      invoke: {
        src: 'syscall',
        input: ({ context }) => ({ kind: 'tool' as const, name: context.call!.name, args: context.call!.arguments }),
        onDone: {
          target: 'listening',
          actions: assign(({ context, event }) => ({
            turns: patch(context, { outcome: 'booked', booking: event.output as Booking, doneAt: (event.output as Booking).bookedAt }),
            conversation: [...context.conversation, { role: 'assistant' as const, content: said(context) }],
          })),
        },
        onError: { target: 'listening', actions: assign({ turns: ({ context, event }) => patch(context, { outcome: 'failed', error: (event.error as { code?: string }).code ?? 'ERROR' }) }) },
      },
    },
  },
});

export const copilot = defineAgent({
  name: 'copilot',
  messages,
  machine: copilotMachine,
  contract: {
    class: { latency: 'SRT', slo: { onset_ms: TARGET.onsetMs[1], turn_ms: TARGET.turnMs[1], jitter_p95_pct: TARGET.jitterP95Pct } },
    capabilities: ['calendar.book'],
    modelPolicy: { allow: ['local/scheduler'], max_context_tokens: 4000 },
  },
});

// ── figures ───────────────────────────────────────────────────────────────
export interface Figures {
  count: number;
  p50: number;
  p95: number;
}

/** Nearest-rank percentiles. */
function figures(values: number[]): Figures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95) };
}

export interface CopilotSummary {
  sessions: number;
  /** Every session's turns, in order. */
  turns: Record<string, Turn[]>;
  bookings: Booking[];
  /** Streams settled as cancelled in the audit log (one per barge-in), with the tokens charged against those reserved. */
  cancelled: { actor: string; code: string; reserved: number; charged: number }[];
  onsetMs: Figures;
  turnMs: Figures;
  /** p95 of |turn − median turn|, in percent of the SLO's turn_ms (the contract's jitter_p95_pct). */
  jitterP95Pct: number;
  slo: { onset: boolean; turn: boolean; jitter: boolean; inTargetBand: boolean };
}

// ── running it ────────────────────────────────────────────────────────────
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`speech copilot: timed out waiting for ${what}`);
    await sleep(2);
  }
}

/**
 * One turn through the whole path before the sessions start, as a service would after
 * loading its model: in a fresh process the first turns run 50–100 ms slower while V8
 * compiles the path. The warm-up copilot is stopped mid-answer (its stream is aborted)
 * and left out of the figures.
 */
async function warmUp(node: AgentOsNode): Promise<void> {
  const ref = await node.spawn(copilot, { id: 'warm-up' });
  ref.send({ type: 'speech', text: 'book a meeting with Dana tomorrow at 10', final: true, at: node.clock.now() });
  await until(() => ((ref.getSnapshot()!.context as CopilotContext).turns[0]?.chunks.length ?? 0) > 0, 'the warm-up turn');
  await ref.stop();
}

export async function main(dataDir = '.agentos/speech-copilot'): Promise<CopilotSummary> {
  const node = await createNode({
    name: 'copilot',
    dataDir,
    modelGateway: {
      local: { models: { scheduler: schedulerModel }, ...MODEL_PACE },
      catalog: [{ id: 'local/scheduler', contextTokens: 4096, placement: 'edge', privacy: ['public', 'internal', 'confidential', 'pii'] }],
    },
  });
  try {
    const cal = calendar(node.clock);
    node.tools.register(cal.tool);
    await warmUp(node);
    const ids = Array.from({ length: SESSIONS }, (_, i) => `copilot-${i + 1}`);
    const refs = await Promise.all(ids.map((id) => node.spawn(copilot, { id })));
    const ctx = (i: number): CopilotContext => refs[i]!.getSnapshot()!.context as CopilotContext;
    const state = (i: number): unknown => refs[i]!.getSnapshot()!.value;
    const idle = (i: number): boolean => state(i) === 'listening' && ctx(i).utterance === undefined && ctx(i).heard.length === 0;
    const midAnswer = (i: number): boolean => state(i) === 'responding' && current(ctx(i)).chunks.length >= BARGE_IN_AFTER_CHUNKS;

    // One user per session: speak, wait for the answer (or cut in), speak again. Sessions start 50 ms apart.
    const converse = async (i: number): Promise<void> => {
      await sleep(i * 50);
      for (const u of SCRIPT) {
        if (u.bargeIn) await until(() => midAnswer(i), 'an answer to interrupt');
        else {
          await until(() => idle(i), 'the copilot to finish its answer');
          await sleep(THINK_MS);
        }
        for (const [k, text] of u.chunks.entries()) {
          if (k > 0) await sleep(CHUNK_GAP_MS);
          refs[i]!.send({ type: 'speech', text, final: k === u.chunks.length - 1, at: node.clock.now() });
        }
      }
      await until(() => idle(i), 'the last answer');
    };
    await Promise.all(ids.map((_, i) => converse(i)));

    const turns = Object.fromEntries(ids.map((id, i) => [id, ctx(i).turns]));
    const all = Object.values(turns).flat();
    const onsets = all.filter((t) => t.firstTokenAt !== undefined).map((t) => t.firstTokenAt! - t.endedAt);
    const completed = all.filter((t) => t.outcome === 'answered' || t.outcome === 'booked').map((t) => t.doneAt! - t.endedAt);
    const onsetMs = figures(onsets);
    const turnMs = figures(completed);
    const jitterP95Pct = (figures(completed.map((t) => Math.abs(t - turnMs.p50))).p95 / TARGET.turnMs[1]) * 100;
    const cancelled = Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as { kind: string; decision: string; actor: string; data?: Record<string, unknown> })
      .filter((r) => r.kind === 'budget' && r.decision === 'settled' && r.data?.outcome === 'cancelled' && ids.includes(r.actor))
      .map((r) => ({ actor: r.actor, code: String(r.data!.code), reserved: Number(r.data!.reserved), charged: Number(r.data!.actual) }));
    const summary: CopilotSummary = {
      sessions: SESSIONS,
      turns,
      bookings: cal.bookings,
      cancelled,
      onsetMs,
      turnMs,
      jitterP95Pct,
      slo: {
        onset: onsetMs.p95 <= TARGET.onsetMs[1],
        turn: turnMs.p95 <= TARGET.turnMs[1],
        jitter: jitterP95Pct <= TARGET.jitterP95Pct,
        inTargetBand: onsetMs.p50 >= TARGET.onsetMs[0] && turnMs.p50 >= TARGET.turnMs[0],
      },
    };
    print(summary, ids[0]!);
    return summary;
  } finally {
    await node.stop();
  }
}

// ── the report ────────────────────────────────────────────────────────────
function print(s: CopilotSummary, shown: string): void {
  const ms = (x: number): string => `${Math.round(x)} ms`;
  console.log(`${shown} (one of ${s.sessions} sessions talking at once):`);
  for (const t of s.turns[shown]!) {
    const onset = t.firstTokenAt === undefined ? '' : `onset ${ms(t.firstTokenAt - t.endedAt)}`;
    const end = t.doneAt === undefined ? '' : `, turn ${ms(t.doneAt - t.endedAt)}`;
    console.log(`  user: "${t.utterance}"`);
    const text = t.chunks.join('');
    const verdict = t.outcome === 'barged-in' ? `  ✂ cut off by barge-in after ${t.chunks.length} chunks` : t.outcome === 'booked' ? `  → booked ${t.booking!.title} with ${t.booking!.with}, ${t.booking!.day} ${t.booking!.time}` : '';
    console.log(`  copilot: "${t.outcome === 'barged-in' ? `${text}…` : text}"${verdict}  (${onset}${end})`);
  }
  const booked = s.bookings.filter((b) => b.session === shown).map((b) => `${b.title} with ${b.with} ${b.day} ${b.time}`);
  console.log(`  calendar of ${shown}: ${booked.join('; ')}`);
  console.log(`barge-ins: ${s.cancelled.length} streams cancelled (${[...new Set(s.cancelled.map((c) => c.code))].join(', ')}), charged ${s.cancelled.reduce((n, c) => n + c.charged, 0)} of ${s.cancelled.reduce((n, c) => n + c.reserved, 0)} tokens reserved`);
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log(`latency on the node clock, ${s.sessions} sessions (local model: ${MODEL_PACE.firstTokenDelayMs} ms prefill, ${MODEL_PACE.tokensPerSecond} tokens/s):`);
  console.log(`  onset  p50 ${ms(s.onsetMs.p50)}, p95 ${ms(s.onsetMs.p95)} over ${s.onsetMs.count} turns; SLO ≤ ${TARGET.onsetMs[1]} ms (target ${TARGET.onsetMs.join('–')} ms): ${verdict(s.slo.onset)}`);
  console.log(`  turn   p50 ${ms(s.turnMs.p50)}, p95 ${ms(s.turnMs.p95)} over ${s.turnMs.count} turns; SLO ≤ ${TARGET.turnMs[1]} ms (target ${TARGET.turnMs.join('–')} ms): ${verdict(s.slo.turn)}`);
  console.log(`  jitter p95 ${s.jitterP95Pct.toFixed(1)} % of turn_ms; SLO ≤ ${TARGET.jitterP95Pct} %: ${verdict(s.slo.jitter)}`);
  console.log(`  (a simulation: the model's pace is chosen; what is measured is agentos's path on top of it — routing, policy, audit, streaming, the tool call${s.slo.inTargetBand ? '' : '; medians fall below the target band'})`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
