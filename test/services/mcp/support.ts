// Shared by the MCP tests: the fixture server (stdio spec, or a child process
// serving Streamable HTTP on 127.0.0.1), a node in a temp dir, and an agent that
// calls a tool through `syscall` when told to and keeps the result or error code.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createNode, defineAgent, syscall, type AgentOsError, type AgentOsNode, type SystemEvent } from '../../../src/index.js';
import { tempDir } from '../../support/tmp.js';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const FIXTURE = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url));

/** The fixture over stdio, as mountMcpServer's transport. */
export const stdioFixture = (...flags: string[]) => ({ stdio: { command: process.execPath, args: ['--import', 'tsx', FIXTURE, ...flags], cwd: repoRoot } });

/** The fixture as a child process serving Streamable HTTP; resolves with its URL. */
export async function httpFixture(): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, '--http'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before printing its URL`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  return { url, child, stop };
}

export interface TestNode {
  node: AgentOsNode;
  events: SystemEvent[];
  stop(): Promise<void>;
}

export async function testNode(name = 'mcp', consent?: { timeoutMs: number }): Promise<TestNode> {
  const tmp = tempDir('agentos-mcp-');
  const events: SystemEvent[] = [];
  const node = await createNode({
    name,
    dataDir: tmp.dir,
    capacity: { cpu: '2', mem: '1Gi' },
    ...(consent ? { consent } : {}),
    inspect: (e) => void (e.type.startsWith('@agentos.') && events.push(e as SystemEvent)),
  });
  return {
    node,
    events,
    stop: async () => {
      await node.stop();
      tmp.cleanup();
    },
  };
}

const callerMessages = z.discriminatedUnion('type', [z.object({ type: z.literal('call'), tool: z.string(), args: z.unknown() })]);

interface CallerContext {
  calls: number;
  result?: unknown;
  error?: { code: string; message: string; field?: string };
}

/** An agent that calls `tool` through the kernel when sent `{ type: 'call' }`. */
export const caller = (contract: Record<string, unknown>) =>
  defineAgent({
    name: 'mcp-caller',
    messages: callerMessages,
    contract,
    machine: setup({ types: { context: {} as CallerContext, events: {} as z.infer<typeof callerMessages> }, actors: { syscall } }).createMachine({
      context: { calls: 0 },
      initial: 'idle',
      states: {
        idle: { on: { call: 'calling' } },
        calling: {
          invoke: {
            src: 'syscall',
            input: ({ event }) => ({ kind: 'tool' as const, name: (event as { tool: string }).tool, args: (event as { args: unknown }).args }),
            onDone: { target: 'idle', actions: assign({ result: ({ event }) => event.output, error: undefined, calls: ({ context }) => context.calls + 1 }) },
            onError: {
              target: 'idle',
              actions: assign({
                result: undefined,
                error: ({ event }) => {
                  const e = event.error as AgentOsError;
                  return { code: e.code, message: e.message, ...(e.field === undefined ? {} : { field: e.field }) };
                },
                calls: ({ context }) => context.calls + 1,
              }),
            },
          },
        },
      },
    }),
  });

/** Wait (real time: a child process answers) until `check` holds. */
export async function until(check: () => boolean, ms = 8000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise<void>((r) => setTimeout(r, 5));
  }
}

/** Send a call to a caller agent and wait for its outcome. */
export async function callThrough(node: AgentOsNode, id: string, tool: string, args: unknown): Promise<CallerContext> {
  const ref = node.lookup(id)!;
  const before = (ref.getSnapshot()?.context as CallerContext).calls;
  ref.send({ type: 'call', tool, args });
  await until(() => (ref.getSnapshot()?.context as CallerContext).calls > before);
  return ref.getSnapshot()?.context as CallerContext;
}

export const records = (node: AgentOsNode) => Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);
