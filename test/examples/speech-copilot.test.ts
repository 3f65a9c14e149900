// The speech scheduling copilot (examples/speech-copilot.ts) end to end: every
// session's first answer is cut off by the barge-in — its stream aborted and
// settled as MODEL_ABORTED in the audit log — and only the corrected 11:00 meeting
// is booked; onset and turn figures are reported. Wall-clock figures are checked
// for shape and for the lower bounds the model's pacing sets, never for the SLO.
// The barge-in itself is also a property on a VirtualClock: wherever in the answer
// the user cuts in, the stream stops there and only the correction is booked.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BARGE_IN_AFTER_CHUNKS, calendar, copilot, MODEL_PACE, main, schedulerModel, SESSIONS, type CopilotContext, type CopilotSummary } from '../../examples/speech-copilot.js';
import { createNode, heuristicTokenizer, VirtualClock } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('agentos-copilot-');
afterAll(() => tmp.cleanup());

const FIRST_ANSWER = schedulerModel({ messages: [{ role: 'user', content: 'can you book a meeting with Dana tomorrow at 10' }], tools: [{ name: 'calendar.book', description: '', parameters: {} }] });

describe('speech copilot example', () => {
  let s: CopilotSummary;
  beforeAll(async () => {
    s = await main(`${tmp.dir}/copilot`);
  }, 30_000);

  it('the barge-in aborted each session’s first stream: one MODEL_ABORTED settlement per session in the audit log, charged for less than reserved', () => {
    expect(s.cancelled).toHaveLength(SESSIONS);
    expect(new Set(s.cancelled.map((c) => c.actor))).toEqual(new Set(Object.keys(s.turns)));
    for (const c of s.cancelled) {
      expect(c.code).toBe('MODEL_ABORTED');
      expect(c.charged).toBeLessThan(c.reserved);
    }
  });

  it('every session’s first answer was cut off mid-stream and not booked; the correction and the next request were', () => {
    expect(Object.keys(s.turns)).toHaveLength(SESSIONS);
    for (const turns of Object.values(s.turns)) {
      expect(turns.map((t) => t.outcome)).toEqual(['barged-in', 'booked', 'booked']);
      expect(turns.map((t) => t.utterance)).toEqual(['can you book a meeting with Dana tomorrow at 10', 'actually make it 11', 'also book a call with Priya on Friday at 3']);
      const cut = turns[0]!.chunks.join('');
      expect(turns[0]!.chunks.length).toBeGreaterThanOrEqual(BARGE_IN_AFTER_CHUNKS);
      expect(FIRST_ANSWER.text.startsWith(cut)).toBe(true);
      expect(cut.length).toBeLessThan(FIRST_ANSWER.text.length);
      expect(turns[0]!.booking).toBeUndefined();
      expect(turns[0]!.doneAt).toBeUndefined();
      expect(turns[1]!.chunks.join('')).toContain('tomorrow at 11:00');
    }
  });

  it('only the 11:00 meeting with Dana is booked (once per session), and the call with Priya at 15:00', () => {
    expect(s.bookings).toHaveLength(2 * SESSIONS);
    expect(s.bookings.some((b) => b.time === '10:00')).toBe(false);
    for (const id of Object.keys(s.turns)) {
      expect(s.bookings.filter((b) => b.session === id).map(({ title, with: who, day, time }) => ({ title, with: who, day, time }))).toEqual([
        { title: 'meeting', with: 'Dana', day: 'tomorrow', time: '11:00' },
        { title: 'call', with: 'Priya', day: 'Friday', time: '15:00' },
      ]);
    }
  });

  it('reports onset and turn p50/p95 and jitter, consistent with the verdicts, and never faster than the model’s pacing allows', () => {
    expect(s.onsetMs.count).toBe(3 * SESSIONS); // every turn got a first token, the cut-off ones too
    expect(s.turnMs.count).toBe(2 * SESSIONS); // only completed turns have a full-turn time
    for (const f of [s.onsetMs, s.turnMs]) {
      expect(Number.isFinite(f.p50) && Number.isFinite(f.p95)).toBe(true);
      expect(f.p50).toBeLessThanOrEqual(f.p95);
    }
    // A first token comes after the prefill; a whole answer after ~25 paced tokens (timers may fire ~2 ms early).
    expect(s.onsetMs.p50).toBeGreaterThanOrEqual(MODEL_PACE.firstTokenDelayMs - 2);
    expect(s.turnMs.p50).toBeGreaterThan(MODEL_PACE.firstTokenDelayMs + (20 * 1000) / MODEL_PACE.tokensPerSecond);
    expect(s.jitterP95Pct).toBeGreaterThanOrEqual(0);
    expect(s.slo).toEqual({
      onset: s.onsetMs.p95 <= 300,
      turn: s.turnMs.p95 <= 1200,
      jitter: s.jitterP95Pct <= 20,
      inTargetBand: s.onsetMs.p50 >= 150 && s.turnMs.p50 >= 800,
    });
  });
});

