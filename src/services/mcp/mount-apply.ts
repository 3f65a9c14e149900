// Applying what a fresh tools/list means (reconcile.ts) to a mount: register a
// new tool pending, suspend a changed one, restore one listed again as
// approved, unregister one that left — each audited and emitted.

import { AgentOsError } from '../../base/errors.js';
import type { AuditRecordInput } from '../../kernel/audit/index.js';
import { pinHashes, type Entry, type RefreshReport } from './mount-types.js';
import type { PinnedTool } from './pin.js';
import type { Change } from './reconcile.js';
import type { ToolTable } from './tool-table.js';

/** What applying a change needs of the mount. */
export interface MountHost {
  /** `MCP server "files" (node server.js)`, for messages. */
  readonly what: string;
  readonly table: ToolTable;
  audit(record: Omit<AuditRecordInput, 'kind'>): void;
  emit(what: string, data: Record<string, unknown>): void;
  /** Track a tool that cannot be mounted (not registered), and say why. */
  refuse(remote: string, def: PinnedTool, err: AgentOsError | Error): void;
}

export function applyChange(host: MountHost, change: Change, report: RefreshReport): void {
  const { table } = host;
  const e = table.byRemote.get(change.remote);
  switch (change.kind) {
    case 'added': {
      const { def } = change.tool;
      if (e) table.forget(e); // a refused name listed again: try afresh
      let entry: Entry;
      try {
        entry = { remote: change.remote, local: table.nameFor(change.remote), state: 'pending', seen: change.tool.pin, listed: def, registered: false };
        table.track(entry);
        table.register(entry);
      } catch (err) {
        if (!(err instanceof AgentOsError)) throw err;
        host.refuse(change.remote, def, err);
        report.refused.push(change.remote);
        return;
      }
      report.added.push(entry.local);
      host.audit({ decision: 'pending', subject: entry.local, reason: 'a new tool awaits approval', hashes: pinHashes(change.tool.pin), data: { remote: entry.remote } });
      host.emit('tool.pending', { tool: entry.local, remote: entry.remote, hash: change.tool.pin.hash });
      return;
    }
    case 'changed':
    case 'unpinnable': {
      if (!e) return;
      if (change.kind === 'unpinnable' && e.approved === undefined) {
        table.unregister(e);
        host.refuse(change.remote, change.tool.def, change.error);
        report.refused.push(e.local);
        return;
      }
      Object.assign(e, {
        state: 'suspended',
        listed: change.tool.def,
        ...(change.kind === 'changed' ? { seen: change.tool.pin, changed: change.parts, reason: undefined } : { seen: undefined, changed: [], reason: change.error.message }),
      });
      table.register(e); // registers a removed tool again, suspended; else suspends it
      report.suspended.push(e.local);
      const parts = change.kind === 'changed' ? change.parts : [];
      const reason = `${host.what} changed the ${parts.length ? parts.join(', ') : 'definition'} of tool "${e.remote}" since it was approved${change.kind === 'changed' && change.already ? ' (again, while suspended)' : ''}`;
      host.audit({ decision: 'suspended', subject: e.local, reason, hashes: { approved: e.approved!.hash, ...(e.seen ? { listed: e.seen.hash } : {}) }, data: { remote: e.remote, changed: parts } });
      host.emit('tool.suspended', { tool: e.local, remote: e.remote, changed: parts, approved: e.approved!.hash, listed: e.seen?.hash });
      return;
    }
    case 'restored':
    case 'revised': {
      if (!e) return;
      Object.assign(e, { seen: change.tool.pin, listed: change.tool.def, changed: undefined, reason: undefined, state: change.kind === 'restored' ? 'active' : 'pending' });
      table.register(e);
      if (change.kind === 'restored') report.restored.push(e.local);
      host.audit({ decision: change.kind, subject: e.local, hashes: pinHashes(change.tool.pin), data: { remote: e.remote } });
      host.emit(`tool.${change.kind}`, { tool: e.local, remote: e.remote, hash: change.tool.pin.hash });
      return;
    }
    case 'removed': {
      if (!e) return;
      table.unregister(e);
      if (change.forget || e.state === 'refused') table.forget(e);
      else e.state = 'removed';
      if (e.state === 'refused') return;
      report.removed.push(e.local);
      host.audit({ decision: 'removed', subject: e.local, data: { remote: e.remote } });
      host.emit('tool.removed', { tool: e.local, remote: e.remote });
    }
  }
}
