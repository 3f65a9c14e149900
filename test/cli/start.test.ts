// `agentos start`: the config is checked field by field before any node starts
// (in-process grid), and a scaffolded project runs as a real process — `ready
// <port>`, `agentos ps` and `agentos ask` reach it, SIGTERM stops it cleanly —
// while a broken config exits 1 with its typed error.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig, ConfigCodes, loadConfig, nodeOptionsOf } from '../../src/cli/config.js';
import { initProject } from '../../src/cli/init.js';
import { defineAgent, defineTool } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { agentosIn, agentosInBackground, kill, linkDependencies, type Running } from './project.js';

const tmp = tempDir('agentos-start-');
afterAll(() => tmp.cleanup());

const messages = z.discriminatedUnion('type', [z.object({ type: z.literal('ping') })]);
const machine = setup({ types: { context: {} as { n: number }, events: {} as z.infer<typeof messages> } }).createMachine({
  context: { n: 0 },
  on: { ping: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});
const agent = (name: string, contract?: Record<string, unknown>) => defineAgent({ name, machine, messages, ...(contract ? { contract } : {}) });
const tool = defineTool({ name: 'demo.echo', description: 'echo', input: z.object({ x: z.string() }), execute: ({ x }) => x });
const file = join(tmp.dir, 'app', 'agentos.config.ts');

function refusal(value: unknown): { code: string; field: string | undefined; message: string } {
  try {
    checkConfig(value, file);
  } catch (err) {
    const e = err as { code: string; field: string | undefined; message: string };
    return { code: e.code, field: e.field, message: e.message };
  }
  throw new Error('the config was accepted');
}

describe('the config loader', () => {
  const a = agent('a');
  const b = agent('b');
  const cases: [string, unknown, string, RegExp][] = [
    ['not an object', 42, 'default', /must be an object \{ node, agents, tools, … \} \(got 42\)/],
    ['an unknown field', { node: { name: 'n' }, agent: [a] }, 'agent', /is not a config field \(known: node, agents, tools, workflows, spawn, setup, watch\)/],
    ['no node', { agents: [a] }, 'node', /must be an object \{ name, …createNode options \} \(got undefined\)/],
    ['agents under node', { node: { name: 'n', agents: [a] } }, 'node.agents', /belongs at the top level/],
    ['control under node', { node: { name: 'n', control: true } }, 'node.control', /use --port/],
    ['an unknown node option', { node: { name: 'n', bogus: 1 } }, 'node.bogus', /is not a createNode option/],
    ['a bad node name', { node: { name: 'no spaces' } }, 'node.name', /must be 1-64 characters/],
    ['a bad nested node option', { node: { name: 'n', scheduler: { batchSize: 0 } } }, 'node.scheduler.batchSize', /must be a positive integer \(got 0\)/],
    ['agents not an array', { node: { name: 'n' }, agents: a }, 'agents', /must be an array \(got an object\)/],
    ['a non-agent in agents', { node: { name: 'n' }, agents: [a, { name: 'x' }] }, 'agents[1]', /must be a defineAgent\(\.\.\.\) definition \(got an object\)/],
    ['a repeated agent name', { node: { name: 'n' }, agents: [a, agent('a')] }, 'agents[1]', /repeats the agent name "a"/],
    ['an invalid contract', { node: { name: 'n' }, agents: [agent('c', { class: { latency: 'XRT' } })] }, 'agents[0].contract', /of "c" is invalid: .*class\.latency/],
    ['a non-tool in tools', { node: { name: 'n' }, tools: ['demo.echo'] }, 'tools[0]', /must be a defineTool\(\.\.\.\) definition \(got "demo\.echo"\)/],
    ['a repeated tool', { node: { name: 'n' }, tools: [tool, tool] }, 'tools[1]', /repeats the tool name "demo\.echo"/],
    ['a bad workflow', { node: { name: 'n' }, workflows: [7] }, 'workflows[0]', /must be a workflow definition or a \*\.workflow\.yaml path \(got 7\)/],
    ['spawn of an unknown agent', { node: { name: 'n' }, agents: [a], spawn: [{ agent: 'zz' }] }, 'spawn[0].agent', /names no agent of this config \(agents: a\)/],
    ['spawn with an unknown field', { node: { name: 'n' }, agents: [a], spawn: [{ agent: 'a', ids: 'x' }] }, 'spawn[0].ids', /is not a spawn field/],
    ['spawn of a repeated id', { node: { name: 'n' }, agents: [a, b], spawn: [{ agent: 'a', id: 'x' }, { agent: b, id: 'x' }] }, 'spawn[1].id', /repeats the actor id "x"/],
    ['spawn with a bad restart', { node: { name: 'n' }, agents: [a], spawn: [{ agent: 'a', restart: 'always' }] }, 'spawn[0].restart', /must be permanent, transient or temporary/],
    ['setup not a function', { node: { name: 'n' }, setup: 'go' }, 'setup', /must be a function \(node\) => … \(got "go"\)/],
    ['a bad watch entry', { node: { name: 'n' }, watch: ['agents', ''] }, 'watch[1]', /must be a directory path/],
  ];
  it.each(cases)('refuses %s with CONFIG_INVALID naming the field', (_what, value, field, why) => {
    const r = refusal(value);
    expect(r).toMatchObject({ code: ConfigCodes.invalid, field });
    expect(r.message).toMatch(new RegExp(`agentos\\.config\\.ts: ${field.replace(/[[\].]/g, '\\$&')} `));
    expect(r.message).toMatch(why);
  });

  it('starts one actor per agent by default, the spawn list when given, and resolves the data dir against the config', () => {
    const a = agent('a');
    const b = agent('b');
    const byDefault = checkConfig({ node: { name: 'n' }, agents: [a, b], tools: [tool] }, file);
    expect(byDefault.starts.map((s) => [s.agent.name, s.options])).toEqual([['a', { id: 'a' }], ['b', { id: 'b' }]]);
    expect(nodeOptionsOf(byDefault)).toMatchObject({ name: 'n', dataDir: join(tmp.dir, 'app', '.agentos'), agents: [a, b], tools: [tool], workflows: [] });
    const listed = checkConfig({ node: { name: 'n', dataDir: 'var/data' }, agents: [a], spawn: [{ agent: 'a', id: 'a1', tenant: 't1', input: { k: 1 } }, { agent: b, id: 'b1' }] }, file);
    expect(listed.starts.map((s) => [s.agent.name, s.options])).toEqual([['a', { id: 'a1', tenant: 't1', input: { k: 1 } }], ['b', { id: 'b1' }]]);
    expect(nodeOptionsOf(listed).dataDir).toBe(join(tmp.dir, 'app', 'var/data'));
    expect(nodeOptionsOf(listed, { name: 'other', dataDir: tmp.dir }).dataDir).toBe(tmp.dir);
    expect(nodeOptionsOf(listed, { name: 'other' }).name).toBe('other');
    expect(checkConfig({ node: { name: 'n' }, agents: [a], spawn: [] }, file).starts).toEqual([]);
  });

  it('takes the named export `config` when there is no default, and says when there is neither', async () => {
    const dir = join(tmp.dir, 'exports');
    initProject(dir, { name: 'x' });
    writeFileSync(join(dir, 'named.mjs'), "export const config = { node: { name: 'named' } };\n");
    writeFileSync(join(dir, 'none.mjs'), 'export const other = 1;\n');
    expect((await loadConfig(join(dir, 'named.mjs'))).config.node.name).toBe('named');
    await expect(loadConfig(join(dir, 'none.mjs'))).rejects.toMatchObject({ code: ConfigCodes.invalid, field: 'default' });
  });
});

describe('agentos start on a scaffolded project', { timeout: 60_000 }, () => {
  const project = join(tmp.dir, 'shop');
  let node: Running | undefined;
  let port: number;

  beforeAll(async () => {
    initProject(project);
    linkDependencies(project);
    node = agentosInBackground(project, 'start', '--inspect', '0');
    port = await node.ready();
  }, 40_000);
  afterAll(() => kill(node));

  it('prints ready <port>, keeps its data under .agentos/ and says how to reach it', async () => {
    expect(port).toBeGreaterThan(0);
    expect(existsSync(join(project, '.agentos/shop/control.json'))).toBe(true);
    await node!.saidOnStderr('agentos: node "shop" is up with 1 actor (started hello)');
    await node!.saidOnStderr('agentos ps --node shop');
  });

  it('--inspect serves the inspector page and says where', async () => {
    await node!.saidOnStderr('agentos: inspector at http://127.0.0.1:');
    const url = /agentos: inspector at (http:\/\/127\.0\.0\.1:\d+)/.exec(node!.stderr())![1]!;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<title>');
  });

  it('`agentos ps` shows the hello agent; `agentos ask` gets its greeting through the tool', () => {
    const ps = agentosIn(project, 'ps', '--node', 'shop');
    expect(ps.status, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(/^hello\s+hello\s+SRT\s+running\s+idle\s+0 /m);
    const asked = agentosIn(project, 'ask', 'hello', '{"type":"greet","name":"Ada"}', '--node', 'shop');
    expect(asked.status, asked.stderr).toBe(0);
    expect(JSON.parse(asked.stdout)).toEqual({ text: 'Hello, Ada!' });
  });

  it('stops on SIGTERM: exit 0, control.json removed', async () => {
    node!.child.kill('SIGTERM');
    expect(await node!.exited).toBe(0);
    expect(node!.stderr()).toContain('agentos: node "shop" stopped');
    expect(existsSync(join(project, '.agentos/shop/control.json'))).toBe(false);
  });

  it('a config that is invalid, does not load or is missing: exit 1 with its typed error; a bad --port: exit 2', () => {
    writeFileSync(join(project, 'bad.config.mjs'), "export default { node: { name: 'shop', bogus: true }, agents: [] };\n");
    const invalid = agentosIn(project, 'start', '--config', 'bad.config.mjs');
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toMatch(/^CONFIG_INVALID: bad\.config\.mjs: node\.bogus is not a createNode option \(known: name, dataDir, /);
    writeFileSync(join(project, 'broken.config.ts'), "export default { node: { name: 'shop' } ;\n");
    const broken = agentosIn(project, 'start', '--config', 'broken.config.ts');
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/^CONFIG_LOAD_FAILED: cannot load broken\.config\.ts: /);
    const missing = agentosIn(tmp.dir, 'start');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^CONFIG_NOT_FOUND: no agentos\.config\.ts, agentos\.config\.mts, agentos\.config\.js, agentos\.config\.mjs in .*agentos init/);
    const usage = agentosIn(project, 'start', '--port', 'http');
    expect(usage.status).toBe(2);
  });
});
