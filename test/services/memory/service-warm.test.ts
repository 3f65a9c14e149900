// The memory service warms indexes in the background: `warmActors(kernel)` loads
// the memory scope of every admitted actor whose contract has one (what a node
// does after recovery or a spawn), and a scope's first call of any kind starts
// loading it. Closing the service stops a warm-up at its next slice.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { nodePaths } from '../../../src/node/storage.js';
import { nodeKeyring } from '../../../src/services/memory/keyring.js';
import { MemoryService } from '../../../src/services/memory/service.js';
import { tempDir } from '../../support/tmp.js';

const MEMORY = { namespace: 'support/kb', retention_days: 30 };
const idle = setup({}).createMachine({});
const agent = (name: string, contract: Record<string, unknown>) => defineAgent({ name, machine: idle, messages: z.object({ type: z.literal('noop') }), contract });

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let clock: VirtualClock;
let service: MemoryService;

const open = (): MemoryService => {
  const s = new MemoryService({ db: node.kernel.durability!.store.root, clock, keyring: nodeKeyring(nodePaths(tmp.dir, 'mem').root), purgeEveryMs: false });
  s.register(node.kernel);
  return s;
};
/** A restart of the memory service on the same LMDB: no index is loaded. */
const restart = async (): Promise<MemoryService> => {
  await service.close();
  service.unregister(node.kernel);
  service = open();
  return service;
};
const ragOf = (tenant: string) => service.memory.scope({ tenant, namespace: MEMORY.namespace, retentionDays: MEMORY.retention_days }).rag.vectors;

beforeEach(async () => {
  tmp = tempDir();
  clock = new VirtualClock(0);
  node = await createNode({ name: 'mem', dataDir: tmp.dir, clock, capacity: { cpu: '4', mem: '2Gi' }, memory: false });
  service = open();
});
afterEach(async () => {
  await service.close();
  await node.stop();
  tmp.cleanup();
});

async function fill(actor: string): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await node.syscall(actor, { kind: 'memory', name: 'rag.ingest', args: { sourceId: `doc-${i}`, text: `Section ${i} of the returns policy covers toasters and kettles.` } });
  }
}

describe('background warm-up', () => {
  it('warmActors loads the scopes of admitted actors with memory contracts, and no other', async () => {
    await node.spawn(agent('lib', { capabilities: ['rag.*'], memory: MEMORY }), { id: 'a', tenant: 'acme' });
    await node.spawn(agent('other', { capabilities: ['rag.*'], memory: MEMORY }), { id: 'b', tenant: 'globex' });
    await node.spawn(agent('plain', { capabilities: [] }), { id: 'c', tenant: 'initech' });
    await fill('a');
    await fill('b');
    await restart();
    expect(ragOf('acme').warmed).toBe(false);
    await node.kernel.stopActor('b');
    await service.warmActors(node.kernel);
    expect(ragOf('acme').warmed).toBe(true);
    expect(ragOf('globex').warmed).toBe(false); // stopped: not admitted any more
  });

  it('the first call of a scope (any kind) starts its warm-up; idle() waits for it', async () => {
    await node.spawn(agent('lib', { capabilities: ['rag.*', 'memory.*'], memory: MEMORY }), { id: 'a', tenant: 'acme' });
    await fill('a');
    await restart();
    await node.syscall('a', { kind: 'memory', name: 'memory.get', args: { key: 'nothing' } });
    await service.idle();
    expect(ragOf('acme').warmed).toBe(true);
  });

  it('close() during a warm-up stops it without an unhandled error', async () => {
    await node.spawn(agent('lib', { capabilities: ['rag.*'], memory: MEMORY }), { id: 'a', tenant: 'acme' });
    await fill('a');
    await restart();
    const warming = service.warm({ tenant: 'acme', namespace: MEMORY.namespace, retentionDays: MEMORY.retention_days });
    await service.close();
    await expect(warming).resolves.toBeUndefined();
    await expect(node.syscall('a', { kind: 'memory', name: 'rag.query', args: { query: 'returns' } })).rejects.toMatchObject({ code: 'MEMORY_CLOSED' });
  });
});
