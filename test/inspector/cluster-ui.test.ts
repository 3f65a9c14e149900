// The inspector page over a real two-node cluster, in the system Chromium: two
// nodes in this process linked on 127.0.0.1 with a shared secret, n1 serving the
// page and n2 only streaming to it. The page shows n2's actors under n2, selecting
// one draws its statechart (the machine request is forwarded to n2) and watches it
// on n2 (the watch is forwarded; n1 inspects nothing), a transition there lights
// the new state, the Lanes tab shows the figures of a real HRT lane agent running
// on n2, and the Cluster tab both members.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { setup } from 'xstate';
import { z } from 'zod';
import { defineAgent } from '../../src/index.js';
import { until } from '../support/agents.js';
import { guardAgent } from '../kernel/hrt/fixtures/guard.js';
import { launchBrowser, openPage, screenshot, startInspectedNode, textOf, type InspectedNode } from './support.js';

declare const document: any;

const SECRET = 'inspector browser cluster secret!';
const doorMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('open') }), z.object({ type: z.literal('close') })]);
const door = defineAgent({
  name: 'door',
  messages: doorMessages,
  machine: setup({ types: { events: {} as z.infer<typeof doorMessages> } }).createMachine({
    id: 'door',
    initial: 'shut',
    states: { shut: { on: { open: 'open' } }, open: { on: { close: 'shut' } } },
  }),
});

let browser: Browser;
const nodes: InspectedNode[] = [];
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
  for (const n of nodes.splice(0).reverse()) await n.close();
  expect(errors.splice(0)).toEqual([]);
});

const tableRow = (id: string) => `[data-testid="actor-row-${id}"]`;
const chartState = (id: string) => `[data-testid=statechart] [data-state-id="${id}"]`;

describe('inspector page over a two-node cluster', () => {
  it("shows the member's actors, draws and watches one of them there, and shows its HRT lane and both members", async () => {
    const n1 = await startInspectedNode({ name: 'n1', cluster: { secret: SECRET, seeds: [] } });
    nodes.push(n1);
    const n2 = await startInspectedNode(
      { name: 'n2', cluster: { secret: SECRET, seeds: [n1.node.cluster!.url] }, capacity: { cpu: '2', mem: '1Gi' }, hrt: { realtime: false, reportEveryMs: 20 } },
      { serve: false },
    );
    nodes.push(n2);
    await until(() => [n1, n2].every((n) => n.node.cluster!.members().filter((m) => m.status === 'up').length === 2), 10_000);
    await n2.node.spawn(door, { id: 'd2' });
    await n2.node.spawn(guardAgent, { id: 'g2', input: { limit: 2 } });

    page = await openPage(browser, n1.url, errors);
    // n2's actors, under n2, in the tree and the table.
    await page.waitForSelector('[data-testid=tree-row][data-node=n2][data-actor=d2]', { timeout: 10_000 });
    expect(await textOf(page, `${tableRow('d2')} [data-col=node]`)).toBe('n2');

    // Selecting it: the statechart comes from n2's running machine, and n2 (not n1) inspects it for this page.
    await page.locator(tableRow('d2')).click();
    await page.waitForSelector(`${chartState('door.shut')}[data-active=true]`);
    await page.waitForSelector('[data-testid=log-scope][data-watch=on]');
    await until(() => n2.node.kernel.inspection.watched().join() === 'd2');
    expect(n1.node.kernel.inspection.active).toBe(false);
    n2.node.lookup('d2')!.send({ type: 'open' });
    await page.waitForSelector(`${chartState('door.open')}[data-active=true]`);
    expect(await page.locator(chartState('door.shut')).getAttribute('data-active')).toBe('false');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=event-log] .text')].some((e: any) => e.textContent?.includes('d2 → open on open')));
    await screenshot(page, 'cluster-member-actor');

    // The lane agent on n2: its real lane figures (releases counted by n2's lane thread).
    await page.locator('[data-testid=tab-lanes]').click();
    await page.waitForSelector('[data-testid=lanes] tr[data-actor=g2]');
    const cells = page.locator('[data-testid=lanes] tr[data-actor=g2] td');
    expect(await cells.nth(1).textContent()).toBe('n2');
    await page.waitForFunction(() => Number(document.querySelectorAll('[data-testid=lanes] tr[data-actor=g2] td')[4]?.textContent ?? 0) > 0, undefined, { timeout: 10_000 });

    // Both members, up.
    await page.locator('[data-testid=tab-cluster]').click();
    for (const m of ['n1', 'n2']) expect(await textOf(page, `[data-testid=members] [data-member=${m}]`)).toContain('up');
    await screenshot(page, 'cluster-lanes-members');

    // Deselecting (another actor) ends the watch on n2.
    await n1.node.spawn(door, { id: 'd1' });
    await page.waitForSelector(tableRow('d1'));
    await page.locator(tableRow('d1')).click();
    await until(() => n2.node.kernel.inspection.watched().length === 0 && n1.node.kernel.inspection.watched().join() === 'd1');
  }, 60_000);
});
