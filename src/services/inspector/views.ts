// A node as the page shows it, taken from an InspectorSource once per stats
// window: actor rows with their message rate over the window, the trees,
// approvals, audit head and members. And the approvals a flush has seen come
// and go, as `approval.*` events (the queue's own events do not reach the
// inspect stream, so the list is compared from flush to flush).

import type { Draft } from './mapping.js';
import type { ActorRow, NodeView } from './protocol.js';
import type { ApprovalDecision, InspectorSource } from './source.js';

/** Rates need two windows: the delivered count of each actor at the last view. */
export class ViewTaker {
  private last: { at: number; delivered: Map<string, number> } | undefined;
  /** Result of the last `audit.verify` (null until one ran). */
  verified: boolean | null = null;

  constructor(private readonly source: InspectorSource) {}

  take(now: number): NodeView {
    const s = this.source;
    const tree = s.tree();
    const system = s.systemTree?.();
    const rows = s.rows(tree, system);
    const delivered = new Map<string, number>();
    const seconds = this.last === undefined ? 0 : (now - this.last.at) / 1000;
    const actors: ActorRow[] = rows.map((row) => {
      const key = `${row.system ? 's' : 'u'}:${row.id}`;
      if (row.delivered !== null) delivered.set(key, row.delivered);
      const before = this.last?.delivered.get(key);
      // A count that went down (a new cell) has no rate for this window.
      const rate = seconds > 0 && before !== undefined && row.delivered !== null && row.delivered >= before ? (row.delivered - before) / seconds : null;
      return { ...row, rate };
    });
    this.last = { at: now, delivered };
    const head = s.auditHead();
    return {
      node: s.node,
      now,
      tree,
      ...(system ? { system } : {}),
      actors,
      approvals: s.approvals(),
      audit: { head: head.head, length: head.length, verified: this.verified },
      members: s.members(),
    };
  }
}

/** Pending approvals seen at the last flush; what appeared or left since becomes an event. */
export class ApprovalWatch {
  private readonly known = new Set<string>();
  /** Decisions taken through the inspector (or announced by an event), until the list drops the request. */
  private readonly decided = new Map<string, ApprovalDecision>();

  constructor(private readonly source: InspectorSource) {}

  /** An `approval.*` event from the node's own event stream: noted, so the list diff does not repeat it. */
  noted(draft: Draft): boolean {
    if (draft.kind === 'approval.requested') {
      if (this.known.has(draft.approval)) return false;
      this.known.add(draft.approval);
      return true;
    }
    if (draft.kind === 'approval.decided') {
      this.known.delete(draft.approval);
      // Decided here: the queue's event is the one shown (with who); the list diff must not repeat it.
      const mine = this.decided.get(draft.approval);
      if (mine) {
        this.decided.delete(draft.approval);
        if (draft.reason === undefined && mine.reason !== undefined) draft.reason = mine.reason;
      }
      return true;
    }
    return true;
  }

  /** A decision taken here: the event that follows carries who and why. */
  decide(id: string, decision: ApprovalDecision): void {
    this.decided.set(id, decision);
    if (this.decided.size > 1000) this.decided.delete(this.decided.keys().next().value!);
  }

  diff(node: string, at: number): Draft[] {
    const list = this.source.approvals();
    const out: Draft[] = [];
    const now = new Set<string>();
    for (const item of list) {
      now.add(item.id);
      if (!this.known.has(item.id)) {
        this.known.add(item.id);
        out.push({ kind: 'approval.requested', node, at, approval: item.id });
      }
    }
    // Gone from the list: what was seen pending, and what was decided here (even before a flush saw it pending).
    const gone = new Set([...this.known, ...this.decided.keys()].filter((id) => !now.has(id)));
    for (const id of gone) {
      this.known.delete(id);
      const d = this.decided.get(id) ?? this.source.approvalOutcome?.(id);
      this.decided.delete(id);
      out.push({
        kind: 'approval.decided',
        node,
        at,
        approval: id,
        ...(d ? { decision: d.decision } : {}),
        ...(d?.by ? { by: d.by } : {}),
        ...(d?.reason ? { reason: d.reason } : {}),
      });
    }
    return out;
  }
}
