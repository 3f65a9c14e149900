// Lineage on a node: one turn of an assistant that asks a local model,
// retrieves with rag.query and calls a tool is one record with the three calls
// in order — the prompt hash, the retrieved chunks' hashes and the tool's
// manifest and arguments' hash equal to what the spans, the store and the
// registry say — with redacted text only for the contract's log_fields, and
// nothing at all for an actor whose contract turns tracing off. Queries by
// trace id and <actor>#<turn>, the typed errors, and the bound on the store.
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../../src/base/canonical.js';
import { createNode, type AgentOsError, type AgentOsNode, type NodeOptions } from '../../../src/index.js';
import { bookkeeper, ledgerBook } from '../../../src/cli/demo-agents.js';
import { idempotencyKey } from '../../../src/kernel/effects/key.js';
import { hashArgs } from '../../../src/kernel/policy/canonical.js';
import type { ActorCell } from '../../../src/actors/cell.js';
import type { Envelope } from '../../../src/actors/envelope.js';
import { LineageRecorder, lineageOf, startLineage } from '../../../src/services/telemetry/lineage.js';
import type { LineageTurn } from '../../../src/services/telemetry/lineage-record.js';
import { Redactor } from '../../../src/services/tools/redact.js';
import { SecretStore } from '../../../src/services/tools/secrets.js';
import { until } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { API_KEY, assistant, CRM_TOKEN, lookupArgs, ordersLookup, POLICY, promptFor, SECRETS } from './lineage-agents.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  node: AgentOsNode;
  lineage: LineageRecorder;
  spans: InMemorySpanExporter;
}

/** A node with the orders tool, memory and an in-memory span exporter; its lineage recorder (attached here if the node does not attach one itself). */
async function start(options: { keep?: number; telemetry?: boolean; dataDir?: string; tools?: NodeOptions['tools'] } = {}): Promise<Setup> {
  let dataDir = options.dataDir;
  if (dataDir === undefined) {
    const tmp = tempDir('agentos-lineage-');
    cleanups.push(tmp.cleanup);
    dataDir = tmp.dir;
  }
  const secrets = new SecretStore(SECRETS);
  const spans = new InMemorySpanExporter();
  const base: NodeOptions = {
    name: 'ln',
    dataDir,
    secrets,
    tools: [ordersLookup, ...(options.tools ?? [])],
    capacity: { cpu: '4', mem: '2Gi' },
    ...(options.telemetry === false ? {} : { telemetry: { spanProcessors: [new SimpleSpanProcessor(spans)] } }),
  };
  const node = await createNode(Object.assign({}, base, options.keep === undefined ? {} : { lineage: { keep: options.keep } })).catch((err: AgentOsError) => {
    // A node that does not record lineage itself does not know the option: the recorder is attached below.
    if (err.code === 'INVALID_OPTIONS' && err.message.startsWith('createNode: lineage is not a createNode option')) return createNode(base);
    throw err;
  });
  const redactor = new Redactor({ secrets });
  const lineage = lineageOf(node.kernel) ?? startLineage(node.kernel, { redact: (v) => redactor.redact(v), ...(options.keep === undefined ? {} : { keep: options.keep }) });
  cleanups.push(async () => {
    await lineage.close();
    await node.stop();
  });
  return { node, lineage, spans };
}

/** Spawn an assistant, ingest the policy (outside any turn: not recorded), ask one question and wait until its three calls are done. */
async function oneTurn(s: Setup, observability: { tracing?: boolean; log_fields?: string[] }, id = 'a1'): Promise<void> {
  const ref = await s.node.spawn(assistant(observability), { id });
  await s.node.syscall(id, { kind: 'memory', name: 'rag.ingest', args: { sourceId: 'refunds.md', text: POLICY } });
  ref.send({ type: 'question', text: 'Can I return an unopened toaster for a refund?', order: 'A-17' });
  await until(() => (ref.getSnapshot()?.context as { done: number; error: string | null }).done === 1 || (ref.getSnapshot()?.context as { error: string | null }).error !== null);
  expect((ref.getSnapshot()?.context as { error: string | null }).error).toBeNull();
}

const named = (spans: InMemorySpanExporter, name: string): ReadableSpan[] => spans.getFinishedSpans().filter((sp) => sp.name === name);
const texts = (t: LineageTurn): unknown[] => t.calls.flatMap((c) => [c.prompt, c.query, c.args, c.output].filter((d) => d?.text !== undefined).map((d) => d!.text));

