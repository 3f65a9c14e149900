// Approving a suspended or pending mounted tool: a person reviewed the listed
// definition and lets calls through again. Like a consent approval, it is checked
// against the node's RBAC — the approver needs the permission
// `approve-tool:<tool name>` (so `approve-tool:*`, `approve-tool:files.*`) in its
// tenant, or, on a node without RBAC, only to be named — and every approval or
// refusal is in the audit log. The approved definition becomes the tool's next
// registry version and is kept (in the node's LMDB) as its pin.

import { PolicyDenied } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import { PolicyCodes } from '../../kernel/policy/index.js';
import type { ApprovedTools } from '../tools/approved-store.js';
import { McpBridgeError, McpCodes } from './errors.js';
import type { MountHost } from './mount-apply.js';
import { pinHashes, statusOf, type ApproveOptions, type Entry, type McpToolStatus } from './mount-types.js';
import type { ToolPin } from './pin.js';

/** The RBAC permission (before `:<tool name>`) an approver of a mounted tool's definition needs. */
export const APPROVE_TOOL_PERMISSION = 'approve-tool';

export interface ApproveHost extends MountHost {
  readonly kernel: Kernel;
  readonly server: string;
  readonly store: ApprovedTools;
}

export function approveTool(host: ApproveHost, name: string, options: ApproveOptions): McpToolStatus {
  const e = host.table.find(name);
  const mismatch = (why: string): never => {
    throw new McpBridgeError(McpCodes.approvalMismatch, `approve "${name}" on ${host.what}: ${why}`, { field: 'name' });
  };
  if (!e) return mismatch('no such tool on this mount');
  if (e.state !== 'suspended' && e.state !== 'pending') return mismatch(`the tool is ${e.state}; only a suspended or pending tool awaits approval`);
  const by = options?.by;
  if (typeof by !== 'string' || by.length === 0) {
    throw new McpBridgeError(McpCodes.invalidOptions, `approve "${name}" on ${host.what}: options.by must name who approves (got ${JSON.stringify(by)})`, { field: 'by' });
  }
  authorize(host, e, by, options);
  if (options.hash !== undefined && options.hash !== e.seen?.hash) {
    return mismatch(`the listed definition is ${e.seen?.hash.slice(0, 12)}…, not the reviewed ${options.hash.slice(0, 12)}…; review it again`);
  }
  const manifest = host.table.approve(e, e.listed!); // MCP_INVALID_SCHEMA leaves everything as it was
  const previous = e.approved?.hash;
  Object.assign(e, { state: 'active', approved: e.seen, approvedDef: e.listed, version: manifest.version, changed: undefined, reason: undefined });
  host.table.sync(e);
  remember(host, e, by, manifest.hash);
  host.audit({
    decision: 'approved',
    subject: e.local,
    actor: by,
    ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    hashes: { ...pinHashes(e.seen as ToolPin), toolManifest: manifest.hash, ...(previous === undefined ? {} : { previous }) },
    data: { remote: e.remote, version: manifest.version, ...(options.roles === undefined ? {} : { roles: [...options.roles] }) },
  });
  host.emit('tool.approved', { tool: e.local, remote: e.remote, hash: e.seen!.hash, by, version: manifest.version });
  return statusOf(e);
}

/** Keep an entry's approved definition as its pin (across restarts when the store is the node's LMDB). */
export function remember(host: Pick<ApproveHost, 'store' | 'server' | 'kernel'>, e: Entry, by: string | undefined, manifest: string | undefined): void {
  if (!e.approved || !e.approvedDef) return;
  host.store.put({
    name: e.local,
    hash: e.approved.hash,
    ...(e.approved.parts ? { parts: { ...e.approved.parts } } : {}),
    definition: e.approvedDef as unknown as Record<string, unknown>,
    ...(e.version === undefined ? {} : { version: e.version }),
    ...(manifest === undefined ? {} : { manifest }),
    source: host.server,
    ...(by === undefined ? {} : { by }),
    at: host.kernel.clock.now(),
  });
}

function authorize(host: ApproveHost, e: Entry, by: string, options: ApproveOptions): void {
  const rbac = host.kernel.governance.policy.rbac;
  if (rbac === undefined) return;
  const permission = `${APPROVE_TOOL_PERMISSION}:${e.local}`;
  const tenant = options.tenant ?? 'default';
  const scope = { tenant, ...(options.team === undefined ? {} : { team: options.team }), ...(options.roles === undefined ? {} : { roles: options.roles }) };
  if (rbac.can(by, permission, scope)) return;
  const reason = `"${by}" may not approve MCP tool "${e.local}": it lacks the permission "${permission}" in tenant "${tenant}"`;
  host.audit({ decision: 'approval-refused', subject: e.local, actor: by, tenant, reason, hashes: e.seen ? { listed: e.seen.hash } : {}, data: { remote: e.remote, permission } });
  throw new PolicyDenied(PolicyCodes.approverNotAuthorized, reason, { field: 'by', details: { tool: e.local, by, permission } });
}
