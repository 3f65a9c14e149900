// Worker sandboxes whose threads cannot start: the call fails at once with
// TOOL_SANDBOX_LOAD (not at its time limit), and closing the registry — what
// node.stop() does — never leaves an unhandled rejection behind. Before the fix,
// piscina kept the task of a `run` that threw while starting a thread and
// rejected it ("Terminating worker thread") on destroy, with nobody listening.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { ToolRegistry } from '../../../src/services/tools/tool.js';
import { counterAgent } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import { double } from './fixtures/worker-tools.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

beforeAll(async () => {
  tmp = tempDir();
  node = await createNode({ name: 'sandbox-start', dataDir: tmp.dir, clock: new VirtualClock(0) });
  await node.spawn(counterAgent('caller', { capabilities: ['sbx.*'] }), { id: 'caller' });
});
afterAll(async () => {
  await node.stop();
  tmp.cleanup();
});
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Let rejections nobody handles surface (Node reports them after the microtask queue drains). */
const drain = () => new Promise<void>((r) => setTimeout(r, 50));

describe('a sandbox whose worker threads cannot start', () => {
  it('Node refusing the thread (ERR_WORKER_INVALID_EXEC_ARGV): TOOL_SANDBOX_LOAD, and close() leaves no unhandled rejection', async () => {
    const tools = new ToolRegistry(node.kernel, { clock: new VirtualClock(0), sandbox: { execArgv: ['--expose-gc'] } });
    tools.register(double);
    for (let i = 0; i < 2; i++) {
      const err = await tools.call('caller', 'sbx.double', { n: 1 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TOOL_SANDBOX_LOAD', field: 'sandbox' });
      expect((err as Error).message).toContain('could not start a worker thread');
    }
    expect(tools.sandboxThreads).toBe(0);
    await tools.close();
    tools.unregister('sbx.double');
    await drain();
    expect(unhandled).toEqual([]);
    expect(tools.stats().tools['sbx.double']).toMatchObject({ calls: 2, sandboxFailures: 2 });
  });

  it('a thread that dies while starting (its loader cannot be imported) fails the waiting call at once, though no time limit fired', async () => {
    const clock = new VirtualClock(0); // never advanced: only the start failure can end the call
    const tools = new ToolRegistry(node.kernel, { clock, sandbox: { maxThreads: 1, execArgv: ['--import', 'file:///nonexistent/agentos-loader.mjs'] } });
    tools.register(double);
    const err = await tools.call('caller', 'sbx.double', { n: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOOL_SANDBOX_LOAD', field: 'sandbox' });
    expect((err as Error).message).toContain('agentos-loader');
    expect(clock.pending()).toBe(0);
    await tools.close();
    tools.unregister('sbx.double');
    await drain();
    expect(unhandled).toEqual([]);
  });
});
