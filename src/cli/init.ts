// `agentos init [dir]`: scaffold a project that runs and passes its test out of
// the box (see init-template.ts). It never overwrites: if any file it would
// write exists, nothing is written and INIT_FILE_EXISTS names the files —
// unless --force.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { AgentOsError } from '../base/errors.js';
import { NODE_NAME_PATTERN } from '../base/names.js';
import { registerDevCommand } from './dev.js';
import type { CliIo } from './exit.js';
import { projectFiles, type TemplateOptions } from './init-template.js';
import { displayPath, registerStartCommand } from './start.js';

export const InitCodes = {
  /** A file the project would be written to exists (and --force was not given). */
  fileExists: 'INIT_FILE_EXISTS',
  /** The target exists and is not a directory. */
  notADirectory: 'INIT_NOT_A_DIRECTORY',
} as const;

export class InitError extends AgentOsError {}

export interface InitOptions {
  /** The node's name; default from the directory's name. */
  name?: string;
  /** Overwrite files that exist. */
  force?: boolean;
}

export interface InitResult {
  dir: string;
  node: string;
  /** Relative to `dir`, in the order written. */
  files: string[];
  /** Existing files that were overwritten (with --force). */
  overwritten: string[];
  /** What to run next. */
  next: string[];
}

/** A node name (and npm package name) from a directory name: lower case, other characters as `-`. */
export function nameFromDir(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64).replace(/[-.]+$/, '');
  return NODE_NAME_PATTERN.test(name) ? name : 'hello';
}

/** The version ranges the project depends on, from this package's own package.json. */
function versions(): TemplateOptions['versions'] {
  // src/cli/ and dist/cli/ are both two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const range = (name: string): string => pkg.dependencies[name] ?? pkg.devDependencies[name] ?? 'latest';
  return {
    agentos: `^${pkg.version}`,
    xstate: range('xstate'),
    zod: range('zod'),
    tsx: range('tsx'),
    vitest: range('vitest'),
    typescript: range('typescript'),
    '@types/node': range('@types/node'),
  };
}

/** Write a new project into `dir` (created if missing). Throws InitError before writing anything if a file exists. */
export function initProject(dir: string, options: InitOptions = {}): InitResult {
  const root = resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) throw new InitError(InitCodes.notADirectory, `${dir} exists and is not a directory`, { field: 'dir' });
  const node = options.name ?? nameFromDir(root);
  const files = projectFiles({ node, packageName: node.toLowerCase(), versions: versions() });
  const existing = files.filter((f) => existsSync(join(root, f.path))).map((f) => f.path);
  if (existing.length > 0 && !options.force) {
    throw new InitError(InitCodes.fileExists, `${displayPath(root)}: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written (--force overwrites)`, {
      field: 'dir',
      details: { files: existing },
    });
  }
  for (const f of files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
  }
  const next = [
    ...(root === process.cwd() ? [] : [`cd ${displayPath(root)}`]),
    'npm install',
    'npm test',
    'npx agentos start',
    `npx agentos ask hello '{"type":"greet","name":"Ada"}' --node ${node}`,
    'npx agentos dev',
  ];
  return { dir: root, node, files: files.map((f) => f.path), overwritten: existing, next };
}

function name(value: string): string {
  if (!NODE_NAME_PATTERN.test(value)) throw new InvalidArgumentError('a node name is 1-64 characters of letters, digits, _ . - starting with a letter or digit.');
  return value;
}

export function registerInitCommand(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('create a project: config, a hello agent (contract, state machine), a tool and a test that pass out of the box')
    .argument('[dir]', 'where to create it (created if missing)', '.')
    .option('--name <node>', "the node's name (default: from the directory's name)", name)
    .option('--force', 'overwrite files that exist')
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      `
Writes package.json, tsconfig.json, .gitignore, README.md, agentos.config.ts,
agents/hello.agent.yaml (its $schema points at node_modules/agentos/schemas),
agents/hello.machine.ts, agents/hello.ts, tools/greeting.ts and test/hello.test.ts.
If any of them exists, nothing is written: exit 1 with INIT_FILE_EXISTS naming
the files (--force overwrites them). Exit 2 on a usage error.

Examples:
  $ agentos init my-agents
  $ agentos init . --name edge-1
  $ agentos init my-agents --force --json`,
    )
    .action((dir: string, opts: { name?: string; force?: boolean; json?: boolean }) => {
      const result = initProject(dir, { ...(opts.name === undefined ? {} : { name: opts.name }), ...(opts.force ? { force: true } : {}) });
      if (opts.json) {
        io.out(JSON.stringify(result, null, 2));
        return;
      }
      for (const f of result.files) io.out(`${result.overwritten.includes(f) ? 'overwrote' : 'created  '} ${join(displayPath(result.dir), f)}`);
      io.out(`\nnode "${result.node}" is ready to run. Next:\n${result.next.map((l) => `  ${l}`).join('\n')}`);
    });
}

/** `init`, `start` and `dev`: a project from scaffold to a running, reloading node. */
export function registerProjectCommands(program: Command, io: CliIo): void {
  registerInitCommand(program, io);
  registerStartCommand(program, io);
  registerDevCommand(program, io);
}
