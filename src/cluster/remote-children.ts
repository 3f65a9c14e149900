// Children of supervisors placed on other nodes (a child spec with `node`), both
// ends, over a cluster side channel. The parent's node asks the child's node to
// start the agent (by name and version, `restart: temporary` there: only its
// supervisor restarts it), stops it when the supervisor asks, and hears of its
// exit exactly once: its own end (crash or normal, reported by the child's
// node), or that node going down. The supervisor then applies its strategy as
// for a local child. If the parent's node goes down, its children are stopped
// (as linked processes are in OTP): nobody would supervise them.

import { z } from 'zod';
import type { AgentDefinition } from '../actors/define.js';
import { ActorError, ErrorCodes, isAgentOsError } from '../base/errors.js';
import { errorExit, normalExit, type ExitReason } from '../base/exit.js';
import type { Kernel } from '../kernel/kernel.js';
import type { RemoteChildren } from '../kernel/remote.js';
import type { ChildHandle } from '../supervisors/types.js';
import { ClusterCodes, ClusterError } from './errors.js';

export const CHILDREN_CHANNEL = 'children';

const id = z.string().min(1).max(256);
const wireError = z.object({ code: z.string().max(128), message: z.string().max(8192), field: z.string().max(256).optional() });
const message = z.discriminatedUnion('op', [
  z.object({ op: z.literal('start'), rid: z.number().int(), id, agent: z.string().min(1).max(256), version: z.string().max(256), input: z.unknown().optional(), tenant: z.string().max(256).optional(), parentPath: z.string().max(4096) }),
  z.object({ op: z.literal('started'), rid: z.number().int() }),
  z.object({ op: z.literal('refused'), rid: z.number().int(), error: wireError }),
  z.object({ op: z.literal('stop'), rid: z.number().int(), id }),
  z.object({ op: z.literal('stopped'), rid: z.number().int() }),
  z.object({ op: z.literal('exit'), id, reason: z.union([z.object({ kind: z.literal('normal') }), z.object({ kind: z.literal('error'), error: wireError })]) }),
]);
type ChildMessage = z.infer<typeof message>;

export interface RemoteChildrenHost {
  kernel: Kernel;
  /** Up members other than this node. */
  isUp(node: string): boolean;
  definition(name: string, version?: string): AgentDefinition | undefined;
  send(node: string, message: ChildMessage): void;
  /** Longest wait for the other node to start or stop a child (default 10 s). */
  timeoutMs?: number;
}

interface Placed {
  node: string;
  onExit: (reason: ExitReason) => void;
  parentPath: string;
}

export class ClusterChildren implements RemoteChildren {
  /** Parent side: children of this node's supervisors running elsewhere. */
  private readonly placed = new Map<string, Placed>();
  /** Child side: children this node runs for a supervisor elsewhere, by id → parent node. */
  private readonly hosted = new Map<string, string>();
  /** Child side: ids being stopped because their supervisor asked (their stop is not an exit to report). */
  private readonly stopping = new Set<string>();
  private readonly pending = new Map<number, { resolve: (m: ChildMessage) => void; timer: unknown }>();
  private rid = 0;
  private readonly untap: () => void;

  constructor(private readonly host: RemoteChildrenHost) {
    this.untap = host.kernel.tap((event) => {
      if (event.type !== '@agentos.actor.stopped' || typeof event.id !== 'string') return;
      const parent = this.hosted.get(event.id);
      if (parent === undefined || this.stopping.has(event.id)) return;
      this.hosted.delete(event.id);
      host.kernel.handoff.unpin(event.id);
      // A child stopped by anyone but its supervisor (its node shutting down, an operator) exited abnormally, as
      // an OTP process on a node that goes away does (`noconnection`): its supervisor decides, by its restart type.
      const reason = String(event.reason);
      const error = reason === 'shutdown' ? { code: 'CHILD_STOPPED', message: `stopped on node "${host.kernel.nodeId}" (not by its supervisor)` } : { code: 'CHILD_CRASHED', message: reason.replace(/^error: /, '') };
      const wire: ChildMessage = reason === 'normal' ? { op: 'exit', id: event.id, reason: { kind: 'normal' } } : { op: 'exit', id: event.id, reason: { kind: 'error', error } };
      this.trySend(parent, wire);
    });
  }

  isUp(node: string): boolean {
    return node !== this.host.kernel.nodeId && this.host.isUp(node);
  }

  async start(spec: Parameters<RemoteChildren['start']>[0], onExit: (reason: ExitReason) => void): Promise<ChildHandle> {
    const { node, id: childId } = spec;
    const answer = await this.request(node, (rid) => ({ op: 'start', rid, id: childId, agent: spec.agent, version: spec.version, parentPath: spec.parentPath, ...(spec.input === undefined ? {} : { input: spec.input }), ...(spec.tenant === undefined ? {} : { tenant: spec.tenant }) }));
    if (answer.op === 'refused') throw new ClusterError(answer.error.code, `child "${childId}" on node "${node}": ${answer.error.message}`, { field: answer.error.field ?? 'node' });
    this.placed.set(childId, { node, onExit, parentPath: spec.parentPath });
    this.host.kernel.emit('@agentos.supervisor.child-placed', { id: childId, node, parent: spec.parentPath || '/' });
    return {
      id: childId,
      stop: async () => {
        // A stop the supervisor asked for is not an exit to report.
        if (!this.placed.delete(childId)) return;
        if (this.host.isUp(node)) await this.request(node, (rid) => ({ op: 'stop', rid, id: childId })).catch(() => undefined);
      },
    };
  }

