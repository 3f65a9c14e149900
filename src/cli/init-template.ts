// The project `agentos init` writes: a config, one agent (contract in YAML, state
// machine in TypeScript), one tool, a vitest test, and the package and
// TypeScript settings to run them. Kept as string constants so the build needs
// no extra files. Every file here runs: test/cli/init.test.ts scaffolds a
// project, runs its test, starts it and reloads it.

export interface TemplateOptions {
  /** The node's name (also the default package name). */
  node: string;
  /** The package.json `name`. */
  packageName: string;
  /** Version ranges: `agentos` itself and the packages the project uses directly. */
  versions: Record<'agentos' | 'xstate' | 'zod' | 'tsx' | 'vitest' | 'typescript' | '@types/node', string>;
}

export interface TemplateFile {
  /** Relative to the project directory, `/`-separated. */
  path: string;
  text: string;
}

const CONFIG = (node: string) => `// What \`agentos start\` (and \`agentos dev\`, which restarts it on every change) runs:
// the node, the agents it hosts and the tools they may call. Data goes under .agentos/.
import { hello } from './agents/hello.js';
import { greetingCompose } from './tools/greeting.js';

export default {
  node: { name: '${node}' }, // + any createNode option: modelGateway, capacity, tenants, telemetry, …
  agents: [hello],
  tools: [greetingCompose],
  // spawn: [{ agent: 'hello', id: 'hello' }], // the default: one actor per agent, named after it
  // async setup(node) { … },                  // anything else to do once the node is up
};
`;

const CONTRACT = `# yaml-language-server: $schema=../node_modules/agentos/schemas/agent-contract.v0.2.json
# The hello agent's contract: what the kernel admits, schedules and lets it do.
apiVersion: agentos/v0.2
kind: AgentContract
name: hello
class:
  latency: SRT          # interactive: served by priority, ahead of delay-tolerant work
  slo:
    onset_ms: 300
    turn_ms: 1200
capabilities:
  - greeting.compose    # the only tool it may call (zero trust: anything else is CAPABILITY_DENIED)
mailbox:
  capacity: 1000
  overflow: reject
`;

const MACHINE = `// The hello agent's state machine. A \`greet\` is queued with the address to answer;
// greetings are composed one at a time by the greeting.compose tool, called
// through the kernel (which checks the contract's capabilities); \`stats\` answers at once.
import { callTool, reply, replyHandle, respond, type ReplyHandle } from 'agentos';
import { assign, setup } from 'xstate';
import { z } from 'zod';

/** The salutation every greeting starts with. */
export const SALUTATION = 'Hello';

export const messages = z.discriminatedUnion('type', [
  z.object({ type: z.literal('greet'), name: z.string().min(1).max(100) }),
  z.object({ type: z.literal('stats') }),
]);
export type HelloMessage = z.infer<typeof messages>;

interface Job {
  name: string;
  answer: ReplyHandle | undefined;
}
interface HelloContext {
  greeted: number;
  /** Greetings asked for, oldest first, with where to send each. */
  jobs: Job[];
}

export const helloMachine = setup({
  types: { context: {} as HelloContext, events: {} as HelloMessage },
  actors: { compose: callTool('greeting.compose') },
}).createMachine({
  id: 'hello',
  context: { greeted: 0, jobs: [] },
  on: {
    greet: { actions: assign({ jobs: (args) => [...args.context.jobs, { name: args.event.name, answer: replyHandle(args) }] }) },
    stats: { actions: reply(({ context }) => ({ greeted: context.greeted })) },
  },
  initial: 'idle',
  states: {
    idle: { always: { guard: ({ context }) => context.jobs.length > 0, target: 'composing' } },
    composing: {
      invoke: {
        src: 'compose',
        input: ({ context }: { context: HelloContext }) => ({ salutation: SALUTATION, name: context.jobs[0]!.name }),
        onDone: {
          target: 'idle',
          actions: [
            respond(({ context }) => context.jobs[0]!.answer, ({ event }) => event.output),
            assign({ greeted: ({ context }) => context.greeted + 1, jobs: ({ context }) => context.jobs.slice(1) }),
          ],
        },
        onError: {
          target: 'idle',
          actions: [
            respond(({ context }) => context.jobs[0]!.answer, ({ event }) => ({ error: (event.error as { code?: string }).code ?? 'FAILED' })),
            assign({ jobs: ({ context }) => context.jobs.slice(1) }),
          ],
        },
      },
    },
  },
});
`;

