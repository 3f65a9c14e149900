// `agentos approvals | approve | reject`: the human side of a running node's
// consent gates. A `consent_for` call waits in the node's approval queue until
// someone decides it here; the queue's own rules hold (separation of duties,
// RBAC, deadlines) and its refusals keep their codes (SOD_VIOLATION,
// APPROVER_NOT_AUTHORIZED, APPROVAL_NOT_FOUND, APPROVAL_DECIDED).

import type { Command } from 'commander';
import type { PendingApproval } from '../kernel/policy/index.js';
import type { ApprovalsResponse, ApproveResponse, RejectResponse } from '../node/control.js';
import { callNode, helpAfter, withNodeTarget, type NodeTarget } from './control-client.js';
import type { CliIo } from './exit.js';
import { renderTable } from './render.js';

interface ListOpts extends NodeTarget {
  tenant?: string;
  json?: boolean;
}

interface DecideOpts extends NodeTarget {
  by: string;
  role?: string[];
  reason?: string;
}

/** A duration as the largest two units: `45s`, `4m59s`, `2h05m`; negative is `-`. */
export function formatDuration(ms: number): string {
  if (!(ms >= 0)) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const ARGS_WIDTH = 60;

function compactArgs(args: unknown): string {
  const text = args === undefined ? '-' : JSON.stringify(args);
  return text.length > ARGS_WIDTH ? `${text.slice(0, ARGS_WIDTH - 1)}…` : text;
}

/** The approvals table: one row per pending request, its time left measured on the node's clock (`now`). */
export function formatApprovals(approvals: readonly PendingApproval[], now: number): string {
  const head = ['ID', 'CAPABILITY', 'ACTOR', 'TENANT', 'REQUESTER', 'WAITING', 'LEFT', 'ESCALATED', 'ARGS'];
  const rows = approvals.map((a) => [
    a.id,
    a.capability,
    a.actor,
    a.tenant,
    a.onBehalfOf === undefined || a.onBehalfOf === a.requester ? a.requester : `${a.requester} for ${a.onBehalfOf}`,
    formatDuration(now - a.createdAt),
    formatDuration(a.deadline - now),
    a.escalationLevel > 0 ? `to ${a.escalateTo ?? '?'}` : '-',
    compactArgs(a.args),
  ]);
  return renderTable(head, rows);
}

const approvalPath = (id: string, verb: 'approve' | 'reject'): string => `/v1/approvals/${encodeURIComponent(id)}/${verb}`;
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function withDecision(cmd: Command): Command {
  return withNodeTarget(cmd)
    .argument('<id>', 'the approval id (from `agentos approvals`)')
    .requiredOption('--by <who>', 'who decides: recorded in the audit log; may not be the requester, the actor or its principal')
    .option('--role <role>', 'act under this role (repeatable); with RBAC each must be held', collect);
}

export function registerApprovalCommands(program: Command, io: CliIo): void {
  withNodeTarget(program.command('approvals'))
    .description('list the requests a running node’s consent gates are waiting on (arguments redacted)')
    .option('--tenant <tenant>', 'only the requests of this tenant')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', helpAfter('agentos approvals', 'agentos approvals --tenant acme --node edge-1', "agentos approvals --json | jq -r '.approvals[].id'"))
    .action(async (opts: ListOpts) => {
      const query = opts.tenant === undefined ? '' : `?${new URLSearchParams({ tenant: opts.tenant }).toString()}`;
      const answer = await callNode<ApprovalsResponse>(opts, `/v1/approvals${query}`);
      if (opts.json) io.out(JSON.stringify(answer, null, 2));
      else if (answer.approvals.length === 0) io.err(`no pending approvals on node "${answer.node}"${opts.tenant === undefined ? '' : ` for tenant "${opts.tenant}"`}`);
      else io.out(formatApprovals(answer.approvals, answer.now));
    });

  withDecision(program.command('approve'))
    .description('grant a pending approval: the waiting call runs once, with exactly the arguments shown')
    .addHelpText('after', helpAfter('agentos approve apr-3 --by alice', 'agentos approve apr-3 --by bob --role duty-manager --node edge-1'))
    .action(async (id: string, opts: DecideOpts) => {
      const body = { by: opts.by, ...(opts.role ? { roles: opts.role } : {}) };
      const answer = await callNode<ApproveResponse>(opts, approvalPath(id, 'approve'), { method: 'POST', body });
      io.out(`approved ${answer.id} by ${answer.by} on node "${answer.node}"`);
    });

  withDecision(program.command('reject'))
    .description('reject a pending approval: the waiting call fails with CONSENT_REJECTED and never runs')
    .requiredOption('--reason <text>', 'why: recorded in the audit log and given to the caller')
    .addHelpText('after', helpAfter(`agentos reject apr-3 --by alice --reason 'wrong recipient'`))
    .action(async (id: string, opts: DecideOpts) => {
      const body = { by: opts.by, reason: opts.reason, ...(opts.role ? { roles: opts.role } : {}) };
      const answer = await callNode<RejectResponse>(opts, approvalPath(id, 'reject'), { method: 'POST', body });
      io.out(`rejected ${answer.id} by ${answer.by} on node "${answer.node}": ${answer.reason}`);
    });
}
