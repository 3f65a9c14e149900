// The memory service on a real node: agents of two tenants ingest and query
// through the kernel (`syscall` with kind 'memory', from their state machines and
// from the node API), and each sees only its own tenant's memory.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, syscall, VirtualClock, type AgentOsError, type AgentOsNode } from '../../../src/index.js';
import { nodePaths } from '../../../src/node/storage.js';
import { nodeKeyring } from '../../../src/services/memory/keyring.js';
import { MemoryService } from '../../../src/services/memory/service.js';
import { tempDir } from '../../support/tmp.js';

const DAY = 86_400_000;

// An agent that runs one memory call per message and keeps the outcome.
const messages = z.object({ type: z.literal('call'), name: z.string(), args: z.unknown() });
const machine = setup({
  types: { context: {} as { results: unknown[]; errors: (string | undefined)[] }, events: {} as z.infer<typeof messages> },
  actors: { syscall },
}).createMachine({
  context: { results: [], errors: [] },
  initial: 'idle',
  states: {
    idle: { on: { call: 'calling' } },
    calling: {
      invoke: {
        src: 'syscall',
        input: ({ event }) => ({ kind: 'memory' as const, name: (event as z.infer<typeof messages>).name, args: (event as z.infer<typeof messages>).args }),
        onDone: { target: 'idle', actions: assign({ results: ({ context, event }) => [...context.results, event.output], errors: ({ context }) => [...context.errors, undefined] }) },
        onError: { target: 'idle', actions: assign({ results: ({ context }) => [...context.results, undefined], errors: ({ context, event }) => [...context.errors, (event.error as AgentOsError).code] }) },
      },
    },
  },
});

const MEMORY = { namespace: 'support/kb', retention_days: 30, rag: { top_k: 3, require_grounding: true } };
const agent = (name: string, contract: Record<string, unknown>) => defineAgent({ name, machine, messages, contract });
const librarian = (extra: Record<string, unknown> = {}) => agent('librarian', { capabilities: ['memory.*', 'rag.*'], memory: MEMORY, ...extra });

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let clock: VirtualClock;
let service: MemoryService;

beforeEach(async () => {
  tmp = tempDir();
  clock = new VirtualClock(0);
  node = await createNode({ name: 'mem', dataDir: tmp.dir, clock, capacity: { cpu: '4', mem: '2Gi' }, memory: false });
  // What createNode would wire: the node's LMDB, its clock, a keyring under its directory.
  service = new MemoryService({ db: node.kernel.durability!.store.root, clock, keyring: nodeKeyring(nodePaths(tmp.dir, 'mem').root), purgeEveryMs: DAY });
  service.register(node.kernel);
});
afterEach(async () => {
  await service.close();
  await node.stop();
  tmp.cleanup();
});

const records = () => Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);

/** Send one call to an agent and wait for its outcome. */
async function call(id: string, name: string, args: unknown): Promise<{ result: any; error: string | undefined }> {
  const ref = node.lookup(id)!;
  const n = (ref.getSnapshot() as any).context.results.length;
  ref.send({ type: 'call', name, args } as never);
  for (let i = 0; i < 400 && (ref.getSnapshot() as any).context.results.length === n; i++) await new Promise((r) => setTimeout(r, 2));
  const ctx = (ref.getSnapshot() as any).context;
  return { result: ctx.results[n], error: ctx.errors[n] };
}

