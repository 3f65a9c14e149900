// Several nodes in one process over in-memory links (ordered per pair of nodes,
// delivered on later turns of the event loop, copied as the transport would),
// each with remote actors and actor mobility as a ClusterNode composes them, and
// a membership the test controls (who is up, whether this side is quorate).
import { createNode, type AgentOsNode } from '../../../../src/index.js';
import type { AgentDefinition } from '../../../../src/actors/define.js';
import { ClusterHandoff } from '../../../../src/cluster/migration/handoff.js';
import { resolveMobility, type MobilityOptions } from '../../../../src/cluster/migration/options.js';
import type { MembershipEvent } from '../../../../src/cluster/membership/index.js';
import { RemoteActors, type ClusterLinks, type ClusterMessage } from '../../../../src/cluster/remote-actors.js';
import type { AnyToolDefinition } from '../../../../src/services/tools/tool.js';
import { tempDir } from '../../../support/tmp.js';

export class Wire {
  private readonly handlers = new Map<string, (from: string, m: unknown) => void>();
  readonly down = new Set<string>();
  /** Extra delay (event-loop turns) on the link from → to, to shuffle arrivals across links. */
  readonly lag = new Map<string, number>();
  private readonly queues = new Map<string, unknown[]>();

  links(node: string): ClusterLinks {
    return {
      send: (to, message: ClusterMessage) => {
        if (this.down.has(to) || this.down.has(node) || !this.handlers.has(to)) throw new Error(`no link to ${to}`);
        const key = `${node}>${to}`;
        const copy = structuredClone(message);
        let q = this.queues.get(key);
        if (!q) this.queues.set(key, (q = []));
        q.push(copy);
        const turns = this.lag.get(key) ?? 0;
        const deliver = (left: number): void => {
          if (left > 0) return void setImmediate(() => deliver(left - 1));
          const m = this.queues.get(key)!.shift();
          if (!this.down.has(to) && !this.down.has(node)) this.handlers.get(to)?.(node, m);
        };
        setImmediate(() => deliver(turns));
      },
      onMessage: (h) => {
        this.handlers.set(node, h);
        return () => this.handlers.delete(node);
      },
    };
  }
}

export interface WiredNode {
  name: string;
  node: AgentOsNode;
  remote: RemoteActors;
  handoff: ClusterHandoff;
}

export interface WiredCluster {
  wire: Wire;
  nodes: Record<string, WiredNode>;
  quorate: Map<string, boolean>;
  /** Tell every other node's mobility layer about `node` (down then removed, or up). */
  event(to: string, type: MembershipEvent['type'], node: string): void;
  stop(): Promise<void>;
}

export async function wiredCluster(
  names: string[],
  options: { agents: AgentDefinition<any, any>[]; tools?: (name: string) => AnyToolDefinition[]; mobility?: (name: string) => MobilityOptions },
): Promise<WiredCluster> {
  const wire = new Wire();
  const nodes: Record<string, WiredNode> = {};
  const quorate = new Map<string, boolean>();
  const dirs: (() => void)[] = [];
  for (const name of names) {
    const t = tempDir(`agentos-move-${name}-`);
    dirs.push(t.cleanup);
    const node = await createNode({ name, dataDir: t.dir, memory: false, blackboard: false, agents: options.agents, tools: options.tools?.(name) ?? [] });
    const handoff = new ClusterHandoff(
      {
        kernel: node.kernel,
        links: wire.links(name),
        members: () => names.filter((n) => !wire.down.has(n) || n === name).map((n) => ({ nodeId: n, status: 'up' })),
        isQuorate: () => quorate.get(name) ?? true,
        definition: (n, v) => node.definition(n, v),
      },
      resolveMobility(options.mobility?.(name) ?? {}),
    );
    const remote = new RemoteActors({ kernel: node.kernel, links: handoff.links(), definition: (n, v) => node.definition(n, v) });
    remote.start();
    handoff.route(remote);
    handoff.start();
    nodes[name] = { name, node, remote, handoff };
  }
  for (const a of names) for (const b of names) if (a !== b) nodes[a]!.remote.memberUp(b);
  return {
    wire,
    nodes,
    quorate,
    event(to, type, node) {
      const member = { nodeId: node, address: `mem://${node}`, incarnation: 1, status: type === 'member-up' ? 'up' : type === 'member-down' ? 'down' : 'removed', version: 1 } as const;
      nodes[to]!.handoff.onMembership({ type, member, at: 0 } as MembershipEvent);
      if (type === 'member-down' || type === 'member-removed') nodes[to]!.remote.memberGone(node);
      if (type === 'member-up') nodes[to]!.remote.memberUp(node);
    },
    async stop() {
      for (const n of Object.values(nodes)) {
        n.handoff.close();
        n.remote.close();
      }
      for (const n of Object.values(nodes)) await n.node.stop().catch(() => undefined);
      for (const d of dirs) d();
    },
  };
}
