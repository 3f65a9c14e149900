// `agentos dev` on a scaffolded project, as a real process: an edit to the
// hello machine restarts the node with the change (the reply text changes); an
// edit that does not load — a syntax error, an invalid contract — keeps the
// running node and prints the typed error; a config edit is picked up; a
// version that loads but fails to start is reported and the previous one runs
// again; SIGTERM stops it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callNode } from '../../src/cli/control-client.js';
import { initProject } from '../../src/cli/init.js';
import type { AskResponse, PsResponse } from '../../src/node/control.js';
import { tempDir } from '../support/tmp.js';
import { agentosInBackground, kill, linkDependencies, type Running } from './project.js';

const tmp = tempDir('agentos-dev-');
const project = join(tmp.dir, 'studio');
const target = { dataDir: join(project, '.agentos'), node: 'studio' };
const machineFile = join(project, 'agents/hello.machine.ts');
const contractFile = join(project, 'agents/hello.agent.yaml');
const configFile = join(project, 'agentos.config.ts');

let dev: Running | undefined;
let original: { machine: string; contract: string; config: string };

beforeAll(async () => {
  initProject(project);
  linkDependencies(project);
  original = { machine: readFileSync(machineFile, 'utf8'), contract: readFileSync(contractFile, 'utf8'), config: readFileSync(configFile, 'utf8') };
  dev = agentosInBackground(project, 'dev', '--debounce-ms', '100');
  await dev.ready(1);
}, 40_000);

afterAll(async () => {
  await kill(dev);
  tmp.cleanup();
});

const greet = async (): Promise<unknown> =>
  (await callNode<AskResponse>(target, '/v1/actors/hello/ask', { method: 'POST', body: { type: 'greet', name: 'Ada' } })).reply;

/** Run `edit`, then wait until stderr (what was printed after the edit) shows `expected`. */
async function afterEdit(edit: () => void, ...expected: (string | RegExp)[]): Promise<void> {
  const from = dev!.stderr().length;
  edit();
  for (const e of expected) await dev!.saidOnStderr(e, from);
}

