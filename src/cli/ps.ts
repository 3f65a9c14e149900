// `agentos ps` and `agentos tree`: what a running node is doing, read through
// its local control endpoint (see src/node/control.ts). `ps` lists the actors
// with their class, state, mailbox depth, wait p99 and restarts — and, for HRT
// lane actors, releases, misses, jitter, response time and observed WCET.

import type { Command } from 'commander';
import { stateLabel, type PsResponse, type PsRow, type TreeResponse } from '../node/control.js';
import { callNode, helpAfter, withNodeTarget } from './control-client.js';
import { outPaint, type CliIo } from './exit.js';
import { PLAIN, statusColour, type Paint } from './style.js';
import { renderTable, renderTree } from './render.js';

interface ViewOpts {
  dataDir: string;
  node: string;
  system?: boolean;
  json?: boolean;
}

const dash = (v: number | null | undefined, show: (n: number) => string = String): string => (v === null || v === undefined ? '-' : show(v));
const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(1)}ms`;

const BASE_HEAD = ['ID', 'AGENT', 'CLASS', 'STATUS', 'STATE', 'MAILBOX', 'WAIT_P99', 'RESTARTS', 'NODE'];
const LANE_HEAD = ['RELEASES', 'MISSES', 'JITTER_P99', 'JITTER_MAX', 'RESPONSE_P99', 'WCET_OBS'];
const NUMERIC = [5, 6, 7, 9, 10, 11, 12, 13, 14];

/** The `ps` table; the HRT lane columns appear when any actor runs on a lane. */
export function formatPs(rows: readonly PsRow[], p: Paint = PLAIN): string {
  const lanes = rows.some((r) => r.lane !== null);
  const head = lanes ? [...BASE_HEAD, ...LANE_HEAD] : BASE_HEAD;
  const cells = rows.map((r) => {
    const base = [r.id, r.agent ?? '-', r.class ?? '-', statusColour(p, r.status), stateLabel(r.state), dash(r.mailbox), dash(r.waitP99Ms, ms), String(r.restarts), r.node];
    if (!lanes) return base;
    const l = r.lane;
    return [...base, dash(l?.releases), dash(l?.misses), dash(l?.jitterP99Ms, ms), dash(l?.jitterMaxMs, ms), dash(l?.responseP99Ms, ms), dash(l?.observedWcetMs, ms)];
  });
  return renderTable(head, cells, new Set(NUMERIC));
}

function withTarget(cmd: Command): Command {
  return withNodeTarget(cmd)
    .option('--system', "include the kernel's service actors (tools, models, memory)")
    .option('--json', 'print the answer as JSON');
}

export function registerPsCommands(program: Command, io: CliIo): void {
  withTarget(program.command('ps'))
    .description('list the actors of a running node: class, status, state, mailbox depth, wait p99, restarts (and HRT lane figures)')
    .addHelpText('after', helpAfter('agentos ps', 'agentos ps --node edge-1 --data-dir /var/lib/agentos --system', "agentos ps --json | jq '.actors[] | select(.restarts > 0) | .id'"))
    .action(async (opts: ViewOpts) => {
      const answer = await callNode<PsResponse>(opts, `/v1/ps${opts.system ? '?system=1' : ''}`);
      if (opts.json) io.out(JSON.stringify(answer, null, 2));
      else if (answer.actors.length === 0) io.err(`no actors on node "${answer.node}"`);
      else io.out(formatPs(answer.actors, outPaint(io)));
    });

  withTarget(program.command('tree'))
    .description("print a running node's supervision tree")
    .addHelpText('after', helpAfter('agentos tree', 'agentos tree --node edge-1 --system', "agentos tree --json | jq '.tree.children[].id'"))
    .action(async (opts: ViewOpts) => {
      const answer = await callNode<TreeResponse>(opts, `/v1/tree${opts.system ? '?system=1' : ''}`);
      if (opts.json) io.out(JSON.stringify(answer, null, 2));
      else io.out(answer.system ? `${renderTree(answer.tree)}\n\n${renderTree(answer.system)}` : renderTree(answer.tree));
    });
}
