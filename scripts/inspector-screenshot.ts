// The README's picture of the inspector: a demo node (the quickstart's
// supervision tree, a crash and its restart, the persistent bookkeeper, a
// traffic light with nested states, a tool call waiting for a human approval,
// some traffic), the page opened in the system Chromium at 1280×800, the
// traffic light selected, and the page written to docs/inspector.png.
//
//   npx tsx scripts/inspector-screenshot.ts                 writes docs/inspector.png
//   npx tsx scripts/inspector-screenshot.ts --out x.png --dark
//   npx tsx scripts/inspector-screenshot.ts --keep          then keeps the node up (prints the URL) until Ctrl-C

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { setup } from 'xstate';
import { z } from 'zod';
import { bookkeeper, ledgerBook } from '../src/cli/demo-agents.js';
import { demoApp } from '../src/cli/demo.js';
import { createNode, defineAgent, defineTool, RealClock, syscall } from '../src/index.js';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const out = resolve(option('--out') ?? 'docs/inspector.png');
const dark = argv.includes('--dark');
const keep = argv.includes('--keep');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const lightMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('tick') }), z.object({ type: z.literal('button') }), z.object({ type: z.literal('fault') })]);

/** A pedestrian crossing: nested states, so the chart shows compound nodes. */
const crossing = defineAgent({
  name: 'crossing',
  messages: lightMessages,
  machine: setup({ types: { events: {} as z.infer<typeof lightMessages> } }).createMachine({
    id: 'crossing',
    initial: 'cars',
    on: { fault: '.flashing' },
    states: {
      cars: {
        initial: 'green',
        states: {
          green: { on: { button: 'yellow' } },
          yellow: { on: { tick: 'red' } },
          red: { type: 'final' },
        },
        onDone: 'walkers',
      },
      walkers: {
        initial: 'walk',
        states: { walk: { on: { tick: 'hurry' } }, hurry: { on: { tick: 'done' } }, done: { type: 'final' } },
        onDone: 'cars',
      },
      flashing: { on: { tick: 'cars' } },
    },
  }),
});

const doorMessages = z.object({ type: z.literal('open'), door: z.string() });

/** Opens a door through a tool that needs a human's consent (`consent_for`). */
const doorman = defineAgent({
  name: 'doorman',
  messages: doorMessages,
  contract: { capabilities: ['door.open'], security: { consent_for: ['door.open'] } },
  machine: setup({ types: { events: {} as z.infer<typeof doorMessages> }, actors: { syscall } }).createMachine({
    id: 'doorman',
    initial: 'idle',
    states: {
      idle: { on: { open: 'opening' } },
      opening: {
        invoke: { src: 'syscall', input: ({ event }) => ({ kind: 'tool' as const, name: 'door.open', args: { door: (event as z.infer<typeof doorMessages>).door } }), onDone: 'idle', onError: 'idle' },
      },
    },
  }),
});

const doorOpen = defineTool({ name: 'door.open', description: 'opens a door (demo)', input: z.object({ door: z.string() }), execute: () => ({ opened: true }) });

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt install chromium\` (or set CHROMIUM_PATH)`);
  const dir = mkdtempSync(join(tmpdir(), 'agentos-inspector-shot-'));
  const clock = new RealClock();
  const node = await createNode({ name: 'demo', dataDir: dir, clock, tools: [ledgerBook(), doorOpen], inspector: { port: keep ? 4200 : 0, statsMs: 250 } });
  const inspector = node.inspector!;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    await node.spawn(demoApp(), { id: 'app' });
    const books = await node.spawn(bookkeeper, { id: 'books' });
    const light = await node.spawn(crossing, { id: 'crossing' });
    const door = await node.spawn(doorman, { id: 'door' });
    const count = node.lookup('counter')!;

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: dark ? 'dark' : 'light' });
    await page.goto(inspector.url!);
    await page.waitForSelector('[data-testid=connection][data-status=open]');
    await page.waitForSelector('[data-testid="actor-row-crossing"]');
    await page.locator('[data-testid="actor-row-crossing"]').click();
    await page.waitForSelector('[data-testid=statechart] svg');

    // Some life: messages, a crash and its restart, orders booked, the crossing's cycle, a held door.
    for (let i = 1; i <= 6; i++) {
      count.send({ type: 'inc', by: i });
      await books.post({ type: 'order', id: `o${i}`, amount: 10 * i });
      await pause(60);
    }
    count.send({ type: 'crash' });
    count.send({ type: 'inc', by: 1 });
    door.send({ type: 'open', door: 'loading-bay' });
    for (const type of ['button', 'tick', 'tick'] as const) {
      light.send({ type });
      await pause(300);
    }
    await page.waitForSelector('[data-testid=approval]');
    await page.locator('[data-testid=approval-who]').fill('ana');
    await page.waitForSelector('[data-testid=statechart] [data-state-id="crossing.walkers.hurry"][data-active=true]');
    // The transition's edge animation runs ~1 s; catch it while it shows.
    light.send({ type: 'tick' });
    await page.waitForSelector('[data-testid=statechart] [data-state-id="crossing.walkers.done"][data-active=true], [data-testid=statechart] [data-state-id="crossing.cars.green"][data-active=true]');
    await pause(350);
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    console.log(`wrote ${out}`);
    if (keep) {
      console.log(`inspector at ${inspector.url} (Ctrl-C stops)`);
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    }
  } finally {
    await browser.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
