// A node process the failover rows kill: joins through the seed in argv, starts a
// persistent agent (id in argv) with some state, says `ready`, and waits to be
// killed with SIGKILL.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNode } from './agentos.js';
import { BENCH_SECRET, FAST_DETECTOR, stateAgent } from './cluster-mobility-agents.js';

const [name, seed, id] = process.argv.slice(2) as [string, string, string];
const keepAlive = setInterval(() => {}, 1000);
void keepAlive;
const agent = stateAgent(true);
const node = await createNode({
  name,
  dataDir: mkdtempSync(join(tmpdir(), 'agentos-bench-victim-')),
  memory: false,
  blackboard: false,
  agents: [agent],
  cluster: { secret: BENCH_SECRET, seeds: [seed], ...FAST_DETECTOR },
});
while (node.cluster!.members().filter((m) => m.status === 'up').length < 3) await new Promise((r) => setTimeout(r, 20));
await node.spawn(agent, { id });
for (let i = 0; i < 10; i++) await node.kernel.post(id, { type: 'inc', by: 1 });
await node.kernel.checkpointActor(id); // (the agent checkpoints every 100 messages; this one is replicated at once)
process.send?.({ ready: true });