describe('agentos dev', { timeout: 60_000 }, () => {
  it('serves the project like start, and watches the config, agents/ and tools/', async () => {
    expect(await greet()).toEqual({ text: 'Hello, Ada!' });
    expect(dev!.stderr()).toContain('agentos dev: watching agentos.config.ts and the sources beside it, and agents/, tools/');
  });

  it('serves the inspector by default (at 4200, or a free port when another session has it) and says where', async () => {
    await dev!.saidOnStderr(/agentos: inspector at http:\/\/127\.0\.0\.1:\d+/);
    const url = /agentos: inspector at (http:\/\/127\.0\.0\.1:\d+)/.exec(dev!.stderr())![1]!;
    expect((await fetch(url)).status).toBe(200);
  });

  it('an edit to the hello machine restarts the node with the change, on the same port', async () => {
    const before = dev!.stdout.length;
    await afterEdit(() => writeFileSync(machineFile, original.machine.replace("SALUTATION = 'Hello'", "SALUTATION = 'Howdy'")), 'agentos dev: changed: agents/hello.machine.ts; reloading');
    const port = await dev!.ready(2);
    expect(port).toBe(Number(dev!.stdout[0]!.slice('ready '.length)));
    expect(dev!.stdout.length).toBe(before + 1);
    expect(await greet()).toEqual({ text: 'Howdy, Ada!' });
  });

  it('a syntax error keeps the running node and prints the error', async () => {
    await afterEdit(
      () => writeFileSync(machineFile, original.machine.replace("SALUTATION = 'Hello'", "SALUTATION = 'Hi' +")),
      /agentos dev: CONFIG_LOAD_FAILED: cannot load agentos\.config\.ts: .*\n.*hello\.machine\.ts:\d+:\d+/,
      'agentos dev: node "studio" keeps running the previous version',
    );
    expect(dev!.stdout.filter((l) => l.startsWith('ready'))).toHaveLength(2);
    expect(await greet()).toEqual({ text: 'Howdy, Ada!' });
  });

  it('an invalid contract keeps the running node and prints CONTRACT_INVALID with the file, line and field', async () => {
    await afterEdit(
      () => {
        writeFileSync(contractFile, original.contract.replace('latency: SRT', 'latency: XRT'));
        writeFileSync(machineFile, original.machine.replace("SALUTATION = 'Hello'", "SALUTATION = 'Hi'"));
      },
      /agentos dev: CONTRACT_INVALID: .*hello\.agent\.yaml:\d+:\d+: class\.latency: unknown latency class "XRT"/,
      'keeps running the previous version',
    );
    expect(await greet()).toEqual({ text: 'Howdy, Ada!' });
    await afterEdit(() => writeFileSync(contractFile, original.contract), 'changed: agents/hello.agent.yaml; reloading');
    await dev!.ready(3);
    expect(await greet()).toEqual({ text: 'Hi, Ada!' });
  });

  it('a config edit is picked up: a second actor from the spawn list', async () => {
    const spawnTwo = original.config.replace("// spawn: [{ agent: 'hello', id: 'hello' }],", "spawn: [{ agent: 'hello', id: 'hello' }, { agent: 'hello', id: 'hello-2' }],");
    expect(spawnTwo).not.toBe(original.config);
    await afterEdit(() => writeFileSync(configFile, spawnTwo), 'changed: agentos.config.ts; reloading', 'agentos: node "studio" is up with 2 actors (started hello, hello-2)');
    await dev!.ready(4);
    const ps = await callNode<PsResponse>(target, '/v1/ps');
    expect(ps.actors.map((a) => a.id).sort()).toEqual(['hello', 'hello-2']);
  });

  it('a version that loads but fails to start is reported, and the previous version runs again', async () => {
    const failing = original.config.replace('// async setup(node) { … },', "async setup() { throw new Error('no database'); },");
    expect(failing).not.toBe(original.config);
    await afterEdit(
      () => writeFileSync(configFile, failing),
      'agentos dev: cannot start: CONFIG_SETUP_FAILED: agentos.config.ts: setup(node) failed: no database',
      'agentos dev: started the previous version again',
    );
    await dev!.ready(5);
    const ps = await callNode<PsResponse>(target, '/v1/ps');
    expect(ps.actors.map((a) => a.id).sort()).toEqual(['hello', 'hello-2']);
    expect(await greet()).toEqual({ text: 'Hi, Ada!' });
  });

  it('stops on SIGTERM: exit 0', async () => {
    dev!.child.kill('SIGTERM');
    expect(await dev!.exited).toBe(0);
    expect(dev!.stderr()).toContain('agentos dev: node "studio" stopped');
  });
});

describe('agentos dev on a project that does not load yet', { timeout: 60_000 }, () => {
  const broken = join(tmp.dir, 'draft');
  let run: Running | undefined;
  afterAll(() => kill(run));

  it('reports the error, starts no node, and starts one once the fix is saved', async () => {
    initProject(broken);
    linkDependencies(broken);
    const machine = join(broken, 'agents/hello.machine.ts');
    const good = readFileSync(machine, 'utf8');
    writeFileSync(machine, good.replace('export const messages', 'export const messages ='));
    run = agentosInBackground(broken, 'dev', '--debounce-ms', '100');
    await run.saidOnStderr(/agentos dev: CONFIG_LOAD_FAILED: cannot load agentos\.config\.ts: [\s\S]*; waiting for a change/);
    await run.saidOnStderr('agentos dev: watching agentos.config.ts and the sources beside it, and agents/, tools/');
    expect(run.stdout).toEqual([]);
    writeFileSync(machine, good);
    await run.ready(1);
    const reply = await callNode<AskResponse>({ dataDir: join(broken, '.agentos'), node: 'draft' }, '/v1/actors/hello/ask', { method: 'POST', body: { type: 'greet', name: 'Grace' } });
    expect(reply.reply).toEqual({ text: 'Hello, Grace!' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