const AGENT = `// The hello agent: its machine and messages (hello.machine.ts) and its
// contract (hello.agent.yaml, checked when this module loads).
import { defineAgent, loadContract } from 'agentos';
import { helloMachine, messages } from './hello.machine.js';

export const hello = defineAgent({
  name: 'hello',
  machine: helloMachine,
  messages,
  contract: loadContract(new URL('./hello.agent.yaml', import.meta.url)),
});
`;

const TOOL = `// A tool: typed input and output (checked on every call), run by the node's
// tool registry when an agent whose contract lists it asks through the kernel.
import { defineTool } from 'agentos';
import { z } from 'zod';

export const greetingCompose = defineTool({
  name: 'greeting.compose',
  description: 'A greeting for someone: the salutation, then their name.',
  input: z.object({ salutation: z.string().min(1).max(40), name: z.string().min(1).max(100) }),
  output: z.object({ text: z.string() }),
  idempotent: true, // running it twice is harmless
  execute: ({ salutation, name }) => ({ text: \`\${salutation}, \${name.trim()}!\` }),
});
`;

const TEST = `// The hello agent on a real node (LMDB in a temporary directory).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNode, type AgentOsNode } from 'agentos';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import config from '../agentos.config.js';
import { hello } from '../agents/hello.js';

describe('hello agent', () => {
  let dir: string;
  let node: AgentOsNode;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hello-test-'));
    node = await createNode({ name: 'test', dataDir: dir, tools: config.tools });
  });

  afterEach(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('greets through the greeting.compose tool, one greeting after another', async () => {
    const ref = await node.spawn(hello, { id: 'hello' });
    const [ada, alan] = await Promise.all([
      ref.ask({ type: 'greet', name: 'Ada' }, { timeoutMs: 5000 }),
      ref.ask({ type: 'greet', name: 'Alan' }, { timeoutMs: 5000 }),
    ]);
    expect(ada).toEqual({ text: 'Hello, Ada!' });
    expect(alan).toEqual({ text: 'Hello, Alan!' });
    expect(await ref.ask({ type: 'stats' })).toEqual({ greeted: 2 });
  });

  it('refuses a message its schema does not accept, before it reaches the mailbox', async () => {
    const ref = await node.spawn(hello, { id: 'hello' });
    expect(() => ref.send({ type: 'greet', name: '' })).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
  });
});
`;

const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": true,
    "noEmit": true,
    "types": ["node"]
  },
  "include": ["agentos.config.ts", "agents", "tools", "test"]
}
`;

const GITIGNORE = `node_modules/
.agentos/
`;

const README = (node: string) => `# ${node}

An [agentos](https://www.npmjs.com/package/agentos) project.

\`\`\`sh
npm install
npm test                 # the hello agent's test
npx agentos start        # run the node ("ready <port>"), until Ctrl-C
npx agentos ask hello '{"type":"greet","name":"Ada"}' --node ${node}   # from another terminal
npx agentos dev          # the same, restarted whenever agents/, tools/ or the config change
\`\`\`

| file | what it is |
| --- | --- |
| \`agentos.config.ts\` | the node: its name and options, its agents and tools |
| \`agents/hello.agent.yaml\` | the hello agent's contract (latency class, capabilities, mailbox) |
| \`agents/hello.machine.ts\` | its state machine and the messages it accepts |
| \`agents/hello.ts\` | the agent definition: machine + messages + contract |
| \`tools/greeting.ts\` | the \`greeting.compose\` tool it calls through the kernel |
| \`test/hello.test.ts\` | a vitest test on a real node |
`;

/** The files of a new project, in the order they are written. */
export function projectFiles(o: TemplateOptions): TemplateFile[] {
  const pkg = {
    name: o.packageName,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { start: 'agentos start', dev: 'agentos dev', test: 'vitest run', validate: 'agentos validate agents/*.agent.yaml', typecheck: 'tsc' },
    dependencies: { agentos: o.versions.agentos, xstate: o.versions.xstate, zod: o.versions.zod },
    devDependencies: { '@types/node': o.versions['@types/node'], tsx: o.versions.tsx, typescript: o.versions.typescript, vitest: o.versions.vitest },
  };
  return [
    { path: 'package.json', text: `${JSON.stringify(pkg, null, 2)}\n` },
    { path: 'tsconfig.json', text: TSCONFIG },
    { path: '.gitignore', text: GITIGNORE },
    { path: 'README.md', text: README(o.node) },
    { path: 'agentos.config.ts', text: CONFIG(o.node) },
    { path: 'agents/hello.agent.yaml', text: CONTRACT },
    { path: 'agents/hello.machine.ts', text: MACHINE },
    { path: 'agents/hello.ts', text: AGENT },
    { path: 'tools/greeting.ts', text: TOOL },
    { path: 'test/hello.test.ts', text: TEST },
  ];
}
