// `agentos cluster status`: a running node's view of its cluster — the members
// with their status and incarnation, whether this side has quorum, and where each
// known actor lives — read through the node's local control endpoint.

import { InvalidArgumentError, type Command } from 'commander';
import type { ClusterResponse, MigrateResponse } from '../node/control.js';
import { callNode, helpAfter, withNodeTarget } from './control-client.js';
import { outPaint, type CliIo } from './exit.js';
import { PLAIN, statusColour, type Paint } from './style.js';
import { renderTable } from './render.js';

interface MigrateOpts {
  dataDir: string;
  node: string;
  json?: boolean;
  drainMs?: number;
  timeoutMs?: number;
}

const positiveMs = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of milliseconds');
  return n;
};

interface StatusOpts {
  dataDir: string;
  node: string;
  json?: boolean;
}

export function formatCluster(answer: ClusterResponse, p: Paint = PLAIN): string {
  const c = answer.cluster!;
  const members = renderTable(
    ['NODE', 'STATUS', 'INCARNATION', 'ADDRESS'],
    c.members.map((m) => [m.nodeId, statusColour(p, m.status), String(m.incarnation), m.address]),
    new Set([2]),
  );
  const actors = c.actors.length === 0 ? '(no actors)' : renderTable(['ACTOR', 'NODE', 'TENANT', 'AGENT'], c.actors.map((a) => [a.id, a.node, a.tenant, a.agent ?? '-']));
  return `node ${answer.node} at ${c.url}; ${c.quorate ? p.green('quorate') : p.red('NOT quorate (minority side: persistent actors are not failed over here)')}\n\n${members}\n\n${actors}`;
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
      else io.out(formatCluster(answer, outPaint(io)));
    });

  withNodeTarget(program.command('migrate'))
    .description('move an actor live to another member (paused, drained, checkpointed, started there; its messages follow in order)')
    .argument('<actor>', 'the actor id (it may live on any member; its owner moves it)')
    .argument('<target>', 'the node id to move it to')
    .option('--drain-ms <ms>', 'longest wait for its in-flight calls to finish', positiveMs)
    .option('--timeout-ms <ms>', 'longest wait for the target to take it', positiveMs)
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', helpAfter('agentos migrate counter n2', 'agentos migrate ledger n3 --node n1 --drain-ms 10000'))
    .action(async (actor: string, to: string, opts: MigrateOpts) => {
      const query = new URLSearchParams();
      if (opts.drainMs !== undefined) query.set('drainMs', String(opts.drainMs));
      if (opts.timeoutMs !== undefined) query.set('timeoutMs', String(opts.timeoutMs));
      const path = `/v1/actors/${encodeURIComponent(actor)}/migrate${query.size > 0 ? `?${query}` : ''}`;
      // The control client's own timeout must outlast the move's.
      const answer = await callNode<MigrateResponse>(opts, path, { method: 'POST', body: { to }, waitMs: (opts.drainMs ?? 5000) + (opts.timeoutMs ?? 10_000) });
      if (opts.json) io.out(JSON.stringify(answer, null, 2));
      else io.out(`${answer.result.id}: moved from ${answer.result.from} to ${answer.result.to} in ${answer.result.ms.toFixed(1)} ms (incarnation ${answer.result.incarnation})`);
    });
}