describe('memory syscalls on a node', () => {
  it('agents of two tenants ingest and query through the kernel, and each sees only its own', async () => {
    await node.spawn(librarian(), { id: 'a', tenant: 'acme' });
    await node.spawn(librarian(), { id: 'b', tenant: 'globex' });
    expect((await call('a', 'rag.ingest', { sourceId: 'returns.md', text: 'Acme accepts returns of unopened toasters within 30 days.' })).error).toBeUndefined();
    expect((await call('b', 'rag.ingest', { sourceId: 'returns.md', text: 'Globex accepts returns of unopened kettles within 60 days.' })).error).toBeUndefined();
    const a = await call('a', 'rag.query', { query: 'returns of unopened appliances' });
    const b = await call('b', 'rag.query', { query: 'returns of unopened appliances' });
    expect(a.result.passages.map((p: any) => p.text)).toEqual(['Acme accepts returns of unopened toasters within 30 days.']);
    expect(b.result.passages.map((p: any) => p.text)).toEqual(['Globex accepts returns of unopened kettles within 60 days.']);
    expect(a.result.citations[0]).toMatchObject({ sourceId: 'returns.md', chunk: 0, start: 0, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The same through the node API, and for key–value and episodic memory.
    await node.syscall('a', { kind: 'memory', name: 'memory.put', args: { key: 'plan', value: 'acme plan' } });
    await node.syscall('b', { kind: 'memory', name: 'memory.put', args: { key: 'plan', value: 'globex plan' } });
    await node.syscall('a', { kind: 'memory', name: 'memory.append', args: { stream: 'conv-1', entry: { said: 'hi from acme' } } });
    expect(await node.syscall('a', { kind: 'memory', name: 'memory.get', args: { key: 'plan' } })).toMatchObject({ value: 'acme plan' });
    expect(await node.syscall('b', { kind: 'memory', name: 'memory.get', args: { key: 'plan' } })).toMatchObject({ value: 'globex plan' });
    expect(await node.syscall('b', { kind: 'memory', name: 'memory.read', args: { stream: 'conv-1' } })).toEqual([]);
    expect(await node.syscall('a', { kind: 'memory', name: 'memory.read', args: { stream: 'conv-1' } })).toEqual([{ stream: 'conv-1', seq: 1, at: 0, entry: { said: 'hi from acme' } }]);
    await node.syscall('a', { kind: 'memory', name: 'memory.upsert', args: { id: 'note', text: 'toaster safety recall', metadata: { t: 'acme' } } });
    expect(await node.syscall('b', { kind: 'memory', name: 'memory.search', args: { text: 'toaster safety recall' } })).toEqual([]);
    expect(await node.syscall('a', { kind: 'memory', name: 'memory.search', args: { text: 'toaster safety recall', k: 1 } })).toEqual([{ id: 'note', score: expect.closeTo(1, 5), metadata: { t: 'acme' } }]);

    const ingests = records().filter((r) => r.kind === 'memory' && r.decision === 'ingested');
    expect(ingests.map((r) => [r.actor, r.tenant])).toEqual([
      ['a', 'acme'],
      ['b', 'globex'],
    ]);
    expect(ingests[0]!.hashes.source).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an agent without the capability is refused by the kernel, before the handler runs', async () => {
    await node.spawn(agent('nosy', { capabilities: ['web.fetch'], memory: MEMORY }), { id: 'nosy', tenant: 'acme' });
    const { error } = await call('nosy', 'rag.query', { query: 'anything' });
    expect(error).toBe('CAPABILITY_DENIED');
    await expect(node.syscall('nosy', { kind: 'memory', name: 'memory.put', args: { key: 'k', value: 1 } })).rejects.toMatchObject({ code: 'CAPABILITY_DENIED' });
    expect(records().filter((r) => r.actor === 'nosy' && r.kind === 'policy').map((r) => r.decision)).toEqual(['denied', 'denied']);
  });

  it('an agent whose contract has no memory section gets MEMORY_NOT_CONFIGURED', async () => {
    await node.spawn(agent('amnesiac', { capabilities: ['memory.*'] }), { id: 'amn', tenant: 'acme' });
    await expect(node.syscall('amn', { kind: 'memory', name: 'memory.get', args: { key: 'k' } })).rejects.toMatchObject({ code: 'MEMORY_NOT_CONFIGURED', field: 'memory' });
  });

  it('naming another tenant or namespace, or citing another tenant’s passage, is MEMORY_CROSS_TENANT, audited, and leaks nothing', async () => {
    await node.spawn(librarian(), { id: 'a', tenant: 'acme' });
    await node.spawn(librarian(), { id: 'b', tenant: 'globex' });
    await node.syscall('b', { kind: 'memory', name: 'rag.ingest', args: { sourceId: 'secret.md', text: 'Globex merger code name is Bluebird.' } });
    await node.syscall('b', { kind: 'memory', name: 'memory.put', args: { key: 'k', value: 'globex only' } });
    const theirs = (await node.syscall('b', { kind: 'memory', name: 'rag.query', args: { query: 'merger code name' } })) as any;
    const attempts = [
      node.syscall('a', { kind: 'memory', name: 'memory.get', args: { key: 'k', tenant: 'globex' } }),
      node.syscall('a', { kind: 'memory', name: 'memory.get', args: { key: 'k', namespace: 'other/ns' } }),
      node.syscall('a', { kind: 'memory', name: 'rag.passage', args: { ref: theirs.citations[0].ref } }),
      node.syscall('a', { kind: 'memory', name: 'rag.ground', args: { answer: 'The merger code name is Bluebird.', refs: [theirs.citations[0].ref] } }),
    ];
    for (const attempt of attempts) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MEMORY_CROSS_TENANT' });
      expect(JSON.stringify(err)).not.toMatch(/Bluebird|globex only/);
    }
    const denied = records().filter((r) => r.kind === 'memory' && r.decision === 'denied');
    expect(denied.map((r) => [r.actor, r.tenant, r.subject])).toEqual([
      ['a', 'acme', 'memory.get'],
      ['a', 'acme', 'memory.get'],
      ['a', 'acme', 'rag.passage'],
      ['a', 'acme', 'rag.ground'],
    ]);
    expect(await node.syscall('a', { kind: 'memory', name: 'memory.get', args: { key: 'k', tenant: 'acme' } })).toBeNull();
  });

  it('validates arguments before anything runs, and refuses a vector of the wrong dimension with an audit record and nothing written', async () => {
    await node.spawn(librarian(), { id: 'a', tenant: 'acme' });
    await expect(node.syscall('a', { kind: 'memory', name: 'memory.put', args: { key: '', value: 1 } })).rejects.toMatchObject({ code: 'MEMORY_INVALID_ARGS', field: 'key' });
    await expect(node.syscall('a', { kind: 'memory', name: 'memory.search', args: { text: 'x', vector: [1] } })).rejects.toMatchObject({ code: 'MEMORY_INVALID_ARGS', field: 'text' });
    await expect(node.syscall('a', { kind: 'memory', name: 'rag.ingest', args: { sourceId: 's', text: 'x', extra: true } })).rejects.toMatchObject({ code: 'MEMORY_INVALID_ARGS' });
    await expect(node.syscall('a', { kind: 'memory', name: 'memory.upsert', args: { id: 'v', vector: [1, 2, 3] } })).rejects.toMatchObject({ code: 'MEMORY_BAD_DIMENSION' });
    await expect(node.syscall('a', { kind: 'memory', name: 'memory.search', args: { vector: [1, 2, 3] } })).rejects.toMatchObject({ code: 'MEMORY_BAD_DIMENSION' });
    expect(service.memory.store.records.getKeysCount()).toBe(0);
    expect(records().filter((r) => r.kind === 'memory').map((r) => [r.subject, r.decision, r.data.code])).toEqual([
      ['memory.upsert', 'refused', 'MEMORY_BAD_DIMENSION'],
      ['memory.search', 'refused', 'MEMORY_BAD_DIMENSION'],
    ]);
  });

  it('with require_grounding, a query nothing supports is refused and audited; without it, it is answered ungrounded', async () => {
    await node.spawn(librarian(), { id: 'strict', tenant: 'acme' });
    await node.spawn(agent('loose', { capabilities: ['rag.*'], memory: { ...MEMORY, rag: { top_k: 3, require_grounding: false } } }), { id: 'loose', tenant: 'acme' });
    await node.syscall('strict', { kind: 'memory', name: 'rag.ingest', args: { sourceId: 'toasters.md', text: 'Toasters have a two-year warranty.' } });
    const { error } = await call('strict', 'rag.query', { query: 'What is the capital of Mongolia?' });
    expect(error).toBe('MEMORY_UNGROUNDED');
    expect(records().filter((r) => r.kind === 'memory' && r.decision === 'refused').map((r) => r.subject)).toEqual(['rag.query']);
    const loose = (await node.syscall('loose', { kind: 'memory', name: 'rag.query', args: { query: 'What is the capital of Mongolia?' } })) as any;
    expect(loose.grounded).toBe(false);
    const ok = (await node.syscall('strict', { kind: 'memory', name: 'rag.query', args: { query: 'toaster warranty' } })) as any;
    expect(ok).toMatchObject({ grounded: true, citations: [expect.objectContaining({ sourceId: 'toasters.md' })] });
  });

  it('redacts PII on ingest for a contract that handles PHI, and counts the redactions per tenant', async () => {
    await node.spawn(librarian({ modelPolicy: { allow: ['local/echo'], max_context_tokens: 1000, privacy: 'phi' } }), { id: 'clinic', tenant: 'acme' });
    await node.spawn(librarian(), { id: 'shop', tenant: 'globex' });
    const text = 'Patient Jo (jo@example.com, 555-123-4567) reports a persistent cough.';
    const report = (await node.syscall('clinic', { kind: 'memory', name: 'rag.ingest', args: { sourceId: 'visit', text } })) as any;
    expect(report.redactions).toEqual({ email: 1, phone: 1, ssn: 0, total: 2 });
    await node.syscall('clinic', { kind: 'memory', name: 'memory.put', args: { key: 'contact', value: { email: 'jo@example.com' } } });
    expect(await node.syscall('clinic', { kind: 'memory', name: 'memory.get', args: { key: 'contact' } })).toMatchObject({ value: { email: '[EMAIL]' } });
    const q = (await node.syscall('clinic', { kind: 'memory', name: 'rag.query', args: { query: 'persistent cough' } })) as any;
    expect(q.passages[0].text).toBe('Patient Jo ([EMAIL], [PHONE]) reports a persistent cough.');
    expect(service.redactions('acme')).toEqual({ email: 2, phone: 1, ssn: 0, total: 3 });
    // A contract without a sensitive data class stores text as given.
    await node.syscall('shop', { kind: 'memory', name: 'memory.put', args: { key: 'contact', value: 'shop@example.com' } });
    expect(await node.syscall('shop', { kind: 'memory', name: 'memory.get', args: { key: 'contact' } })).toMatchObject({ value: 'shop@example.com' });
    expect(service.redactions('globex').total).toBe(0);
  });

  it('purges what outlived the contract’s retention_days on the node clock', async () => {
    await node.spawn(librarian(), { id: 'a', tenant: 'acme' });
    await node.syscall('a', { kind: 'memory', name: 'memory.put', args: { key: 'k', value: 'v' } });
    await node.syscall('a', { kind: 'memory', name: 'rag.ingest', args: { sourceId: 'doc', text: 'Short lived memory about toasters.' } });
    clock.advance(29 * DAY); // the daily purge runs, finds nothing expired
    await service.idle();
    expect(service.memory.store.records.getKeysCount()).toBe(5);
    expect(await node.syscall('a', { kind: 'memory', name: 'memory.get', args: { key: 'k' } })).toMatchObject({ value: 'v' });
    clock.advance(DAY); // day 30: expired, and the daily purge deletes it
    await service.idle();
    expect(await node.syscall('a', { kind: 'memory', name: 'memory.get', args: { key: 'k' } })).toBeNull();
    // Only the namespace's dimension record is left.
    expect(service.memory.store.records.getKeysCount()).toBe(1);
  });
});
