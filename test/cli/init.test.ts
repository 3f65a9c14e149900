// `agentos init`: the scaffold is written as promised, its contract validates,
// and its own vitest test runs and passes in the new project (with the
// repository's vitest, as `npm test` there would); existing files are never
// overwritten without --force; usage errors exit 2.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameFromDir } from '../../src/cli/init.js';
import { tempDir } from '../support/tmp.js';
import { agentosIn, linkDependencies } from './project.js';
import { repoRoot } from './run.js';

const tmp = tempDir('agentos-init-');
const project = join(tmp.dir, 'My Agents');
afterAll(() => tmp.cleanup());

const FILES = [
  'package.json',
  'tsconfig.json',
  '.gitignore',
  'README.md',
  'agentos.config.ts',
  'agents/hello.agent.yaml',
  'agents/hello.machine.ts',
  'agents/hello.ts',
  'tools/greeting.ts',
  'test/hello.test.ts',
];

describe('agentos init', { timeout: 60_000 }, () => {
  let first: ReturnType<typeof agentosIn>;
  beforeAll(() => {
    first = agentosIn(tmp.dir, 'init', 'My Agents');
  });

  it('writes the project, names each file and says what to run next', () => {
    expect(first.status, first.stderr).toBe(0);
    for (const f of FILES) {
      expect(existsSync(join(project, f)), f).toBe(true);
      expect(first.stdout).toContain(`created   My Agents/${f}`);
    }
    expect(first.stdout).toContain('node "my-agents" is ready to run');
    expect(first.stdout).toContain('npx agentos start');
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'my-agents', type: 'module', scripts: { start: 'agentos start', dev: 'agentos dev', test: 'vitest run' } });
    expect(Object.keys(pkg.dependencies)).toEqual(['agentos', 'xstate', 'zod']);
    expect(readFileSync(join(project, 'agentos.config.ts'), 'utf8')).toContain("node: { name: 'my-agents' }");
  });

  it("points the contract's $schema at the schema shipped in node_modules/agentos/schemas", () => {
    const firstLine = readFileSync(join(project, 'agents/hello.agent.yaml'), 'utf8').split('\n')[0]!;
    expect(firstLine).toBe('# yaml-language-server: $schema=../node_modules/agentos/schemas/agent-contract.v0.2.json');
    // The path it names is the committed schema once node_modules/agentos is this package (package.json "files" ships schemas/).
    const target = resolve(join(project, 'agents'), firstLine.split('$schema=')[1]!).replace(join(project, 'node_modules/agentos'), repoRoot);
    expect(existsSync(target), target).toBe(true);
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).files).toContain('schemas');
  });

  it('its contract passes `agentos validate`', () => {
    const r = agentosIn(project, 'validate', 'agents/hello.agent.yaml');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('ok  agents/hello.agent.yaml (hello, SRT)');
  });

  it("runs its own vitest test out of the box, and the test passes", () => {
    linkDependencies(project);
    const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run'], { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1' }, timeout: 50_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('test/hello.test.ts');
    expect(r.stdout).toMatch(/Tests\s+2 passed \(2\)/);
  });

  it('refuses to overwrite: INIT_FILE_EXISTS names the files, exit 1, nothing written', () => {
    writeFileSync(join(project, 'agents/hello.machine.ts'), '// mine\n');
    const r = agentosIn(tmp.dir, 'init', 'My Agents');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^INIT_FILE_EXISTS: .*My Agents: package\.json, .*agents\/hello\.machine\.ts, .* already exist; nothing was written \(--force overwrites\)\n$/);
    expect(readFileSync(join(project, 'agents/hello.machine.ts'), 'utf8')).toBe('// mine\n');
  });

  it('refuses even when a single file is in the way, and writes none of the others', () => {
    const dir = join(tmp.dir, 'one');
    const r0 = agentosIn(tmp.dir, 'init', 'one', '--json');
    expect(r0.status, r0.stderr).toBe(0);
    spawnSync('rm', ['-r', join(dir, 'agents'), join(dir, 'tools'), join(dir, 'test'), join(dir, 'package.json')]);
    const r = agentosIn(dir, 'init');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('tsconfig.json, .gitignore, README.md, agentos.config.ts already exist');
    expect(existsSync(join(dir, 'package.json'))).toBe(false);
    expect(existsSync(join(dir, 'agents'))).toBe(false);
  });

  it('--force overwrites, and --json reports what was written and overwritten', () => {
    const r = agentosIn(tmp.dir, 'init', 'My Agents', '--force', '--json', '--name', 'edge-1');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ dir: project, node: 'edge-1', files: FILES });
    expect(out.overwritten).toEqual(FILES);
    expect(out.next).toContain('npm test');
    expect(readFileSync(join(project, 'agents/hello.machine.ts'), 'utf8')).toContain("export const SALUTATION = 'Hello';");
    expect(readFileSync(join(project, 'agentos.config.ts'), 'utf8')).toContain("node: { name: 'edge-1' }");
  });

  it('a target that is a file is INIT_NOT_A_DIRECTORY (exit 1); a bad --name is a usage error (exit 2)', () => {
    const file = join(tmp.dir, 'plain.txt');
    writeFileSync(file, 'x');
    const r = agentosIn(tmp.dir, 'init', 'plain.txt');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('INIT_NOT_A_DIRECTORY: plain.txt exists and is not a directory\n');
    const u = agentosIn(tmp.dir, 'init', 'x', '--name', 'no spaces please');
    expect(u.status).toBe(2);
    expect(u.stderr).toContain("option '--name <node>' argument 'no spaces please' is invalid");
    expect(existsSync(join(tmp.dir, 'x'))).toBe(false);
  });

  it('--help explains the files and the exit codes, with examples', () => {
    const r = agentosIn(tmp.dir, 'init', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('INIT_FILE_EXISTS');
    expect(r.stdout).toContain('Examples:\n  $ agentos init my-agents');
  });

  it('derives a node name from the directory name', () => {
    expect(nameFromDir('/x/My Agents')).toBe('my-agents');
    expect(nameFromDir('/x/..weird__name..')).toBe('weird__name');
    expect(nameFromDir('/x/ünï')).toBe('n');
    expect(nameFromDir('/x/ü-ß')).toBe('hello');
    expect(nameFromDir(dirname('/'))).toBe('hello');
  });
});