describe('barge-in on a virtual clock', () => {
  const answerChunks = heuristicTokenizer.count(FIRST_ANSWER.text);
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('wherever the user cuts in (after k of the answer’s chunks), the stream stops at k, is settled MODEL_ABORTED, and only 11:00 is booked', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: answerChunks - 1 }), async (k) => {
        const clock = new VirtualClock(0);
        const node = await createNode({
          name: 'vc',
          dataDir: `${tmp.dir}/vc-${run++}`,
          clock,
          modelGateway: { local: { models: { scheduler: schedulerModel }, ...MODEL_PACE }, catalog: [{ id: 'local/scheduler', contextTokens: 4096, placement: 'edge', privacy: ['public', 'internal'] }] },
        });
        try {
          const cal = calendar(clock);
          node.tools.register(cal.tool);
          const ref = await node.spawn(copilot, { id: 'c' });
          const ctx = (): CopilotContext => ref.getSnapshot()!.context as CopilotContext;
          const settle = async (): Promise<void> => {
            for (let i = 0; i < 30; i++) await tick();
          };
          const say = (text: string, final: boolean): void => ref.send({ type: 'speech', text, final, at: clock.now() });
          say('can you book a meeting with Dana tomorrow at 10', true);
          await settle();
          expect(ref.getSnapshot()!.value).toBe('responding');
          // Let exactly k chunks stream, 1 ms of node time at a time.
          for (let guard = 0; (ctx().turns[0]?.chunks.length ?? 0) < k && guard < 5000; guard++) {
            clock.advance(1);
            await settle();
          }
          expect(ctx().turns[0]!.chunks).toHaveLength(k);
          say('actually', false);
          say('make it 11', true);
          await settle();
          for (let guard = 0; cal.bookings.length === 0 && guard < 400; guard++) {
            clock.advance(10);
            await settle();
          }
          clock.advance(5000);
          await settle();
          const turns = ctx().turns;
          expect(turns.map((t) => t.outcome)).toEqual(['barged-in', 'booked']);
          expect(turns[0]!.chunks).toHaveLength(k); // nothing streamed into the machine after the barge-in
          expect(cal.bookings.map((b) => `${b.with} ${b.day} ${b.time}`)).toEqual(['Dana tomorrow 11:00']);
          const settled = Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as { kind: string; decision: string; data?: { outcome?: string; code?: string } }).filter(
            (r) => r.kind === 'budget' && r.decision === 'settled',
          );
          expect(settled.map((r) => [r.data?.outcome, r.data?.code ?? null])).toEqual([
            ['cancelled', 'MODEL_ABORTED'],
            ['done', null],
          ]);
        } finally {
          await node.stop();
        }
      }),
      { numRuns: 12 },
    );
  }, 60_000);
});