describe('lineage of a turn', () => {
  it('records model → retrieval → tool in order, with hashes equal to the spans’, the store’s and the registry’s', async () => {
    const s = await start();
    await oneTurn(s, { log_fields: ['prompt', 'args', 'output'] });
    await until(() => named(s.spans, 'agentos.syscall').length === 4);
    const [turn, ...others] = s.lineage.recent();
    expect(others).toEqual([]); // the ingest came from outside any turn
    expect(turn).toMatchObject({ node: 'ln', actor: 'a1', turn: 1, tenant: 'default', message: { type: 'question' }, fields: ['prompt', 'args', 'output'] });
    expect(turn!.calls.map((c) => [c.index, c.kind, c.name, c.outcome])).toEqual([
      [0, 'model', 'local/echo', 'ok'],
      [1, 'retrieval', 'rag.query', 'ok'],
      [2, 'tool', 'orders.lookup', 'ok'],
    ]);
    const [model, retrieval, tool] = turn!.calls;

    // The turn's ids are its agentos.deliver span's; each call's, its agentos.syscall span's.
    const deliver = named(s.spans, 'agentos.deliver').find((sp) => sp.attributes['agentos.actor'] === 'a1')!;
    expect(turn!.traceId).toBe(deliver.spanContext().traceId);
    expect(turn!.spanId).toBe(deliver.spanContext().spanId);
    expect(turn!.message.id).toBe(deliver.attributes['agentos.message.id']);
    const syscalls = named(s.spans, 'agentos.syscall').filter((sp) => sp.spanContext().traceId === turn!.traceId);
    expect(turn!.calls.map((c) => c.spanId)).toEqual(turn!.calls.map((c) => syscalls.find((sp) => sp.attributes['agentos.syscall.name'] === c.name)!.spanContext().spanId));

    // Model: SHA-256 of the canonical messages the agent sent, on the syscall span too; the answering model and its usage.
    const prompt = promptFor('Can I return an unopened toaster for a refund?');
    expect(model!.prompt!.hash).toBe(sha256Hex(canonicalJson(prompt)));
    expect(syscalls.find((sp) => sp.attributes['agentos.syscall.kind'] === 'model')!.attributes['agentos.prompt.hash']).toBe(model!.prompt!.hash);
    expect(model).toMatchObject({ model: 'local/echo', tokens: { prompt: expect.any(Number), completion: expect.any(Number) } });
    expect(model!.output!.text).toEqual({ text: 'Can I return an unopened toaster for a refund?', toolCalls: [] });

    // Retrieval: the chunks of the ingested policy, as the agentos.retrieve span names them.
    const retrieve = named(s.spans, 'agentos.retrieve').at(-1)!;
    expect(retrieval!.sources!.length).toBeGreaterThan(0);
    expect(retrieval!.sources!.map((x) => x.hash)).toEqual(retrieve.attributes['agentos.rag.source_hashes']);
    expect(retrieval!.sources!.every((x) => x.sourceId === 'refunds.md' && x.ref.length > 0)).toBe(true);
    expect(retrieval!.query!.hash).toBe(sha256Hex(canonicalJson('Can I return an unopened toaster for a refund?')));

    // Tool: the version that ran, its manifest hash, and the arguments' hash as approvals bind it.
    const manifest = s.node.tools.manifest('orders.lookup')!;
    expect(tool).toMatchObject({ version: String(manifest.version), manifest: manifest.hash });
    expect(tool!.args!.hash).toBe(hashArgs(lookupArgs('A-17')));
    // The output as the agent got it: already scrubbed by the tool service.
    const result = { id: 'A-17', status: 'delivered', note: 'internal: password=[REDACTED:password]' };
    expect(tool!.output).toEqual({ hash: hashArgs(result), text: result });
    for (const c of turn!.calls) expect(c.ms).toBeGreaterThanOrEqual(0);
  });

  it('keeps redacted text only for the log_fields the contract lists: secrets and credentials never reach a record', async () => {
    const s = await start();
    await oneTurn(s, { log_fields: ['prompt', 'args', 'output'] });
    const [full] = s.lineage.recent();
    const dump = JSON.stringify(full);
    for (const secret of [CRM_TOKEN, API_KEY, 'hunter2hunter2']) expect(dump).not.toContain(secret);
    expect(full!.calls[0]!.prompt!.text).toEqual([
      { role: 'system', content: 'Answer from the refund policy. Service key [REDACTED:api-key].' },
      { role: 'user', content: 'Can I return an unopened toaster for a refund?' },
    ]);
    expect(full!.calls[2]!.args!.text).toEqual({ id: 'A-17', token: '[REDACTED:token]' });
    // Passage text is never kept: a retrieval's output is its citations' hash.
    expect(full!.calls[1]!.output!.text).toBeUndefined();

    const t2 = await start();
    await oneTurn(t2, { log_fields: ['args'] });
    const [some] = t2.lineage.recent();
    expect(some!.fields).toEqual(['args']);
    expect(texts(some!)).toEqual([{ id: 'A-17', token: '[REDACTED:token]' }]);
    // The hashes do not depend on what text is kept (a retrieval's output hash covers citation refs, sealed per node: not compared).
    const hashes = (t: LineageTurn) => t.calls.map((c) => [c.prompt?.hash, c.query?.hash, c.args?.hash, c.kind === 'retrieval' ? 'refs' : c.output?.hash]);
    expect(hashes(some!)).toEqual(hashes(full!));

    const t3 = await start();
    await oneTurn(t3, {});
    expect(texts(t3.lineage.recent()[0]!)).toEqual([]);
  });

  it('records nothing for an actor whose contract says observability.tracing: false (its spans are still made)', async () => {
    const s = await start();
    await oneTurn(s, { tracing: false, log_fields: ['prompt'] }, 'quiet');
    await oneTurn(s, {}, 'loud');
    expect(s.lineage.recent().map((t) => t.actor)).toEqual(['loud']);
    const quietTrace = named(s.spans, 'agentos.deliver').find((sp) => sp.attributes['agentos.actor'] === 'quiet')!.spanContext().traceId;
    expect(s.lineage.byTrace(quietTrace)).toEqual([]);
    expect(s.lineage.byTurn('quiet', 1)).toBeUndefined();
  });

  it('keeps a chain of calls in its turn when other messages arrive between its steps; turns without calls are not stored', async () => {
    const s = await start();
    const ref = await s.node.spawn(assistant({}), { id: 'a1' });
    await s.node.syscall('a1', { kind: 'memory', name: 'rag.ingest', args: { sourceId: 'refunds.md', text: POLICY } });
    ref.send({ type: 'question', text: 'refund for an unopened toaster?', order: 'A-1' });
    // Asked while the chain runs: turns 2, 3, … deliver between its steps.
    let status: { done: number } = { done: 0 };
    while (status.done < 1) status = await ref.ask<{ done: number }>({ type: 'status' });
    const [turn] = s.lineage.recent({ actor: 'a1' });
    expect(turn!.turn).toBe(1);
    expect(turn!.calls.map((c) => c.kind)).toEqual(['model', 'retrieval', 'tool']);
    expect(s.lineage.recent()).toHaveLength(1);
    ref.send({ type: 'question', text: 'and opened ones?', order: 'A-2' });
    await until(() => (ref.getSnapshot()?.context as { done: number }).done === 2);
    const latest = s.lineage.recent({ actor: 'a1', limit: 1 })[0]!;
    expect(latest.turn).toBeGreaterThan(2);
    expect(s.lineage.byTurn('a1', latest.turn)).toEqual(latest);
    expect(s.lineage.find(`a1#${latest.turn}`)).toEqual([latest]);
    expect(s.lineage.find(latest.traceId!)).toEqual([latest]);
  });

  it('records a persistent actor’s calls with their idempotency keys; a call made for an actor from outside it (external) is no part of its turns', async () => {
    const s = await start({ tools: [ledgerBook()] });
    const books = await s.node.spawn(bookkeeper, { id: 'books' });
    await books.post({ type: 'order', id: 'o-1', amount: 5 });
    await until(() => (books.getSnapshot()?.context as { booked: string[] }).booked.length === 1);
    const turn = s.lineage.byTurn('books', 1)!;
    expect(turn.calls).toMatchObject([{ kind: 'tool', name: 'ledger.book', outcome: 'ok', key: idempotencyKey({ actor: 'books', turn: 1, call: 0 }) }]);
    await s.node.kernel.tracing.external(() => s.node.kernel.syscall('books', { kind: 'tool', name: 'ledger.book', args: { id: 'by-hand', amount: 1 } }));
    expect(s.lineage.byTurn('books', 1)!.calls).toHaveLength(1);
  });

  it('records without OpenTelemetry too: by <actor>#<turn>, with no span ids', async () => {
    const s = await start({ telemetry: false });
    await oneTurn(s, {});
    const turn = s.lineage.byTurn('a1', 1)!;
    expect(turn.calls.map((c) => [c.kind, c.outcome])).toEqual([['model', 'ok'], ['retrieval', 'ok'], ['tool', 'ok']]);
    expect(turn.traceId).toBeUndefined();
    expect(turn.spanId).toBeUndefined();
    expect(turn.calls[2]!.manifest).toBe(s.node.tools.manifest('orders.lookup')!.hash);
  });

  it('never fails a turn or a call: a recorder whose redactor throws records nothing for that call', async () => {
    const s = await start();
    await s.node.spawn(assistant({ log_fields: ['prompt'] }), { id: 'a1' });
    const tmp = tempDir('agentos-lineage-broken-');
    const db = open({ path: tmp.dir, maxDbs: 4 });
    cleanups.push(tmp.cleanup, () => db.close());
    // Not attached to the kernel (startLineage would): its hook is driven by hand.
    const broken = new LineageRecorder(s.node.kernel, { db, redact: () => { throw new Error('redactor down'); } });
    cleanups.push(() => broken.close());
    const cell = { id: 'a1', delivered: 0, durable: undefined } as unknown as ActorCell;
    const env = { id: 'm-1', type: 'question', class: 'SRT', payload: {} } as unknown as Envelope;
    expect(() => broken.turn(cell, env, undefined)).not.toThrow();
    expect(broken.call('a1', { kind: 'model', name: 'local/echo', args: { messages: promptFor('hi') } }, undefined, undefined)).toBeUndefined();
    const tool = broken.call('a1', { kind: 'tool', name: 'orders.lookup', args: lookupArgs('A-1') }, undefined, undefined)!;
    expect(() => tool.end(undefined, { ok: true })).not.toThrow();
    expect(broken.recent()[0]!.calls.map((c) => [c.kind, c.outcome])).toEqual([['tool', 'ok']]);
  });

  it('refuses a malformed id (LINEAGE_BAD_ID) and an unknown one (LINEAGE_NOT_FOUND), naming the field', async () => {
    const s = await start();
    for (const bad of ['', 'xyz', 'a1#0', 'a1#-1', 'a1#x', '#3', `${'f'.repeat(31)}`, '0'.repeat(32), 'ABCDEF0123456789ABCDEF0123456789']) {
      expect(() => s.lineage.find(bad), bad).toThrow(expect.objectContaining({ code: 'LINEAGE_BAD_ID', field: 'id' }));
    }
    expect(() => s.lineage.find('a1#1')).toThrow(expect.objectContaining({ code: 'LINEAGE_NOT_FOUND', field: 'id' }));
    expect(() => s.lineage.find('4bf92f3577b34da6a3ce929d0e0e4736')).toThrow(expect.objectContaining({ code: 'LINEAGE_NOT_FOUND' }));
    expect(() => s.lineage.recent({ limit: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', field: 'limit' }));
  });

  it('keeps the newest `keep` turns on disk, across a restart, and evicts the older ones with their index entries', async () => {
    const tmp = tempDir('agentos-lineage-keep-');
    cleanups.push(tmp.cleanup);
    const s = await start({ keep: 3, dataDir: tmp.dir });
    const ref = await s.node.spawn(assistant({}), { id: 'a1' });
    await s.node.syscall('a1', { kind: 'memory', name: 'rag.ingest', args: { sourceId: 'refunds.md', text: POLICY } });
    const traces: string[] = [];
    for (let i = 1; i <= 5; i++) {
      ref.send({ type: 'question', text: `refund question ${i}`, order: `A-${i}` });
      await until(() => (ref.getSnapshot()?.context as { done: number }).done === i);
      traces.push(s.lineage.recent({ limit: 1 })[0]!.traceId!);
    }
    expect(s.lineage.recent({ limit: 10 }).map((t) => t.turn)).toEqual([5, 4, 3]);
    expect(s.lineage.byTurn('a1', 1)).toBeUndefined();
    expect(s.lineage.byTrace(traces[1]!)).toEqual([]);
    expect(s.lineage.byTrace(traces[4]!).map((t) => t.turn)).toEqual([5]);
    await s.lineage.close();
    await s.node.stop();
    cleanups.pop();

    const again = await start({ keep: 3, dataDir: tmp.dir });
    expect(again.lineage.recent({ limit: 10 }).map((t) => [t.turn, t.calls.length, t.calls.every((c) => c.outcome === 'ok')])).toEqual([
      [5, 3, true],
      [4, 3, true],
      [3, 3, true],
    ]);
    expect(again.lineage.find(traces[2]!).map((t) => t.turn)).toEqual([3]);
  });
});
