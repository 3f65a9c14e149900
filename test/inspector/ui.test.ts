// The inspector page in a real browser (the system Chromium) against a real
// node: the tree and table show the actors (their state kept current with
// nothing watched), a crash raises the restart count, the statechart follows a
// transition of the selected (so watched) actor, an approval clicked in the
// page unblocks the held tool call, and a burst of events streams without
// layout shifts to a page that watches every actor.
import { setup } from 'xstate';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { defineAgent, defineTool, supervisor, type ActorRef } from '../../src/index.js';
import { InspectorServer, type NodeView } from '../../src/services/inspector/index.js';
import { counterAgent, until } from '../support/agents.js';
import { caller } from '../support/caller.js';
import { ir, stepAgent } from '../support/workflow.js';
import { launchBrowser, openPage, screenshot, startInspectedNode, textOf, type InspectedNode } from './support.js';

// The callbacks given to page.evaluate / waitForFunction run in the browser; the project compiles without the
// DOM library, so the few browser globals they use are declared here, for this file only.
declare const document: any;
declare const window: any;
declare const localStorage: any;
declare const PerformanceObserver: any;

const toggleMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('switch') }), z.object({ type: z.literal('up') })]);

/** A small machine with a nested state, to watch the statechart move. */
const toggle = defineAgent({
  name: 'toggle',
  messages: toggleMessages,
  machine: setup({ types: { events: {} as z.infer<typeof toggleMessages> } }).createMachine({
    id: 'toggle',
    initial: 'off',
    states: {
      off: { on: { switch: 'on' } },
      on: {
        initial: 'low',
        on: { switch: 'off' },
        states: { low: { on: { up: 'high' } }, high: {} },
      },
    },
  }),
});

let browser: Browser;
let inspected: InspectedNode | undefined;
let page: Page | undefined;
const errors: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await page?.close();
  page = undefined;
  await inspected?.close();
  inspected = undefined;
  // Any script error the page reported fails the test that caused it.
  expect(errors.splice(0)).toEqual([]);
});

const tree = (id: string) => `[data-testid=tree-row][data-actor="${id}"]`;
const tableRow = (id: string) => `[data-testid="actor-row-${id}"]`;
const chartState = (id: string) => `[data-testid=statechart] [data-state-id="${id}"]`;

async function appTree(n: InspectedNode): Promise<void> {
  await n.node.spawn(
    supervisor({
      id: 'app',
      strategy: 'one_for_one',
      intensity: 5,
      periodMs: 5000,
      children: [
        { id: 'c1', start: counterAgent() },
        { id: 'c2', start: counterAgent() },
      ],
    }),
    { id: 'app' },
  );
  // Directly under the root: the node keeps the definitions of agents it spawns itself (see the report on
  // supervised children), and the statechart needs the definition.
  await n.node.spawn(toggle, { id: 'sw' });
}

