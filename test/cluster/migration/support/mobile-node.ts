// One cluster node in its own process for the migration and failover tests,
// driven over IPC: argv = JSON config. Answers { rid, ok, value } or
// { rid, ok: false, code, field, message }, and reports membership and actor
// move events as { event, ... }.
import { createNode, type AgentOsError, type AgentOsNode } from '../../../../src/index.js';
import { payerAgent, payTool, recorderAgent } from './agents.js';

interface Config {
  name: string;
  dataDir: string;
  secret: string;
  seeds: string[];
  placement?: 'edge' | 'on_prem' | 'cloud';
  replicas?: number;
  payFile?: string;
  payMs?: number;
  /** Also register the `solo` agent (only this node has it). */
  solo?: boolean;
  fast?: boolean;
}

const HRT = { class: { latency: 'HRT' as const, slo: { period_ms: 10, deadline_ms: 10, wcet_ms: 6 } } };

export const agents = {
  recorder: recorderAgent(),
  precorder: recorderAgent({ persistent: true }),
  pinned: recorderAgent({ name: 'pinned', contract: { migratable: false } }),
  hrt: recorderAgent({ name: 'hrt-recorder', contract: HRT }),
  solo: recorderAgent({ name: 'solo' }),
  payer: payerAgent(),
};

type Command =
  | { rid: number; cmd: 'members' }
  | { rid: number; cmd: 'spawn'; agent: keyof typeof agents; id: string }
  | { rid: number; cmd: 'send'; to: string; message: unknown }
  | { rid: number; cmd: 'post'; to: string; message: unknown }
  | { rid: number; cmd: 'ask'; to: string; message: unknown; timeoutMs?: number }
  | { rid: number; cmd: 'locate'; id: string }
  | { rid: number; cmd: 'here'; id: string }
  | { rid: number; cmd: 'migrate'; id: string; to: string }
  | { rid: number; cmd: 'stream'; to: string; by: string; count: number; everyMs: number }
  | { rid: number; cmd: 'replica'; id: string }
  | { rid: number; cmd: 'inDoubt' };

const config = JSON.parse(process.argv[2]!) as Config;
const keepAlive = setInterval(() => {}, 1000);
const { solo, ...shared } = agents;
const node: AgentOsNode = await createNode({
  name: config.name,
  dataDir: config.dataDir,
  memory: false,
  blackboard: false,
  agents: [...Object.values(shared), ...(config.solo ? [solo] : [])],
  tools: config.payFile ? [payTool(config.payFile, config.name, config.payMs ?? 1000)] : [],
  cluster: {
    secret: config.secret,
    seeds: config.seeds,
    ...(config.placement ? { placement: config.placement } : {}),
    ...(config.replicas === undefined ? {} : { replicas: config.replicas }),
    heartbeatIntervalMs: 100,
    ...(config.fast ? { membership: { failureDetector: { acceptableHeartbeatPauseMs: 300, minStdDeviationMs: 50, firstHeartbeatEstimateMs: 100 }, stableAfterMs: 300, downRemovalMarginMs: 200 } } : {}),
    onEvent: (e) => {
      if (e.source === 'membership' && 'member' in e.event) process.send?.({ event: e.event.type, node: e.event.member.nodeId });
    },
  },
});
node.kernel.tap((e) => {
  if (e.type === '@agentos.actor.migrated' || e.type === '@agentos.actor.failed-over' || e.type === '@agentos.actor.superseded') process.send?.({ event: e.type, ...e });
});

async function stream(c: Extract<Command, { cmd: 'stream' }>): Promise<{ sent: number; errors: string[] }> {
  const errors: string[] = [];
  let sent = 0;
  for (let n = 0; n < c.count; n++) {
    try {
      node.kernel.send(c.to, { type: 'rec', n, by: c.by });
      sent++;
    } catch (err) {
      errors.push(`${n}: ${(err as AgentOsError).code}`);
    }
    await new Promise((r) => setTimeout(r, c.everyMs));
  }
  return { sent, errors };
}

async function run(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'members':
      return node.cluster!.members().map((m) => ({ nodeId: m.nodeId, status: m.status }));
    case 'spawn':
      await node.spawn(agents[c.agent], { id: c.id });
      return null;
    case 'send':
      node.kernel.send(c.to, c.message);
      return null;
    case 'post':
      await node.kernel.post(c.to, c.message);
      return null;
    case 'ask':
      return node.kernel.ask(c.to, c.message, { timeoutMs: c.timeoutMs ?? 5000 });
    case 'locate':
      return node.cluster!.remote.locate(c.id) ?? null;
    case 'here':
      return node.lookup(c.id) !== undefined;
    case 'migrate':
      return node.migrate(c.id, c.to);
    case 'stream':
      return stream(c);
    case 'replica': {
      const r = node.cluster!.handoff.replicas?.get(c.id);
      return r ? { owner: r.owner, turn: r.transfer.durable?.checkpoint.turn ?? 0 } : null;
    }
    case 'inDoubt':
      return node.durability.inDoubt();
  }
}

process.on('message', (c: Command) => {
  run(c).then(
    (value) => process.send?.({ rid: c.rid, ok: true, value }),
    (err: AgentOsError) => process.send?.({ rid: c.rid, ok: false, code: err.code, field: err.field, message: err.message }),
  );
});
process.on('SIGTERM', () => {
  void node.stop().finally(() => {
    clearInterval(keepAlive);
    process.exit(0);
  });
});
process.send?.({ ready: true, url: node.cluster!.url });
