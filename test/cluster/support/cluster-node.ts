// One cluster node in its own process, driven over IPC by the multi-node tests:
// argv = JSON { name, dataDir, secret, seeds }. It answers { rid, ok, value } or
// { rid, ok: false, code, message } to commands, and reports membership events.
import { createNode, type AgentOsNode, type AgentOsError } from '../../../src/index.js';
import { counterAgent } from '../../support/agents.js';

interface Config {
  name: string;
  dataDir: string;
  secret: string;
  seeds: string[];
  heartbeatIntervalMs?: number;
}

type Command =
  | { rid: number; cmd: 'members' }
  | { rid: number; cmd: 'spawn'; id: string; on?: string; tenant?: string }
  | { rid: number; cmd: 'send'; to: string; message: unknown }
  | { rid: number; cmd: 'ask'; to: string; message: unknown; timeoutMs?: number }
  | { rid: number; cmd: 'locate'; id: string }
  | { rid: number; cmd: 'stop' };

const config = JSON.parse(process.argv[2]!) as Config;
const keepAlive = setInterval(() => {}, 1000);
const node: AgentOsNode = await createNode({
  name: config.name,
  dataDir: config.dataDir,
  memory: false,
  blackboard: false,
  agents: [counterAgent('counter')],
  cluster: {
    secret: config.secret,
    seeds: config.seeds,
    ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
    onEvent: (e) => {
      if (e.source === 'membership' && 'member' in e.event) process.send?.({ event: e.event.type, node: e.event.member.nodeId });
      if (e.source === 'transport' && e.event.type === 'rejected') process.send?.({ event: 'rejected', reason: (e.event as { reason?: string }).reason });
    },
  },
});

async function run(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'members':
      return node.cluster!.members().map((m) => ({ nodeId: m.nodeId, status: m.status, incarnation: m.incarnation }));
    case 'spawn':
      await node.spawn(counterAgent('counter'), { id: c.id, ...(c.on ? { on: c.on } : {}), ...(c.tenant ? { tenant: c.tenant } : {}) });
      return null;
    case 'send':
      node.kernel.send(c.to, c.message);
      return null;
    case 'ask':
      return node.kernel.ask(c.to, c.message, { timeoutMs: c.timeoutMs ?? 5000 });
    case 'locate':
      return node.cluster!.remote.locate(c.id)?.node ?? null;
    case 'stop':
      await node.stop();
      clearInterval(keepAlive);
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (c: Command) => {
  run(c).then(
    (value) => process.send?.({ rid: c.rid, ok: true, value }),
    (err: AgentOsError) => process.send?.({ rid: c.rid, ok: false, code: err.code, message: err.message }),
  );
});
process.send?.({ ready: true, url: node.cluster!.url });
