// `agentos cluster status`: a running node's view of its cluster — the members
// with their status and incarnation, whether this side has quorum, and where each
// known actor lives — read through the node's local control endpoint.

import type { Command } from 'commander';
import type { ClusterResponse } from '../node/control.js';
import { callNode, helpAfter, withNodeTarget } from './control-client.js';
import type { CliIo } from './exit.js';
import { renderTable } from './render.js';

interface StatusOpts {
  dataDir: string;
  node: string;
  json?: boolean;
}

export function formatCluster(answer: ClusterResponse): string {
  const c = answer.cluster!;
  const members = renderTable(
    ['NODE', 'STATUS', 'INCARNATION', 'ADDRESS'],
    c.members.map((m) => [m.nodeId, m.status, String(m.incarnation), m.address]),
    new Set([2]),
  );
  const actors = c.actors.length === 0 ? '(no actors)' : renderTable(['ACTOR', 'NODE', 'TENANT', 'AGENT'], c.actors.map((a) => [a.id, a.node, a.tenant, a.agent ?? '-']));
  return `node ${answer.node} at ${c.url}; ${c.quorate ? 'quorate' : 'NOT quorate (minority side: persistent actors are not failed over here)'}\n\n${members}\n\n${actors}`;
}

export function registerClusterCommands(program: Command, io: CliIo): void {
  const cluster = program.command('cluster').description('the cluster a running node belongs to');
  withNodeTarget(cluster.command('status'))
    .description('members (status, incarnation, address), quorum, and where each known actor lives')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', helpAfter('agentos cluster status', 'agentos cluster status --node n2 --json'))
    .action(async (opts: StatusOpts) => {
      const answer = await callNode<ClusterResponse>(opts, '/v1/cluster');
      if (opts.json) io.out(JSON.stringify(answer, null, 2));
      else if (answer.cluster === null) {
        io.err(`node "${answer.node}" is not in a cluster (start it with --listen / createNode({ cluster }))`);
        io.fail();
      }
      else io.out(formatCluster(answer));
    });
}
