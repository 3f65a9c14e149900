// A real node with the inspector serving its page on 127.0.0.1, and the system
// Chromium driven by playwright-core, for the inspector's browser tests.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createNode, RealClock, type AgentOsNode, type NodeOptions } from '../../src/index.js';
import type { InspectorHandle, InspectorOptions } from '../../src/node/inspector.js';
import { tempDir } from '../support/tmp.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'inspector');

/** The system Chromium, headless. Missing: a failure that says how to install it (never a skip). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: the inspector's browser tests need it. Install it with \`apt install chromium\` (or set CHROMIUM_PATH).`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface InspectedNode {
  node: AgentOsNode;
  inspector: InspectorHandle;
  url: string;
  close(): Promise<void>;
}

let seq = 0;

/** A node (real clock, LMDB in a temp dir) created with the inspector on a free port; views every 200 ms so tests need not wait a second. */
export async function startInspectedNode(options: Partial<NodeOptions> = {}, inspector: InspectorOptions = {}): Promise<InspectedNode> {
  const tmp = tempDir('agentos-inspector-');
  const name = `insp${++seq}`;
  const clock = new RealClock();
  const node = await createNode({ name, dataDir: tmp.dir, clock, ...options, inspector: { port: 0, statsMs: 200, ...inspector } });
  const handle = node.inspector!;
  return {
    node,
    inspector: handle,
    url: handle.url!,
    close: async () => {
      await node.stop();
      tmp.cleanup();
    },
  };
}

/** A page at 1280×800; script errors it reports are collected in `errors` (the tests fail on any). */
export async function openPage(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs a refused reconnection attempt itself; the page handles it (backoff), so it is no error.
    if (m.type() === 'error' && !/WebSocket connection to .* failed/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.setDefaultTimeout(8000);
  await page.goto(url);
  await page.waitForSelector('[data-testid=connection][data-status=open]');
  return page;
}

/** Saves a PNG of the page under test-artifacts/inspector/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** The text of the first element matching `selector` (empty string if none). */
export async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? '';
}