describe('inspector page', () => {
  it('shows the supervision tree and the actor table of a node', async () => {
    inspected = await startInspectedNode();
    await appTree(inspected);
    page = await openPage(browser, inspected.url, errors);
    await page.waitForSelector(tree('sw'));
    for (const id of ["app", "c1", "c2", "sw"]) expect(await page.locator(tree(id)).count()).toBe(1);
    expect(await page.locator(tree('app')).getAttribute('data-kind')).toBe('supervisor');
    expect(await textOf(page, `${tree('app')} .meta`)).toBe('one_for_one');
    expect(await textOf(page, `${tree('c1')} .meta`)).toContain('counter');
    for (const id of ['c1', 'c2', 'sw']) {
      await page.waitForSelector(tableRow(id));
      expect(await textOf(page, `${tableRow(id)} [data-col=status]`)).toBe('running');
    }
    expect(await textOf(page, `${tableRow('sw')} [data-col=state]`)).toBe('off');
    // Nothing selected, nothing watched: the node inspects no actor, and the log says where messages show.
    expect(inspected.node.kernel.inspection.active).toBe(false);
    expect(await textOf(page, '[data-testid=log-scope]')).toContain('selected actor');
    // A state change of an actor nobody watches still reaches the table (sampled at the flush).
    inspected.node.lookup('sw')!.send({ type: 'switch' });
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'on.low', `${tableRow('sw')} [data-col=state]`);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=event-log] .text')].some((e) => e.textContent === 'sw → on.low (sampled)'));
    expect(inspected.node.kernel.inspection.active).toBe(false);
    // Keyboard: arrows move the table's cursor, Enter selects, and the tree follows (rows sorted by id: c1, c2, sw).
    await page.locator('[data-testid=actor-table]').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForSelector(`${tree('c2')}[aria-selected=true]`);
    expect(await page.locator(tableRow('c2')).getAttribute('aria-selected')).toBe('true');
    expect(await textOf(page, '[data-testid=log-actor]')).toMatch(/^c2 @ /);
    // Selected: watched (on the node) for as long as it stays selected.
    await page.waitForSelector('[data-testid=log-scope][data-watch=on]');
    expect(inspected.node.kernel.inspection.watched()).toEqual(['c2']);
    expect(await textOf(page, '[data-testid=log-scope]')).toContain('messages of c2');
    // Sorting: a second click on a column reverses it.
    await page.locator('.thead [data-col=id]').click();
    // The header updates with the next paint (rendering is batched per animation frame).
    await page.waitForSelector('.thead [data-col=id][aria-sort=descending]');
    await page.waitForFunction(() => document.querySelector('[data-testid="actor-row-sw"]')?.getAttribute('data-index') === '0');
    // The filter narrows the table; `/` puts the cursor in it.
    await page.locator('[data-testid=actor-table]').focus();
    await page.keyboard.press('/');
    await page.keyboard.type('toggle');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="actor-row-"]:not([hidden])').length === 1);
    expect(await page.locator(`${tableRow('sw')}:not([hidden])`).count()).toBe(1);
    await screenshot(page, 'tree-and-table');
  });

  it('a crash makes the restart count go up and the row flash', async () => {
    inspected = await startInspectedNode();
    await appTree(inspected);
    page = await openPage(browser, inspected.url, errors);
    await page.waitForSelector(tree('c1'));
    expect(await textOf(page, `${tree('c1')} [data-testid=tree-restarts]`)).toBe('↻0');
    inspected.node.lookup('c1')!.send({ type: 'crash' });
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '↻1', `${tree('c1')} [data-testid=tree-restarts]`);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '1', `${tableRow('c1')} [data-col=restarts]`);
    expect(await page.locator(tree('c1')).getAttribute('class')).toContain('flash');
    // The sibling did not restart.
    expect(await textOf(page, `${tree('c2')} [data-testid=tree-restarts]`)).toBe('↻0');
    await screenshot(page, 'restart');
  });

  it('the statechart highlights the new state after an event and animates the transition', async () => {
    inspected = await startInspectedNode();
    await appTree(inspected);
    page = await openPage(browser, inspected.url, errors);
    await page.locator(tableRow('sw')).click();
    await page.waitForSelector(`${chartState('toggle.off')}[data-active=true]`);
    // The selected actor is watched: its transitions come exact, with the event that took them.
    await page.waitForSelector('[data-testid=log-scope][data-watch=on]');
    expect(inspected.node.kernel.inspection.watched()).toEqual(['sw']);
    expect(await page.locator(`${chartState('toggle.on')}`).getAttribute('data-active')).toBe('false');
    inspected.node.lookup('sw')!.send({ type: 'switch' });
    await page.waitForSelector(`${chartState('toggle.on.low')}[data-active=true]`);
    expect(await page.locator(chartState('toggle.on')).getAttribute('class')).toContain('active');
    expect(await page.locator(chartState('toggle.off')).getAttribute('data-active')).toBe('false');
    // The edge the transition took was animated (counted on the edge; the animation class goes when it ends).
    expect(await page.locator('[data-testid=statechart] .edge[data-event=switch][data-taken="1"]').count()).toBe(1);
    expect(await page.locator('[data-testid=statechart] .edge[data-event=up]').getAttribute('data-taken')).toBe('0');
    // The log shows the delivered message and the transition.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=event-log] .text')].some((e) => e.textContent?.includes('sw → on.low on switch')));
    await screenshot(page, 'statechart');
    inspected.node.lookup('sw')!.send({ type: 'up' });
    await page.waitForSelector(`${chartState('toggle.on.high')}[data-active=true]`);
    expect(await page.locator(chartState('toggle.on.low')).getAttribute('data-active')).toBe('false');
    // The keyboard selects in the tree too (arrows, Enter on a worker), and the chart follows.
    await inspected.node.spawn(toggle, { id: 'sw2' });
    await page.waitForSelector(tree('sw2'));
    await page.locator(tree('sw')).click();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid=statechart-actor]')?.textContent?.startsWith('sw2 '));
    await page.waitForSelector(`${chartState('toggle.off')}[data-active=true]`);
    expect(await page.locator(tree('sw2')).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator(tableRow('sw2')).getAttribute('aria-selected')).toBe('true');
    // The watch moved with the selection.
    await until(() => inspected!.node.kernel.inspection.watched().join() === 'sw2');
  });

  it('an approval clicked in the page unblocks the held tool call', async () => {
    const sent: unknown[] = [];
    const mailSend = defineTool({
      name: 'mail.send',
      description: 'send a mail (records it)',
      input: z.object({ to: z.string(), body: z.string() }),
      execute: (args) => {
        sent.push(args);
        return { sent: true };
      },
    });
    inspected = await startInspectedNode({ tools: [mailSend] });
    const ref = await inspected.node.spawn(caller({ capabilities: ['mail.send'], security: { consent_for: ['mail.send'] } }), { id: 'mailer' });
    page = await openPage(browser, inspected.url, errors);
    ref.send({ type: 'call', tool: 'mail.send', args: { to: 'a@example.org', body: 'permit approved' } });
    const item = page.locator('[data-testid=approval]');
    await item.waitFor();
    expect(await textOf(page, '[data-testid=approvals-badge]')).toBe('1');
    expect(await item.textContent()).toContain('mail.send');
    expect(await item.textContent()).toContain('a@example.org');
    expect(sent).toHaveLength(0);
    // Without a name the page refuses to send the decision.
    await item.locator('[data-testid=approve]').click();
    expect(await textOf(page, '[data-testid=approval-result]')).toContain('who');
    expect(sent).toHaveLength(0);
    await page.locator('[data-testid=approval-who]').fill('alice');
    await page.locator('[data-testid=approval-why]').fill('checked the address');
    await screenshot(page, 'approval');
    await item.locator('[data-testid=approve]').click();
    await until(() => ref.getSnapshot()?.context.calls === 1, 5000);
    expect(ref.getSnapshot()?.context.result).toEqual({ sent: true });
    expect(sent).toEqual([{ to: 'a@example.org', body: 'permit approved' }]);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=approval]').length === 0);
    expect(await textOf(page, '[data-testid=approval-result]')).toContain('approved by alice');
    // Who is remembered for the next visit.
    expect(await page.evaluate(() => localStorage.getItem('agentos.inspector.who'))).toBe('alice');
    // The turn's lineage: the tool call, in the trace view.
    await page.locator('[data-testid=tab-trace]').click();
    await page.locator('[data-testid=trace-ref]').fill('mailer#1');
    await page.locator('[data-testid=trace-go]').click();
    await page.waitForSelector('[data-testid=trace-result] [data-turn="mailer#1"] [data-kind=tool]');
    const call = await textOf(page, '[data-testid=trace-result] [data-kind=tool]');
    expect(call).toMatch(/^tool mail\.send v\S+ · ok [\d.]+ ms/);
    // No `log_fields` in the contract: the arguments show as their hash only.
    expect(call).toMatch(/args\s*sha256 [0-9a-f]{16}…/);
    expect(call).not.toContain('a@example.org');
    await screenshot(page, 'trace');
    // The audit log: head and length shown; verified on request.
    await page.locator('[data-testid=tab-audit]').click();
    expect(await textOf(page, '[data-testid=audit-status]')).toBe('not verified yet');
    await page.locator('[data-testid=audit-verify]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=audit-result]')?.textContent?.startsWith('verified'));
    expect(await textOf(page, '[data-testid=audit-status]')).toBe('verified ✓');
    expect(Number(await textOf(page, '[data-testid=audit-length]'))).toBeGreaterThan(0);
    // The audit log has the grant by alice, and the inspector's note with the reason.
    await inspected.node.audit.flushed();
    const records = Array.from({ length: inspected.node.audit.size }, (_, i) => inspected!.node.audit.record(i) as Record<string, any>);
    expect(records.some((r) => r.kind === 'consent' && r.decision === 'consent-granted' && JSON.stringify(r).includes('alice'))).toBe(true);
    expect(records.some((r) => r.kind === 'inspector' && r.reason === 'checked the address')).toBe(true);
  });

  it("an approval clicked in the page unblocks a workflow's approval gate; the run completes", async () => {
    const worker = stepAgent('worker', (c) => (c.step === 'draft' ? { text: 'permit for 12 Elm St' } : { sent: true }));
    const memo = ir({ name: 'memo', output: { sent: 'send.sent' }, steps: [{ id: 'draft', out: ['text'] }, { id: 'ok', type: 'HITL_approval', in: ['text'] }, { id: 'send', in: ['text'], out: ['sent'] }] });
    inspected = await startInspectedNode({ agents: [worker], workflows: [memo] });
    page = await openPage(browser, inspected.url, errors);
    await inspected.node.workflows.start('memo', {}, { runId: 'r1' });
    const item = page.locator('[data-testid=approval]');
    await item.waitFor();
    // The gate's context: the workflow, the run, the step and what it approves.
    expect(await item.textContent()).toContain('wf-r1-ok');
    expect(await item.textContent()).toContain('permit for 12 Elm St');
    expect(inspected.node.workflows.get('r1').status).toBe('waiting');
    await page.locator('[data-testid=approval-who]').fill('carol');
    await page.locator('[data-testid=approval-why]').fill('zoning checked');
    await item.locator('[data-testid=approve]').click();
    expect((await inspected.node.workflows.wait('r1')).status).toBe('completed');
    expect(inspected.node.workflows.get('r1').steps.ok!.approval).toMatchObject({ by: 'carol' });
    await page.waitForSelector('[data-testid=approval]', { state: 'detached' });
    // Audited with who and why, as the inspector's decision.
    const records = Array.from({ length: inspected.node.audit.size }, (_, i) => inspected!.node.audit.record(i) as Record<string, any>);
    expect(records.find((r) => r.kind === 'inspector' && r.subject === 'wf-r1-ok')).toMatchObject({ decision: 'approve', actor: 'carol', reason: 'zoning checked' });
  });

  it('reconnects after the socket is lost, and shows a member that joins (resync)', async () => {
    inspected = await startInspectedNode();
    await inspected.node.spawn(counterAgent(), { id: 'local1' });
    page = await openPage(browser, inspected.url, errors);
    await page.waitForSelector(tree('local1'));
    const { hub, port } = inspected.inspector;
    await inspected.inspector.server!.close();
    await page.waitForSelector('[data-testid=connection][data-status=closed]');
    expect(await textOf(page, '[data-testid=connection]')).toMatch(/reconnecting in/);
    const again = await InspectorServer.start({ hub, port: port! });
    try {
      await page.waitForSelector('[data-testid=connection][data-status=open]', { timeout: 10_000 });
      // A member's view arrives (as the cluster link would deliver it): the page is resynced and shows both nodes.
      const ghost: NodeView = {
        node: 'ghost',
        now: Date.now(),
        tree: { id: 'root', kind: 'supervisor', path: '', strategy: 'one_for_one', restarts: 0, status: 'running', children: [{ id: 'far1', kind: 'worker', path: '/far1', restarts: 2, status: 'running', info: { agent: 'counter', class: 'DT' } }] },
        actors: [{ id: 'far1', path: '/far1', supervisor: '/', node: 'ghost', agent: 'counter', version: null, class: 'DT', tenant: null, status: 'running', state: 'counting', mailbox: 0, waitP99Ms: null, restarts: 2, incarnation: 2, delivered: 7, deadlineMisses: null, system: false, persistent: false, heldReason: null, lane: { state: 'counting', queued: 0, periodMs: 10, wcetMs: 2, releases: 500, completions: 499, skipped: 1, misses: 3, jitterP99Ms: 0.42, jitterMaxMs: 1.7, responseP99Ms: 2.2, observedWcetMs: 1.1 }, rate: null }],
        approvals: [],
        audit: { head: null, length: 0, verified: null },
        members: [{ nodeId: 'ghost', address: '127.0.0.1:1', status: 'up', incarnation: 1 }],
      };
      hub.ingestRemote('ghost', { view: ghost });
      await page.waitForFunction(() => document.querySelector('[data-testid=resync-note]')?.textContent === 'resynced (node-joined)');
      await page.waitForSelector('[data-testid=tree-row][data-node=ghost][data-actor=far1]');
      expect(await textOf(page, '[data-testid=tree-row][data-node=ghost][data-actor=far1] [data-testid=tree-restarts]')).toBe('↻2');
      expect(await textOf(page, `${tableRow('far1')} [data-col=node]`)).toBe('ghost');
      expect(await page.locator(tree('local1')).count()).toBe(1);
      // Its HRT lane figures, misses flagged.
      await page.locator('[data-testid=tab-lanes]').click();
      const lane = page.locator('[data-testid=lanes] tr[data-actor=far1] td');
      expect(await lane.allTextContents()).toEqual(['far1', 'ghost', '10', '2', '500', '0.42', '1.70', '3', '1', '2.20']);
      expect(await lane.nth(7).getAttribute('class')).toBe('bad');
      await page.locator('[data-testid=tab-cluster]').click();
      expect(await textOf(page, '[data-testid=members] [data-member=ghost]')).toContain('up');
      await screenshot(page, 'reconnect-and-member');
    } finally {
      await again.close();
    }
  });

  it('keeps up with a burst of events over 200 actors without layout shifts', async () => {
    // The whole burst may land within one 50 ms flush on a quiet machine: an inbox larger than the
    // default 1,024 per flush keeps every event (the bound itself is tested in the hub's tests).
    inspected = await startInspectedNode({}, { inboxEvents: 8192 });
    const refs: ActorRef[] = [];
    for (let i = 0; i < 200; i++) refs.push(await inspected.node.spawn(counterAgent(), { id: `w${i}` }));
    page = await openPage(browser, inspected.url, errors);
    await page.waitForFunction(() => document.querySelector('[data-testid=actor-count]')?.textContent === '200');
    // Every actor's messages reach this page: it watches '*' (trace everything), as a page may.
    expect(await page.evaluate(() => window.__inspector.request({ op: 'watch', node: window.__inspector.model.served, actor: '*' }))).toMatchObject({ actor: '*' });
    expect(inspected.inspector.hub.watched()).toEqual(['*']);
    await page.locator(tableRow('w0')).click();
    await page.waitForSelector('[data-testid=statechart] [data-state-id="counter.counting"]');
    // Layout shifts from here on (the clicks above are more than 500 ms old by the burst).
    await page.waitForTimeout(600);
    await page.evaluate(() => {
      window.__shift = 0;
      window.__shifts = [];
      new PerformanceObserver((list: any) => {
        for (const e of list.getEntries()) {
          if (e.hadRecentInput) continue;
          window.__shift += e.value;
          window.__shifts.push((e.sources ?? []).map((s: any) => s.node?.className ?? '?').join(','));
        }
      }).observe({ type: 'layout-shift' });
    });
    const before = await page.evaluate(() => window.__inspector.model.recent.filter((e: any) => e.kind === 'event' && e.event.type === 'inc').length as number);
    expect(before).toBe(0);
    const BURST = 3000;
    for (let i = 0; i < BURST; i++) {
      refs[i % refs.length]!.send({ type: 'inc', by: 1 });
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    const total = refs.length;
    await until(async () => (await Promise.all(refs.slice(0, total).map((r) => r.getSnapshot()?.context.count ?? 0))).reduce((a, b) => a + b, 0) === BURST, 10_000);
    // The page catches up: every delivered message arrives as an `event`, none missed, no resync.
    await page.waitForFunction(
      (n) => window.__inspector.model.recent.filter((e: any) => e.kind === 'event' && e.event.type === 'inc').length >= n,
      BURST,
      { timeout: 10_000 },
    );
    const stats = await page.evaluate(() => window.__inspector.stats());
    expect(stats.missed).toBe(0);
    expect(stats.resyncs).toBe(0);
    expect(Number(await page.locator('[data-testid=event-count]').getAttribute('data-events'))).toBeGreaterThanOrEqual(BURST);
    // The selected actor's log got its share (15 of 3,000), live.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=log-count]')?.textContent) >= 15);
    await page.waitForTimeout(300);
    const shift = await page.evaluate(() => window.__shift as number);
    const sources = await page.evaluate(() => window.__shifts as string[]);
    expect({ shift, sources }).toEqual({ shift: 0, sources: [] });
    await screenshot(page, 'streaming');
  }, 30_000);
});