  describe(childId: string): Record<string, unknown> | undefined {
    const p = this.placed.get(childId);
    return p ? { node: p.node, remote: true, status: 'running' } : undefined;
  }

  /** A member is down or removed: its children exit (the supervisor decides), and the children it supervised here stop. */
  nodeGone(node: string): void {
    for (const [childId, p] of [...this.placed]) {
      if (p.node !== node) continue;
      this.placed.delete(childId);
      p.onExit(errorExit(new ClusterError(ClusterCodes.nodeDown, `node "${node}" running child "${childId}" of ${p.parentPath || '/'} is down`, { field: 'node' })));
    }
    for (const [childId, parent] of [...this.hosted]) {
      if (parent !== node) continue;
      this.hosted.delete(childId);
      this.host.kernel.handoff.unpin(childId);
      this.stopping.add(childId);
      void this.host.kernel.stopActor(childId).catch(() => undefined).finally(() => this.stopping.delete(childId));
    }
  }

  /** A message on the channel from `from`. Malformed ones are dropped. */
  receive(from: string, raw: unknown): void {
    const parsed = message.safeParse(raw);
    if (!parsed.success) return;
    const m = parsed.data;
    switch (m.op) {
      case 'start':
        return void this.startHere(from, m);
      case 'stop':
        return void this.stopHere(from, m.rid, m.id);
      case 'exit': {
        const p = this.placed.get(m.id);
        if (!p || p.node !== from) return;
        this.placed.delete(m.id);
        return p.onExit(m.reason.kind === 'normal' ? normalExit : errorExit(new ActorError(m.reason.error.code, `child "${m.id}" on node "${from}": ${m.reason.error.message}`)));
      }
      default: {
        const waiting = this.pending.get(m.rid);
        if (!waiting) return;
        this.pending.delete(m.rid);
        this.host.kernel.clock.clearTimeout(waiting.timer);
        waiting.resolve(m);
      }
    }
  }

  close(): void {
    this.untap();
    for (const [, w] of this.pending) this.host.kernel.clock.clearTimeout(w.timer);
    this.pending.clear();
  }

  // ── internals ──────────────────────────────────────────────────────────

  private async startHere(from: string, m: Extract<ChildMessage, { op: 'start' }>): Promise<void> {
    try {
      const def = this.host.definition(m.agent, m.version);
      if (!def || def.version !== m.version) throw new ActorError(ErrorCodes.invalidAgent, `agent ${m.agent}@${m.version} is not registered on node "${this.host.kernel.nodeId}"`, { field: 'agent' });
      this.hosted.set(m.id, from);
      // Its supervisor is on another node and knows it here: it does not move (its supervisor restarts it elsewhere if need be).
      this.host.kernel.handoff.pin(m.id, `"${m.id}" is a child of a supervisor on node "${from}"`);
      await this.host.kernel.spawn(def, { id: m.id, restart: 'temporary', ...(m.input === undefined ? {} : { input: m.input }), ...(m.tenant === undefined ? {} : { tenant: m.tenant }) });
      this.trySend(from, { op: 'started', rid: m.rid });
    } catch (err) {
      if (this.hosted.get(m.id) === from && !this.host.kernel.describe(m.id)) {
        this.hosted.delete(m.id);
        this.host.kernel.handoff.unpin(m.id);
      }
      const e = isAgentOsError(err) ? err : undefined;
      this.trySend(from, { op: 'refused', rid: m.rid, error: { code: e?.code ?? ErrorCodes.invalidAgent, message: (err as Error).message, ...(e?.field ? { field: e.field } : {}) } });
    }
  }

  private async stopHere(from: string, rid: number, childId: string): Promise<void> {
    if (this.hosted.get(childId) === from) {
      this.hosted.delete(childId);
      this.host.kernel.handoff.unpin(childId);
      this.stopping.add(childId);
      await this.host.kernel.stopActor(childId).catch(() => undefined);
      this.stopping.delete(childId);
    }
    this.trySend(from, { op: 'stopped', rid });
  }

  private request(node: string, build: (rid: number) => ChildMessage): Promise<ChildMessage> {
    const rid = ++this.rid;
    const ms = this.host.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = this.host.kernel.clock.setTimeout(() => {
        this.pending.delete(rid);
        reject(new ClusterError(ClusterCodes.nodeDown, `node "${node}" did not answer within ${ms} ms`, { field: 'node' }));
      }, ms);
      this.pending.set(rid, { resolve, timer });
      try {
        this.host.send(node, build(rid));
      } catch (err) {
        this.pending.delete(rid);
        this.host.kernel.clock.clearTimeout(timer);
        reject(err);
      }
    });
  }

  private trySend(node: string, m: ChildMessage): void {
    try {
      this.host.send(node, m);
    } catch {
      // The node is gone: membership tells the other side.
    }
  }
}
