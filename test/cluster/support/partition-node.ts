// One cluster node in its own process for the partition tests, driven over IPC:
// argv = JSON config. It listens on a given port and advertises another (the
// link switch's front port), hosts the persistent `ledger` agent with its
// `charge` tool, and reports membership, quorum and failover events with the
// wall-clock time they happened at.
import { createHash } from 'node:crypto';
import { createNode, type AgentOsError, type AgentOsNode } from '../../../src/index.js';
import { replicaState } from '../../../src/kernel/durable/transfer.js';
import type { DowningStrategy } from '../../../src/cluster/membership/index.js';
import { chargeTool, ledgerAgent } from './ledger.js';

export interface PartitionNodeConfig {
  name: string;
  dataDir: string;
  secret: string;
  seeds: string[];
  port: number;
  advertise: string;
  effectsDir: string;
  chargeMs: number;
  downing?: DowningStrategy;
  replicas?: number;
}

type Command =
  | { rid: number; cmd: 'members' }
  | { rid: number; cmd: 'spawn'; id: string }
  | { rid: number; cmd: 'send'; to: string; message: unknown }
  | { rid: number; cmd: 'ask'; to: string; message: unknown; timeoutMs?: number }
  | { rid: number; cmd: 'status'; id: string }
  | { rid: number; cmd: 'locate'; id: string }
  | { rid: number; cmd: 'replica'; id: string }
  | { rid: number; cmd: 'drive'; to: string; by: string; everyMs: number }
  | { rid: number; cmd: 'undrive' };

const config = JSON.parse(process.argv[2]!) as PartitionNodeConfig;
const keepAlive = setInterval(() => {}, 1000);
const report = (event: Record<string, unknown>): void => void process.send?.({ ...event, at: Date.now() });
/** A short digest of a stored checkpoint: equal on owner and replica holder when the holder has the latest. */
const digest = (snapshot: Uint8Array | undefined): string | undefined => (snapshot ? createHash('sha256').update(snapshot).digest('hex').slice(0, 16) : undefined);

const node: AgentOsNode = await createNode({
  name: config.name,
  dataDir: config.dataDir,
  memory: false,
  blackboard: false,
  agents: [ledgerAgent()],
  tools: [chargeTool(config.effectsDir, config.name, config.chargeMs)],
  cluster: {
    secret: config.secret,
    seeds: config.seeds,
    listen: { host: '127.0.0.1', port: config.port },
    advertise: config.advertise,
    ...(config.downing ? { downing: config.downing } : {}),
    ...(config.replicas === undefined ? {} : { replicas: config.replicas }),
    heartbeatIntervalMs: 100,
    membership: { failureDetector: { acceptableHeartbeatPauseMs: 300, minStdDeviationMs: 50, firstHeartbeatEstimateMs: 100 }, stableAfterMs: 300, downRemovalMarginMs: 200 },
    onEvent: (e) => {
      if (e.source === 'transport' && ['connected', 'disconnected', 'rejected'].includes(e.event.type)) {
        const t = e.event as { type: string; node?: string; code?: number; reason?: string; direction?: string };
        return report({ event: `link-${t.type}`, node: t.node, code: t.code, reason: t.reason, direction: t.direction });
      }
      if (e.source !== 'membership') return;
      const ev = e.event;
      if ('member' in ev) report({ event: ev.type, node: ev.member.nodeId, incarnation: ev.member.incarnation });
      else report({ event: ev.type });
    },
  },
});
node.kernel.tap((e) => {
  if (['@agentos.actor.failed-over', '@agentos.actor.superseded', '@agentos.actor.failover-failed'].includes(e.type)) report({ ...e, event: e.type });
});

let drive: { stop: boolean; sent: number; errors: string[]; done: Promise<void> } | undefined;

/** Send `charge` messages `${by}-0`, `${by}-1`, … to `to` (wherever it lives) until told to stop. */
function startDrive(c: Extract<Command, { cmd: 'drive' }>): void {
  const d = { stop: false, sent: 0, errors: [] as string[], done: Promise.resolve() };
  d.done = (async () => {
    for (let n = 0; !d.stop; n++) {
      try {
        node.kernel.send(c.to, { type: 'charge', id: `${c.by}-${n}` });
        d.sent++;
      } catch (err) {
        d.errors.push(`${c.by}-${n}: ${(err as AgentOsError).code}`);
      }
      await new Promise((r) => setTimeout(r, c.everyMs));
    }
  })();
  drive = d;
}

async function run(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'members':
      return node.cluster!.members().map((m) => ({ nodeId: m.nodeId, status: m.status, incarnation: m.incarnation }));
    case 'spawn':
      await node.spawn(ledgerAgent(), { id: c.id });
      return null;
    case 'send':
      node.kernel.send(c.to, c.message);
      return null;
    case 'ask':
      return node.kernel.ask(c.to, c.message, { timeoutMs: c.timeoutMs ?? 5000 });
    case 'status': {
      const d = node.kernel.describe(c.id);
      if (!d) return null;
      const stored = replicaState(node.kernel.durability!.store, c.id);
      return { status: d.status, incarnation: d.incarnation, turn: d.turn, mailbox: d.mailbox, quorate: node.cluster!.isQuorate(), checkpoint: digest(stored?.checkpoint.snapshot) };
    }
    case 'locate':
      return node.cluster!.remote.locate(c.id) ?? null;
    case 'replica': {
      const r = node.cluster!.handoff.replicas?.get(c.id);
      return r ? { owner: r.owner, turn: r.transfer.durable?.checkpoint.turn ?? 0, checkpoint: digest(r.transfer.durable?.checkpoint.snapshot) } : null;
    }
    case 'drive':
      startDrive(c);
      return null;
    case 'undrive': {
      const d = drive;
      if (!d) return null;
      d.stop = true;
      await d.done;
      drive = undefined;
      return { sent: d.sent, errors: d.errors };
    }
  }
}

process.on('message', (c: Command) => {
  run(c).then(
    (value) => process.send?.({ rid: c.rid, ok: true, value }),
    (err: AgentOsError) => process.send?.({ rid: c.rid, ok: false, code: err.code, message: err.message }),
  );
});
process.on('SIGTERM', () => {
  void node.stop().finally(() => {
    clearInterval(keepAlive);
    process.exit(0);
  });
});
report({ ready: true, url: node.cluster!.url });
