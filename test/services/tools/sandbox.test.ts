// Worker sandboxes: a tool that hangs, eats memory, throws, exits or returns
// garbage ends in a typed error, and the node keeps serving other calls meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNode, defineTool, VirtualClock, type AgentOsNode } from '../../../src/index.js';
import { SecretStore, ToolRegistry } from '../../../src/services/tools/tool.js';
import { counterAgent, until } from '../../support/agents.js';
import { tempDir } from '../../support/tmp.js';
import * as fixtures from './fixtures/worker-tools.js';

let tmp: ReturnType<typeof tempDir>;
let node: AgentOsNode;
let tools: ToolRegistry;
const toolClock = new VirtualClock(0);
const secrets = new SecretStore({ 'svc.key': 'k3y-0f-the-service-42' });

const inProcess = defineTool({ name: 'local.echo', description: 'echoes', input: z.object({ s: z.string() }), execute: ({ s }) => s });

beforeAll(async () => {
  tmp = tempDir();
  node = await createNode({ name: 'sandbox', dataDir: tmp.dir, clock: new VirtualClock(0) });
  tools = new ToolRegistry(node.kernel, { clock: toolClock, secrets, sandbox: { maxThreads: 2 } });
  for (const tool of Object.values(fixtures)) tools.register(tool);
  tools.register(inProcess);
  await node.spawn(counterAgent('caller', { capabilities: ['sbx.*', 'local.*'] }), { id: 'caller' });
});

afterAll(async () => {
  await tools.close();
  await node.stop();
  tmp.cleanup();
});

const call = (name: string, args: unknown = {}) => tools.call('caller', name, args);
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string; field?: string };
  }
  throw new Error('expected the call to fail');
};

describe('worker sandbox', () => {
  it('runs a worker tool off the main thread and checks its output schema', async () => {
    await expect(call('sbx.double', { n: 21 })).resolves.toEqual({ n: 42, thread: true });
    expect(tools.manifest('sbx.double')?.sandbox).toMatchObject({ kind: 'worker' });
  });

  it('finds a tool declared with sandbox: "worker" from the module that defined it', async () => {
    expect(fixtures.inferred.sandbox?.module).toBe(new URL('./fixtures/worker-tools.ts', import.meta.url).href);
    await expect(call('sbx.inferred', { s: 'abc' })).resolves.toEqual({ upper: 'ABC', thread: true });
  });

  it('terminates a tool that loops forever at its time limit (TOOL_TIMEOUT), serving other calls meanwhile', async () => {
    const spinning = failure(call('sbx.spin'));
    await until(() => toolClock.pending() > 0);
    // The spinning thread holds one worker; other calls (in a worker and in process) still run.
    await expect(call('sbx.double', { n: 1 })).resolves.toEqual({ n: 2, thread: true });
    await expect(call('local.echo', { s: 'still here' })).resolves.toBe('still here');
    toolClock.advance(5_000);
    expect(await spinning).toMatchObject({ code: 'TOOL_TIMEOUT', field: 'timeoutMs' });
    await expect(call('sbx.double', { n: 2 })).resolves.toEqual({ n: 4, thread: true });
    expect(tools.stats().tools['sbx.spin']).toMatchObject({ calls: 1, timeouts: 1 });
  });

  it('discards a worker that allocates past its memory limit (TOOL_SANDBOX_LIMIT)', async () => {
    expect(await failure(call('sbx.hog'))).toMatchObject({ code: 'TOOL_SANDBOX_LIMIT', field: 'sandbox.memoryMb' });
    await expect(call('sbx.double', { n: 3 })).resolves.toEqual({ n: 6, thread: true });
    expect(tools.stats().tools['sbx.hog']).toMatchObject({ sandboxFailures: 1 });
  });

  it('turns a throw into TOOL_FAILED with credentials redacted, and audits it', async () => {
    const err = await failure(call('sbx.boom'));
    expect(err).toMatchObject({ code: 'TOOL_FAILED' });
    expect(err.message).toContain('[REDACTED:api-key]');
    expect(err.message).not.toContain('sk-live1234567890abcdefghij');
    await node.audit.flushed();
    const records = Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);
    const failed = records.find((r) => r.kind === 'tool' && r.subject === 'sbx.boom');
    expect(failed).toMatchObject({ decision: 'failed', actor: 'caller', data: { code: 'TOOL_FAILED' } });
    expect(failed!.hashes.toolManifest).toBe(tools.manifest('sbx.boom')!.hash);
    expect(JSON.stringify(failed)).not.toContain('sk-live');
  });

  it('refuses garbage: a result that is not JSON data, or that fails the output schema (INVALID_TOOL_OUTPUT)', async () => {
    expect(await failure(call('sbx.garbage'))).toMatchObject({ code: 'INVALID_TOOL_OUTPUT', field: 'output' });
    expect(await failure(call('sbx.liar'))).toMatchObject({ code: 'INVALID_TOOL_OUTPUT', field: 'n' });
    expect(tools.stats().tools['sbx.liar']).toMatchObject({ calls: 1, invalidOutputs: 1, passRate: 0 });
  });

  it('reports a worker that exits (TOOL_CRASHED) and a module without the export (TOOL_SANDBOX_LOAD)', async () => {
    expect(await failure(call('sbx.quits'))).toMatchObject({ code: 'TOOL_CRASHED' });
    expect(await failure(call('sbx.lost'))).toMatchObject({ code: 'TOOL_SANDBOX_LOAD', field: 'sandbox.module' });
    await expect(call('sbx.double', { n: 4 })).resolves.toEqual({ n: 8, thread: true });
  });

  it('hands a worker tool only the secrets it declared, and redacts them from its result', async () => {
    const out = (await call('sbx.keyed')) as { echoed: string; length: number };
    expect(out).toEqual({ echoed: 'token=[REDACTED:secret]', length: 'k3y-0f-the-service-42'.length });
    expect(await failure(call('sbx.greedy'))).toMatchObject({ code: 'UNKNOWN_SECRET' });
  });

  it('stops in-process tools at their time limit too, aborting their signal', async () => {
    let aborted = false;
    tools.register(
      defineTool({
        name: 'local.stall',
        description: 'waits for its signal',
        input: z.object({}),
        timeoutMs: 100,
        execute: (_a, ctx) => new Promise((resolve) => ctx.signal!.addEventListener('abort', () => ((aborted = true), resolve('late')))),
      }),
    );
    const stalled = failure(call('local.stall'));
    await until(() => toolClock.pending() > 0);
    toolClock.advance(100);
    expect(await stalled).toMatchObject({ code: 'TOOL_TIMEOUT' });
    expect(aborted).toBe(true);
  });

  it('after close, worker calls fail with TOOL_SANDBOX_CLOSED and no thread is left', async () => {
    const local = new ToolRegistry(node.kernel, { clock: toolClock });
    const twin = defineTool({ ...fixtures.double, name: 'sbx.twin', sandbox: { module: new URL('./fixtures/worker-tools.ts', import.meta.url), export: 'double' } });
    local.register(twin);
    await expect(local.call('caller', 'sbx.twin', { n: 5 })).resolves.toEqual({ n: 10, thread: true });
    expect(local.sandboxThreads).toBeGreaterThan(0);
    await local.close();
    expect(local.sandboxThreads).toBe(0);
    expect(await failure(local.call('caller', 'sbx.twin', { n: 5 }))).toMatchObject({ code: 'TOOL_SANDBOX_CLOSED' });
  });
});
