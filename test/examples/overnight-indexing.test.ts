// Overnight RAG indexing (examples/overnight-indexing.ts) end to end: a real child
// process is SIGKILLed midway through the corpus, a second one resumes the persistent
// indexer on the same data dir, and the tool's own records — read again here, not
// taken from the example's summary — show every document embedded exactly once and
// no call run twice except the key-honouring retry of the call the kill cut short.
// The checker is also shown to catch what it claims to catch, and the tool to honour
// its idempotency key.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIndex, main, type IndexingSummary } from '../../examples/overnight-indexing.js';
import { CALLS_FILE, embedBatchTool, generateCorpus, readLines, STORE_FILE, type Invocation, type StoredVector } from '../../examples/support/indexer.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('agentos-indexing-');
afterAll(() => tmp.cleanup());

describe('overnight indexing example', () => {
  let s: IndexingSummary;
  const dir = () => join(tmp.dir, 'job');
  beforeAll(async () => {
    s = await main(dir());
  }, 60_000);

  it('every document of the corpus is in the vector store exactly once, across the kill (counted from the store itself)', () => {
    const corpus = generateCorpus(s.docs);
    const perDoc = new Map<string, number>();
    for (const v of readLines<StoredVector>(join(dir(), 'store', STORE_FILE))) perDoc.set(v.doc, (perDoc.get(v.doc) ?? 0) + 1);
    expect(perDoc.size).toBe(corpus.length);
    for (const d of corpus) expect(perDoc.get(d.id), d.id).toBe(1);
    expect(s.embeds).toEqual({ stored: s.docs, missing: [], duplicated: [] });
  });

  it('the kill landed midway: the first process embedded part of the corpus, the second resumed the stored agent and did the rest', () => {
    const [first, second] = s.runs;
    expect(first!.killed).toBe(true);
    expect(first!.resumed).toBe(false);
    expect(first!.embedded).toBeGreaterThan(0);
    expect(first!.embedded).toBeLessThan(s.docs);
    expect(second!.killed).toBe(false);
    expect(second!.resumed).toBe(true);
    expect(second!.embedded).toBeGreaterThan(0);
    expect(first!.embedded + second!.embedded).toBe(s.docs);
    expect(s.kill.pct).toBeGreaterThan(20);
    expect(s.kill.pct).toBeLessThan(90);
    expect(s.recovery).toMatchObject({ restored: ['indexer'], held: 0 });
  });

  it('no tool call ran twice: one key per batch, and a key ran again only as the retry (attempt 2, next process) of the call cut short', () => {
    const calls = readLines<Invocation>(join(dir(), 'store', CALLS_FILE));
    const keys = new Set(calls.map((c) => c.key));
    expect(keys.size).toBe(s.batches);
    expect(new Set(calls.map((c) => c.batch)).size).toBe(s.batches);
    expect(s.calls.batchesUnderTwoKeys).toEqual([]);
    expect(s.calls.repeatedFirstAttempts).toBe(0);
    // At most one call was in flight at the kill; it ran again only as attempt 2, in the second process.
    expect(s.calls.retried.length).toBeLessThanOrEqual(1);
    expect(calls.filter((c) => c.attempt > 1)).toHaveLength(s.calls.retried.length);
    for (const r of s.calls.retried) {
      // [1, 2]: the tool had started when the kill came; [2]: the call was journaled as dispatched, the tool not started.
      expect([[1, 2], [2]]).toContainEqual(r.attempts);
      expect(r.pids).toEqual(r.attempts.length === 2 ? s.runs.map((x) => x.pid) : [s.runs[1]!.pid]);
      expect(r.written.reduce((a, b) => a + b, 0)).toBe(100); // the whole batch, split between the attempts, nothing twice
    }
    const retriedFirstAttempts = s.calls.retried.filter((r) => r.attempts[0] === 1).length;
    expect(calls).toHaveLength(s.batches + retriedFirstAttempts);
    expect(calls.filter((c) => c.attempt === 1)).toHaveLength(s.batches - s.calls.retried.length + retriedFirstAttempts);
    // Recovery took up the call its checkpoint had in flight (if the kill fell inside one).
    expect(s.recovery.resumedCalls).toBeGreaterThanOrEqual(s.calls.retried.length);
    expect(s.recovery.resumedCalls).toBeLessThanOrEqual(1);
  });

  it('the effect journal’s hash chains verify, with an outcome for every batch', () => {
    expect(s.journal.ok).toBe(true);
    expect(s.journal.inDoubt).toBe(0);
    expect(s.journal.entries).toBeGreaterThanOrEqual(2 * s.batches); // dispatched + completed per call
  });

  it('reports throughput and answers a query from the index', () => {
    expect(s.throughput.indexingDocsPerSec).toBeGreaterThan(0);
    expect(s.throughput.overallDocsPerSec).toBeGreaterThan(0);
    expect(s.throughput.indexingDocsPerSec).toBeGreaterThanOrEqual(s.throughput.overallDocsPerSec);
    expect(s.query.top).toHaveLength(3);
    expect(s.query.top[0]!.score).toBeGreaterThanOrEqual(s.query.top[2]!.score);
    expect(s.query.top[0]!.text).toContain('warranty claim for a coffee grinder');
  });
});

