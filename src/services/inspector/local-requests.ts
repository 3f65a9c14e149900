// A page's request about this node, run here (the hub forwards the others to
// the member that runs the actor): watches, machines, approvals, traces and the
// audit check. Decisions go through the node's approval queue, which audits
// them; the approval watch notes who and why for the event the page sees.

import type { ClientRequest } from './protocol.js';
import type { InspectorSource } from './source.js';
import type { ApprovalWatch, ViewTaker } from './views.js';
import type { WatchGrant, Watches } from './watches.js';

export interface LocalContext {
  node: string;
  source: InspectorSource;
  watches: Watches;
  watchLeaseMs: number;
  now: number;
  approvals: ApprovalWatch | undefined;
  viewTaker: ViewTaker | undefined;
}

export function runLocal(req: Exclude<ClientRequest, { op: 'events' }>, holder: string, ctx: LocalContext): unknown {
  const { source } = ctx;
  switch (req.op) {
    case 'watch': {
      const expiresAt = ctx.watches.watch(req.actor, holder, ctx.now);
      return { node: ctx.node, actor: req.actor, leaseMs: ctx.watchLeaseMs, expiresAt } satisfies WatchGrant;
    }
    case 'unwatch':
      return { node: ctx.node, actor: req.actor, watching: ctx.watches.unwatch(req.actor, holder) };
    case 'machine':
      return source.machine(req.actor);
    case 'approve': {
      const result = source.approve(req.approval, { by: req.by, ...(req.reason === undefined ? {} : { reason: req.reason }) });
      ctx.approvals?.decide(req.approval, { decision: 'approved', by: req.by, ...(req.reason === undefined ? {} : { reason: req.reason }) });
      return result ?? { id: req.approval, by: req.by };
    }
    case 'reject': {
      const reason = req.reason ?? 'rejected in the inspector';
      const result = source.reject(req.approval, { by: req.by, reason });
      ctx.approvals?.decide(req.approval, { decision: 'rejected', by: req.by, reason });
      return result ?? { id: req.approval, by: req.by, reason };
    }
    case 'trace':
      return source.trace(req.ref);
    case 'audit.verify': {
      const result = source.verifyAudit();
      if (ctx.viewTaker) ctx.viewTaker.verified = result.ok;
      return result;
    }
  }
}
