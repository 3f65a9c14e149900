// One inspector for a cluster. Two real nodes in this process, linked on
// loopback with a shared secret: the node serving the page shows both nodes'
// actors and the member's events, forwards a request for the member's actor to
// it (a `watch` too: the member inspects its actor for that page, and stops at
// `unwatch`), and drops the member when it leaves. And the link alone, over an
// in-memory transport on a virtual clock: views cut into parts arrive whole,
// an unanswered request times out with a typed error.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/index.js';
import { InspectorHub } from '../../../src/services/inspector/hub.js';
import type { InspectorEvent, NodeView, ServerFrame } from '../../../src/services/inspector/protocol.js';
import { InspectorLink } from '../../../src/services/inspector/remote.js';
import type { InspectorSource } from '../../../src/services/inspector/source.js';
import { counterAgent, until } from '../../support/agents.js';
import { Client, inspectedNode, wsUrl, type Inspected } from './support.js';

const SECRET = 'inspector test cluster secret, 32';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const views = (f: ServerFrame): NodeView[] => (f.t === 'snapshot' ? f.nodes : f.t === 'delta' ? (f.nodes ?? []) : []);

describe('an inspector over a two-node cluster', () => {
  it('the serving node shows both nodes’ actors and events, forwards requests for the member’s actors, and drops a member that leaves', async () => {
    const n1 = await inspectedNode({ name: 'n1', inspector: { flushMs: 20, statsMs: 100 }, node: { cluster: { secret: SECRET, seeds: [] } } });
    cleanups.push(() => n1.close());
    let n2: Inspected | undefined = await inspectedNode({
      name: 'n2',
      inspector: { serve: false, flushMs: 20, statsMs: 100 },
      node: { cluster: { secret: SECRET, seeds: [n1.node.cluster!.url] } },
    });
    cleanups.push(async () => void (await n2?.close()));
    expect(n2.inspector.url).toBeUndefined();
    await until(() => [n1, n2!].every((n) => n.node.cluster!.members().filter((m) => m.status === 'up').length === 2), 10_000);
    await n1.node.spawn(counterAgent(), { id: 'c1' });
    const c2 = await n2.node.spawn(counterAgent(), { id: 'c2' });

    const page = await Client.open(wsUrl(n1.inspector.url!));
    cleanups.push(async () => page.close());
    // Both nodes' actors, each under its node (the newest view of each node the page has).
    const latest = (): Map<string, NodeView> => new Map(page.frames.flatMap(views).map((v) => [v.node, v]));
    await until(() => latest().get('n2')?.actors.some((a) => a.id === 'c2') === true && latest().get('n1')?.actors.some((a) => a.id === 'c1') === true, 10_000);
    expect(page.frames.some((f) => f.t === 'snapshot' && f.nodes.length === 2)).toBe(true);
    const now = latest();
    expect([...now.keys()].sort()).toEqual(['n1', 'n2']);
    expect(now.get('n1')!.actors.filter((a) => !a.system).map((a) => a.id)).toEqual(['c1']);
    expect(now.get('n2')!.actors.filter((a) => !a.system).map((a) => [a.id, a.node])).toEqual([['c2', 'n2']]);
    expect(now.get('n2')!.members.map((m) => m.nodeId).sort()).toEqual(['n1', 'n2']);

    // A watch on the member's actor is taken on the member; its messages then stream to the page, with the member's own seq.
    expect(await page.request({ op: 'watch', node: 'n2', actor: 'c2' })).toMatchObject({ ok: true, result: { node: 'n2', actor: 'c2', leaseMs: 30_000 } });
    expect(n2.node.kernel.inspection.watched()).toEqual(['c2']);
    expect(n1.node.kernel.inspection.active).toBe(false);
    expect(await page.request({ op: 'watch', node: 'n2', actor: 'ghost' })).toMatchObject({ ok: false, error: { code: 'INSPECTOR_UNKNOWN_ACTOR' } });
    c2.send({ type: 'inc', by: 4 });
    const delta = await page.next((f) => f.t === 'delta' && f.events.some((e) => e.node === 'n2' && e.kind === 'event' && e.event.type === 'inc'), 10_000);
    const inc = (delta as Extract<ServerFrame, { t: 'delta' }>).events.find((e) => e.node === 'n2' && e.kind === 'event') as Extract<InspectorEvent, { kind: 'event' }>;
    expect(inc).toMatchObject({ actor: 'c2', event: { type: 'inc' } });

    // Requests for the member's actors go to the member.
    expect(await page.request({ op: 'machine', node: 'n2', actor: 'c2' })).toMatchObject({ ok: true, result: { node: 'n2', actor: 'c2', state: 'counting', definition: { id: 'counter' } } });
    expect(await page.request({ op: 'machine', node: 'n2', actor: 'ghost' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_ACTOR' } });
    expect(await page.request({ op: 'audit.verify', node: 'n2' })).toMatchObject({ ok: true, result: { ok: true } });
    expect(await page.request({ op: 'machine', node: 'n3', actor: 'c2' })).toMatchObject({ ok: false, error: { code: 'INSPECTOR_UNKNOWN_NODE' } });
    const events = await page.request({ op: 'events', node: 'n2', actor: 'c2' });
    expect((events as { result: InspectorEvent[] }).result.some((e) => e.kind === 'event' && e.event.type === 'inc')).toBe(true);
    expect(await page.request({ op: 'unwatch', node: 'n2', actor: 'c2' })).toMatchObject({ ok: true, result: { watching: false } });
    expect(n2.node.kernel.inspection.active).toBe(false);

    // The member leaves: the page is told, and its next snapshot shows only n1.
    const from = page.frames.length;
    await n2.close();
    n2 = undefined;
    expect(await page.next((f) => f.t === 'resync', 10_000, from)).toEqual({ t: 'resync', reason: 'node-left' });
    const after = (await page.next((f) => f.t === 'snapshot', 5000, from)) as Extract<ServerFrame, { t: 'snapshot' }>;
    expect(after.nodes.map((v) => v.node)).toEqual(['n1']);
  }, 30_000);
});

const fakeSource = (node: string, actors: number): InspectorSource => ({
  node,
  tree: () => ({ id: 'root', kind: 'supervisor', path: '', restarts: 0, status: 'running', children: [] }),
  rows: () =>
    Array.from({ length: actors }, (_, i) => ({
      id: `a${i}`, path: `/a${i}`, supervisor: '/', node, agent: 'x', version: '1', class: 'DT', tenant: 'default', status: 'running', state: 'idle',
      mailbox: 0, waitP99Ms: 0, restarts: 0, incarnation: 0, delivered: i, deadlineMisses: 0, system: false, persistent: false, heldReason: null, lane: null,
    })),
  approvals: () => [],
  auditHead: () => ({ head: null, length: 0 }),
  members: () => [],
  machine: (id) => ({ actor: id, node, state: 'idle', definition: null }),
  logFields: () => [],
  approve: () => ({}),
  reject: () => ({}),
  trace: () => ({}),
  verifyAudit: () => ({ ok: true }),
});

describe('the inspector link alone (in-memory transport, virtual clock)', () => {
  it('reassembles a view sent in parts, and an unanswered forwarded request fails with INSPECTOR_REMOTE_TIMEOUT', async () => {
    const clock = new VirtualClock(0);
    const server = new InspectorHub({ node: 's', clock });
    const member = new InspectorHub({ node: 'm', clock });
    member.attach(fakeSource('m', 1001));
    let deliver = true;
    const sent: { to: string; body: unknown }[] = [];
    const links = new Map<string, InspectorLink>();
    const transport = (self: string) => ({
      send(to: string, body: unknown): void {
        if (to !== 's' && to !== 'm') throw new Error(`no member ${to}`);
        sent.push({ to, body });
        // Through structured cloning, as across a real link.
        const copy = structuredClone(body);
        if (deliver) queueMicrotask(() => links.get(to)!.onMessage(self, copy));
      },
    });
    const sLink = new InspectorLink(server, transport('s'), { serve: true, requestTimeoutMs: 1000 });
    const mLink = new InspectorLink(member, transport('m'), { serve: false, rowsPerPart: 100 });
    links.set('s', sLink).set('m', mLink);
    const frames: NodeView[] = [];
    server.subscribe({ batch: (_e, nodes) => nodes && frames.push(...nodes), resync: () => frames.push(...server.snapshot().nodes) });
    member.start();
    sLink.memberUp('m');
    await new Promise((r) => setTimeout(r, 10));
    expect(sent.filter((m) => (m.body as { t: string }).t === 'view')).toHaveLength(11);
    const view = server.snapshot().nodes.find((v) => v.node === 'm')!;
    expect(view.actors).toHaveLength(1001);
    expect(view.actors.map((a) => a.id)).toEqual(Array.from({ length: 1001 }, (_, i) => `a${i}`));

    await expect(server.request({ id: 1, op: 'machine', node: 'm', actor: 'a7' })).resolves.toMatchObject({ node: 'm', actor: 'a7' });
    deliver = false;
    const pending = server.request({ id: 2, op: 'machine', node: 'm', actor: 'a7' });
    clock.advance(999);
    let settled = false;
    void pending.catch(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(pending).rejects.toMatchObject({ code: 'INSPECTOR_REMOTE_TIMEOUT', field: 'node' });
    await expect(server.request({ id: 3, op: 'machine', node: 'x', actor: 'a7' })).rejects.toMatchObject({ code: 'INSPECTOR_UNKNOWN_NODE' });
    sLink.memberGone('m');
    expect(server.nodes()).toEqual([]);
    sLink.close();
    mLink.close();
    member.stop();
  });
});