describe('the index checker and the key-honouring tool', () => {
  it('flags a document stored twice, a missing one, and a batch re-run under a second key', () => {
    const store = join(tmp.dir, 'fabricated');
    mkdirSync(store, { recursive: true });
    const corpus = generateCorpus(3);
    const v = (doc: string, key: string, batch: number): string => JSON.stringify({ doc, key, batch, pid: 1, vector: '' }) + '\n';
    writeFileSync(join(store, STORE_FILE), v('doc-00000', 'k0', 0) + v('doc-00001', 'k0', 0) + v('doc-00001', 'k1', 0));
    const i = (key: string, batch: number, attempt: number): string => JSON.stringify({ key, batch, attempt, pid: 1 }) + '\n';
    writeFileSync(join(store, CALLS_FILE), i('k0', 0, 1) + i('k1', 0, 1) + i('k1', 0, 1));
    const r = checkIndex(corpus, store);
    expect(r.embeds).toEqual({ stored: 3, missing: ['doc-00002'], duplicated: ['doc-00001'] });
    expect(r.calls.batchesUnderTwoKeys).toEqual([0]);
    expect(r.calls.repeatedFirstAttempts).toBe(1);
  });

  it('a retry under the same key writes only what the first attempt did not; another key writes again', async () => {
    const store = join(tmp.dir, 'tool');
    mkdirSync(store, { recursive: true });
    const corpus = generateCorpus(10);
    // A first attempt that wrote 4 of its 10 documents before the process died.
    writeFileSync(join(store, STORE_FILE), corpus.slice(0, 4).map((d) => JSON.stringify({ doc: d.id, key: 'ik1/indexer/t1/c0', batch: 0, pid: 1, vector: '' })).join('\n') + '\n');
    const tool = embedBatchTool(corpus, store, 0);
    const args = { batch: 0, first: 0, count: 10 };
    await expect(tool.execute(args, { actor: 'indexer', tenant: 'default', key: 'ik1/indexer/t1/c0', attempt: 2 })).resolves.toEqual({ batch: 0, embedded: 6, skipped: 4 });
    await expect(tool.execute(args, { actor: 'indexer', tenant: 'default', key: 'ik1/indexer/t1/c0', attempt: 3 })).resolves.toEqual({ batch: 0, embedded: 0, skipped: 10 });
    expect(checkIndex(corpus, store).embeds.duplicated).toEqual([]);
    await tool.execute(args, { actor: 'indexer', tenant: 'default', key: 'ik1/indexer/t2/c0', attempt: 1 });
    expect(checkIndex(corpus, store).embeds.duplicated).toHaveLength(10);
    await expect(tool.execute(args, { actor: 'indexer', tenant: 'default' })).rejects.toThrow(/idempotency key/);
  });
});
