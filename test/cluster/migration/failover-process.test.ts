// Failover across three real node processes: persistent agents on n3 checkpoint
// and replicate; n3 is killed with SIGKILL; within seconds the survivors have
// removed it and one of them answers for each agent with its replicated state. A
// slow side-effecting tool call (idempotent by key) in flight at the kill is
// resumed by the new owner under the same key: it never runs under two keys.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from '../../support/tmp.js';
import { startCluster, until, type MobileNode } from './support/processes.js';

let cluster: Awaited<ReturnType<typeof startCluster>>;
let n1: MobileNode, n2: MobileNode, n3: MobileNode;
let payFile: string;

const files = tempDir('agentos-pay-');

beforeAll(async () => {
  payFile = join(files.dir, 'pay.jsonl');
  cluster = await startCluster(['n1', 'n2', 'n3'].map((name) => ({ name, fast: true, payMs: 1500, payFile })));
  [n1, n2, n3] = cluster.nodes as [MobileNode, MobileNode, MobileNode];
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  files.cleanup();
});

type Pay = { order: string; key: string; node: string; phase: string };
const pays = (): Pay[] => {
  try {
    return readFileSync(payFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Pay);
  } catch {
    return [];
  }
};

it('SIGKILL of the owner: a survivor answers for its persistent agents with their state; the call in flight keeps its key', async () => {
  await n3.call({ cmd: 'spawn', agent: 'precorder', id: 'acct' });
  for (let i = 0; i < 10; i++) await n3.call({ cmd: 'post', to: 'acct', message: { type: 'rec', n: i, by: 'n3' } });
  await n3.call({ cmd: 'post', to: 'acct', message: { type: 'inc', by: 5 } });
  await n3.call({ cmd: 'spawn', agent: 'payer', id: 'payer' });
  await n3.call({ cmd: 'post', to: 'payer', message: { type: 'pay', order: 'o1' } });
  // The call is running, and the replica holding it in flight has reached a survivor.
  await until(() => pays().some((p) => p.order === 'o1' && p.phase === 'start'));
  const replicated = async (id: string, turn: number): Promise<boolean> => {
    for (const n of [n1, n2]) if (((await n.call<{ turn: number } | null>({ cmd: 'replica', id }))?.turn ?? -1) >= turn) return true;
    return false;
  };
  await until(async () => (await replicated('acct', 11)) && (await replicated('payer', 1)));
  const killedAt = Date.now();
  await n3.kill();
  // Detection, removal and restart: the counter answers from a survivor.
  await until(async () => {
    try {
      const got = await n1.call<{ count: number; log: Record<string, number[]> }>({ cmd: 'ask', to: 'acct', message: { type: 'get' }, timeoutMs: 500 });
      return got.count === 5;
    } catch {
      return false;
    }
  }, 15_000);
  const failoverMs = Date.now() - killedAt;
  expect(failoverMs).toBeLessThan(10_000);
  const got = await n2.call<{ count: number; log: Record<string, number[]> }>({ cmd: 'ask', to: 'acct', message: { type: 'get' } });
  expect(got.log.n3).toEqual(Array.from({ length: 10 }, (_, i) => i));
  const owners = await Promise.all([n1, n2].map((n) => n.call<boolean>({ cmd: 'here', id: 'acct' })));
  expect(owners.filter(Boolean)).toHaveLength(1);
  // The payment finishes on the new owner, under the key it had on n3.
  const paid = async (): Promise<string[]> => {
    try {
      return (await n1.call<{ paid: string[] }>({ cmd: 'ask', to: 'payer', message: { type: 'get' }, timeoutMs: 500 })).paid;
    } catch {
      return []; // not restarted yet
    }
  };
  await until(async () => (await paid()).includes('o1'), 15_000);
  const o1 = pays().filter((p) => p.order === 'o1');
  expect(new Set(o1.map((p) => p.key)).size).toBe(1);
  expect(o1.some((p) => p.node !== 'n3')).toBe(true);
  const events = [...n1.events, ...n2.events].filter((e) => e.event === '@agentos.actor.failed-over').map((e) => e.id).sort();
  expect(events).toEqual(['acct', 'payer']);
}, 60_000);
