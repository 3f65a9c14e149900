import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/base/clock.js';
import { VirtualClock } from '../../../src/base/clock.js';
import { evaluateRetrieval } from '../../../src/services/memory/diagnostics.js';
import { providerEmbedder, HashingEmbedder } from '../../../src/services/memory/embedder.js';
import { groundAnswer, sentences } from '../../../src/services/memory/ground.js';
import { DerivedKeyring } from '../../../src/services/memory/keyring.js';
import { Memory } from '../../../src/services/memory/memory.js';
import { buildCorpus } from './corpus.js';
import { codeOf, MASTER, openMemory, rawRecords, type TestMemory } from './helpers.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const POLICY = `Refund policy. Customers may return an unopened espresso machine within 30 days for a full refund.
Opened machines can be returned within 14 days; a restocking fee of 10 percent applies.

Warranty. Every espresso machine has a two-year warranty on the pump and the boiler. The warranty does not cover descaling damage.`;

let t: TestMemory;
beforeEach(() => (t = openMemory()));
afterEach(() => t.close());

describe('ingest', () => {
  it('chunks with offsets into the stored text, hashes every chunk with SHA-256, and reports it', async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    const report = await rag.ingest({ sourceId: 'policy.md', text: POLICY, chunk: { size: 120, overlap: 20 } });
    expect(report).toMatchObject({ sourceId: 'policy.md', sourceHash: sha(POLICY), unchanged: false, replaced: false, redactions: { total: 0 } });
    expect(report.chunks.length).toBeGreaterThan(2);
    for (const c of report.chunks) expect(c.hash).toBe(sha(POLICY.slice(c.start, c.end)));
    expect(rag.source('policy.md')).toMatchObject({ hash: sha(POLICY), chunks: report.chunks.length, chars: POLICY.length, chunking: { size: 120, overlap: 20 } });
  });

  it('is idempotent for the same text, replaces a changed source, and forgets a removed one', async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    await rag.ingest({ sourceId: 'p', text: POLICY });
    const records = rawRecords(t.db);
    expect(await rag.ingest({ sourceId: 'p', text: POLICY })).toMatchObject({ unchanged: true });
    expect(rawRecords(t.db)).toEqual(records);
    const v2 = await rag.ingest({ sourceId: 'p', text: 'Refunds are no longer offered on espresso machines.' });
    expect(v2).toMatchObject({ unchanged: false, replaced: true, chunks: [expect.objectContaining({ index: 0 })] });
    const found = await rag.query('refund espresso machine', { topK: 5 });
    expect(found.passages.map((p) => p.text)).toEqual(['Refunds are no longer offered on espresso machines.']);
    expect(await rag.remove('p')).toBe(true);
    expect(await rag.remove('p')).toBe(false);
    expect((await rag.query('refund espresso machine', { topK: 5 })).passages).toEqual([]);
    // Only the scope's dimension record is left.
    expect(rawRecords(t.db)).toHaveLength(1);
  });

  it('redacts PII before chunking when asked, and counts it', async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    const report = await rag.ingest({ sourceId: 'intake', text: 'Patient reachable at jo@example.com or 555-123-4567, SSN 123-45-6789, complains of a cough.', redact: true });
    expect(report.redactions).toEqual({ email: 1, phone: 1, ssn: 1, total: 3 });
    const { passages } = await rag.retrieve('patient cough', { topK: 1 });
    expect(passages[0]!.text).toBe('Patient reachable at [EMAIL] or [PHONE], SSN [SSN], complains of a cough.');
  });

  it('an embedder that returns the wrong dimension fails the ingest with MEMORY_BAD_DIMENSION and writes nothing', async () => {
    const bad = Memory.open({ db: t.db, clock: t.clock, keyring: new DerivedKeyring(MASTER), embedder: providerEmbedder({ id: 'remote/broken', dimension: 256, embed: async (texts) => texts.map(() => new Array(255).fill(0.1)) }) });
    const err = await bad.scope({ tenant: 'acme', namespace: 'kb' }).rag.ingest({ sourceId: 'p', text: POLICY }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MEMORY_BAD_DIMENSION', details: { expected: 256, got: 255 } });
    expect(rawRecords(t.db)).toEqual([]);
  });

  it('a namespace embedded by one embedder refuses another of the same dimension, without writing', async () => {
    await t.memory.scope({ tenant: 'acme', namespace: 'kb' }).rag.ingest({ sourceId: 'p', text: POLICY });
    const other = Memory.open({ db: t.db, clock: t.clock, keyring: new DerivedKeyring(MASTER), embedder: new HashingEmbedder({ ngramWeight: 0.1 }) });
    const rag = other.scope({ tenant: 'acme', namespace: 'kb' }).rag;
    const before = rawRecords(t.db);
    expect(await codeOf(rag.ingest({ sourceId: 'q', text: 'Another text.' }))).toBe('MEMORY_EMBEDDER_MISMATCH');
    expect(await codeOf(rag.query('warranty', { topK: 1 }))).toBe('MEMORY_EMBEDDER_MISMATCH');
    expect(rawRecords(t.db)).toEqual(before);
  });

  it('refuses bad input with typed errors', async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    expect(await codeOf(rag.ingest({ sourceId: '', text: 'x' }))).toBe('MEMORY_INVALID_ARGS');
    expect(await codeOf(rag.ingest({ sourceId: 's'.repeat(300), text: 'x' }))).toBe('MEMORY_TOO_LARGE');
    expect(await codeOf(rag.ingest({ sourceId: 'p', text: 'x', chunk: { size: 100, overlap: 80 } }))).toBe('MEMORY_INVALID_ARGS');
    expect(await codeOf(rag.retrieve('', { topK: 1 }))).toBe('MEMORY_INVALID_ARGS');
    expect(await codeOf(rag.retrieve('q', { topK: 0 }))).toBe('MEMORY_INVALID_ARGS');
    expect(rawRecords(t.db)).toEqual([]);
  });
});

describe('query, citations and grounding', () => {
  beforeEach(async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    await rag.ingest({ sourceId: 'policy.md', text: POLICY, chunk: { size: 160, overlap: 30 } });
    await rag.ingest({ sourceId: 'drone.md', text: 'The drone returns home automatically when the radio signal is lost for three seconds.' });
  });

  it('answers with passages and citations that point at exact text of the source', async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    const answer = await rag.query('How long is the warranty on the pump?', { topK: 3 });
    expect(answer.grounded).toBe(true);
    const top = answer.passages[0]!;
    expect(top).toMatchObject({ sourceId: 'policy.md', sourceHash: sha(POLICY) });
    expect(top.text).toContain('two-year warranty');
    expect(POLICY.slice(top.start, top.end)).toBe(top.text);
    expect(top.hash).toBe(sha(top.text));
    expect(answer.citations[0]).toEqual({ ref: top.ref, sourceId: 'policy.md', chunk: top.chunk, start: top.start, end: top.end, hash: top.hash, sourceHash: top.sourceHash, score: top.score });
    expect(answer.context).toMatch(/^\[1\] \(policy\.md#\d+\) /);
    expect(rag.passage(top.ref)).toMatchObject({ sourceId: 'policy.md', chunk: top.chunk, text: top.text });
    expect(answer.diagnostics).toMatchObject({ rerank: 'lexical', minScore: 0.15, minCoverage: 0.4, sourceHashes: expect.arrayContaining([sha(POLICY)]) });
  });

  it('with require_grounding, refuses a query nothing supports — or flags it, as configured', async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    const err = await rag.query('What is the capital of Mongolia?', { topK: 3, requireGrounding: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MEMORY_UNGROUNDED', field: 'query' });
    const flagged = await rag.query('What is the capital of Mongolia?', { topK: 3, requireGrounding: true, onUngrounded: 'flag' });
    expect(flagged).toMatchObject({ grounded: false, flagged: true, passages: [], citations: [] });
    const loose = await rag.query('What is the capital of Mongolia?', { topK: 3 });
    expect(loose.grounded).toBe(false);
    expect(loose.flagged).toBeUndefined();
    const supported = await rag.query('What happens when the drone loses its radio signal?', { topK: 3, requireGrounding: true });
    expect(supported.passages[0]).toMatchObject({ sourceId: 'drone.md' });
    expect(supported.passages.every((p) => p.cosine >= 0.15 && p.coverage >= 0.4)).toBe(true);
  });

  it('grounds a model answer claim by claim, with the citations that support each', async () => {
    const { rag } = t.memory.scope({ tenant: 'acme', namespace: 'kb' });
    const { citations } = await rag.query('refund for an opened espresso machine', { topK: 3 });
    const good = await groundAnswer(rag, 'Opened machines can be returned within 14 days. A restocking fee of 10 percent applies.', { refs: citations.map((c) => c.ref) });
    expect(good).toMatchObject({ grounded: true, supported: 1 });
    expect(good.claims.every((c) => c.citations.length > 0)).toBe(true);
    const mixed = await groundAnswer(rag, 'Opened machines can be returned within 14 days. Shipping to Mars is free on Tuesdays.');
    expect(mixed.grounded).toBe(false);
    expect(mixed.claims.map((c) => c.supported)).toEqual([true, false]);
    expect(sentences('One. Two!  Three?')).toEqual([
      { text: 'One.', start: 0, end: 4 },
      { text: 'Two!', start: 5, end: 9 },
      { text: 'Three?', start: 11, end: 17 },
    ]);
  });

  it('measures retrieval latency on the injected clock', async () => {
    // A clock that advances 2 ms whenever it is read: embed → search → rank reads it twice.
    let now = 0;
    const ticking: Clock = { now: () => (now += 2), setTimeout: () => 0, clearTimeout: () => {} };
    const m = Memory.open({ db: t.db, clock: ticking, keyring: new DerivedKeyring(MASTER) });
    const { diagnostics } = await m.scope({ tenant: 'acme', namespace: 'kb' }).rag.retrieve('warranty pump', { topK: 2 });
    expect(diagnostics.latencyMs).toBeGreaterThan(0);
    expect(diagnostics.latencyMs % 2).toBe(0);
  });
});

describe('retrieval quality on a synthetic labelled corpus', () => {
  it('hit-rate@5 with the 256-dim hashing embedder: >= 0.9 with lexical re-rank, >= 0.7 by cosine alone', async () => {
    // Thresholds were set on another seed (7) of the same generator; this one is unseen.
    const clock = new VirtualClock(0);
    const m = Memory.open({ db: t.db, clock, keyring: new DerivedKeyring(MASTER), embedder: new HashingEmbedder() });
    const { rag } = m.scope({ tenant: 'eval', namespace: 'kb' });
    const { docs, queries } = buildCorpus(2024, 120);
    for (const d of docs) await rag.ingest({ sourceId: d.sourceId, text: d.text, chunk: { size: 400, overlap: 60 } });
    const lexical = await evaluateRetrieval(rag, queries, { k: 5, rerank: 'lexical' });
    const cosine = await evaluateRetrieval(rag, queries, { k: 5, rerank: 'none' });
    const byKind = async (kind: string) => (await evaluateRetrieval(rag, queries.filter((q) => q.kind === kind), { k: 5, rerank: 'lexical' })).hitRate.toFixed(2);
    console.log(
      `retrieval, ${docs.length} docs / ${rag.vectors.size()} chunks / ${queries.length} queries: hit@5 lexical ${lexical.hitRate.toFixed(3)} (mrr ${lexical.mrr.toFixed(3)}), cosine ${cosine.hitRate.toFixed(3)} (mrr ${cosine.mrr.toFixed(3)}); ` +
        `by kind (lexical): factory ${await byKind('factory')}, feature ${await byKind('feature')}, fault ${await byKind('fault')}, warranty ${await byKind('warranty')}`,
    );
    expect(lexical.queries).toBe(480);
    expect(lexical.hitRate).toBeGreaterThanOrEqual(0.9);
    expect(cosine.hitRate).toBeGreaterThanOrEqual(0.7);
    expect(lexical.sourceHashes.length).toBeGreaterThan(100);
    expect(lexical.latencyMs).toEqual({ p50: 0, p95: 0, max: 0, mean: 0 }); // virtual time does not move by itself
  });
});
