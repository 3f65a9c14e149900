// `agentos dev`: `agentos start` that reloads. It watches the config file and
// the sources beside it (*.ts, *.js, *.yaml, *.json in its directory), and
// the project's source directories recursively (the config's `watch`, default
// `agents/` and `tools/`); a change, once edits settle (debounced), imports a fresh copy
// of the config and the project modules it uses, and only if that loads and
// checks out stops the node gracefully and starts it again from the new one.
// A config that fails to load leaves the running node alone and prints why; a
// new version that fails to start is reported and the previous one started
// again. Each start prints `ready <port>` (the same port as before when free).

import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { ControlServer } from '../node/control.js';
import type { AgentOsNode } from '../node/node.js';
import type { LoadedConfig, NodeOverrides } from './config.js';
import { describeError, type CliIo } from './exit.js';
import { announceNode, portNumber, stopSignal } from './serve.js';
import { InspectorCodes } from '../services/inspector/source.js';
import { bootNode, CONFIG_HELP, INSPECTOR_PORT, inspectorLine, reachHint, startedLine, withStartOptions, type StartOpts } from './start.js';

interface DevOpts extends StartOpts {
  debounceMs: number;
}

interface Running {
  loaded: LoadedConfig;
  node: AgentOsNode;
  control: ControlServer;
  /** Set before we stop it, so its `stopped` is not taken for a crash. */
  stopping: boolean;
}

/** Editor droppings and data that must not trigger a reload: dot files and dirs, backups, swap files, vim's write probe. */
function ignored(path: string): boolean {
  const parts = path.split(sep);
  const name = parts[parts.length - 1] ?? '';
  return parts.some((p) => p.startsWith('.') || p === 'node_modules') || name.endsWith('~') || /\.(swp|swx|tmp)$/.test(name) || name === '4913';
}

/** Files next to the config that count as sources (the config itself, modules it imports from its own directory, package.json). */
const TOP_LEVEL_SOURCE = /\.(?:[cm]?[jt]sx?|ya?ml|json)$/;

/** Modification time and size of each watched file: what a reload compares to say what changed. */
function snapshot(root: string, dirs: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const note = (path: string): void => {
    try {
      const s = statSync(path);
      if (s.isFile()) files.set(path, `${s.mtimeMs}:${s.size}`);
    } catch {
      // gone between listing and stat: not there
    }
  };
  const list = (dir: string, recursive: boolean): string[] => {
    try {
      return readdirSync(dir, { recursive, encoding: 'utf8' });
    } catch {
      return [];
    }
  };
  for (const name of list(root, false)) if (TOP_LEVEL_SOURCE.test(name) && !ignored(name)) note(join(root, name));
  for (const dir of dirs) for (const name of list(dir, true)) if (!ignored(name)) note(join(dir, name));
  return files;
}

/** What differs between two snapshots, as `path (added|removed)` or `path`. */
function diff(before: Map<string, string>, after: Map<string, string>, label: (path: string) => string): string[] {
  const out: string[] = [];
  for (const [path, stamp] of after) {
    const was = before.get(path);
    if (was === undefined) out.push(`${label(path)} (added)`);
    else if (was !== stamp) out.push(label(path));
  }
  for (const path of before.keys()) if (!after.has(path)) out.push(`${label(path)} (removed)`);
  return out.sort();
}

function positiveMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 60_000) throw new InvalidArgumentError('expected milliseconds from 1 to 60000.');
  return n;
}

class DevSession {
  private running: Running | undefined;
  private generation = 0;
  private watchers: FSWatcher[] = [];
  private watched = '';
  private dirs: readonly string[] = [];
  /** The watched files as the running version saw them. */
  private files = new Map<string, string>();
  private changed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Reloads run one at a time; changes seen during one are handled by the next. */
  private queue: Promise<void> = Promise.resolve();
  private lastPort: number | undefined;

  constructor(
    private readonly file: string,
    private readonly opts: DevOpts,
    private readonly io: CliIo,
  ) {}

  /** The inspector's port once it ran (a reload keeps it); 0 after the default one was taken. */
  private inspectPort: number | undefined;

  private get overrides(): NodeOverrides {
    // On by default in dev, at 4200 (or the port it had before a reload); `--no-inspect` turns it off.
    const inspect = this.opts.inspect === false ? false : { port: typeof this.opts.inspect === 'number' ? this.opts.inspect : (this.inspectPort ?? INSPECTOR_PORT) };
    return { ...(this.opts.node === undefined ? {} : { name: this.opts.node }), ...(this.opts.dataDir === undefined ? {} : { dataDir: this.opts.dataDir }), inspector: inspect };
  }

  private label(path: string): string {
    return relative(dirname(this.file), path) || basename(path);
  }

  private say(line: string): void {
    this.io.err(`agentos dev: ${line}`);
  }

  /** First start (queued like a reload, so `end` waits for it). */
  begin(): void {
    this.queue = this.first().catch((err: unknown) => this.say(describeError(err) ?? String(err)));
  }

  /** A config that does not load yet is reported, and the session waits for a fix. */
  private async first(): Promise<void> {
    const [{ DEFAULT_WATCH, loadConfig }, { enableFreshImports }] = await Promise.all([import('./config.js'), import('./config-import.js')]);
    let loaded: LoadedConfig | undefined;
    try {
      loaded = await loadConfig(this.file);
    } catch (err) {
      this.say(`${describeError(err) ?? String(err)}; waiting for a change`);
    }
    // After the first import, so that tsx (registered then if this Node needs it) resolves before the hook does.
    enableFreshImports(dirname(this.file));
    // A config that does not load yet names no directories: watch the default ones, so the fix is seen wherever it is made.
    this.rewatch(loaded?.watch ?? DEFAULT_WATCH.map((d) => join(dirname(this.file), d)).filter((d) => existsSync(d)));
    if (loaded) await this.start(loaded, undefined);
  }

  /** Watch the config file and `dirs` (recursively); set up again only when the list changes. */
  private rewatch(dirs: readonly string[]): void {
    const key = dirs.join('\n');
    if (this.watchers.length > 0 && key === this.watched) return;
    // Files of newly watched directories count as seen by the version about to start.
    for (const [path, stamp] of snapshot(dirname(this.file), dirs)) if (!this.files.has(path)) this.files.set(path, stamp);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.watched = key;
    this.dirs = dirs;
    this.add(dirname(this.file), false, (name) => TOP_LEVEL_SOURCE.test(name));
    for (const dir of dirs) this.add(dir, true, () => true);
    const where = dirs.length === 0 ? '' : `, and ${dirs.map((d) => `${this.label(d)}/`).join(', ')}`;
    this.say(`watching ${this.label(this.file)} and the sources beside it${where}`);
  }

  private add(dir: string, recursive: boolean, wanted: (name: string) => boolean): void {
    try {
      const watcher = watch(dir, { recursive }, (_event, name) => {
        if (name === null || !wanted(name.toString()) || ignored(name.toString())) return;
        this.changed = true;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.schedule(), this.opts.debounceMs);
      });
      watcher.on('error', (err) => this.say(`cannot watch ${this.label(dir)}: ${err.message}`));
      this.watchers.push(watcher);
    } catch (err) {
      this.say(`cannot watch ${this.label(dir)}: ${(err as Error).message}`);
    }
  }

  private schedule(): void {
    this.queue = this.queue.then(() => this.reload()).catch((err: unknown) => this.say(describeError(err) ?? String(err)));
  }

  private async reload(): Promise<void> {
    if (!this.changed) return;
    this.changed = false;
    const files = snapshot(dirname(this.file), this.dirs);
    const what = diff(this.files, files, (p) => this.label(p));
    // An editor's temporary file that came and went, or a save that changed nothing: no reload.
    if (what.length === 0) return;
    this.files = files;
    this.say(`changed: ${what.join(', ')}; reloading`);
    this.generation += 1;
    const { loadConfig } = await import('./config.js');
    let loaded: LoadedConfig;
    try {
      loaded = await loadConfig(this.file, this.generation);
    } catch (err) {
      this.say(describeError(err) ?? String(err));
      this.say(this.running ? `node "${this.running.node.name}" keeps running the previous version` : 'no node is running; waiting for a change');
      return;
    }
    this.rewatch(loaded.watch);
    const previous = this.running?.loaded;
    await this.stopNode();
    await this.start(loaded, previous);
  }

  /** Start `loaded`; if it fails, say so and start `fallback` (the version that ran before) instead. */
  private async start(loaded: LoadedConfig, fallback: LoadedConfig | undefined): Promise<void> {
    try {
      await this.boot(loaded);
      return;
    } catch (err) {
      this.say(`cannot start: ${describeError(err) ?? String(err)}`);
    }
    if (!fallback) {
      this.say('no node is running; waiting for a change');
      return;
    }
    try {
      await this.boot(fallback);
      this.say('started the previous version again');
    } catch (err) {
      this.say(`the previous version does not start either (${describeError(err) ?? String(err)}); waiting for a change`);
    }
  }

  private async boot(loaded: LoadedConfig): Promise<void> {
    let booted: Awaited<ReturnType<typeof bootNode>>;
    try {
      booted = await bootNode(loaded, this.overrides);
    } catch (err) {
      // The default inspector port is taken (another dev session): any free port, said below.
      if ((err as { code?: unknown }).code !== InspectorCodes.listenFailed || typeof this.opts.inspect === 'number' || this.inspectPort === 0) throw err;
      this.say(`port ${this.inspectPort ?? INSPECTOR_PORT} is taken; the inspector takes a free one`);
      this.inspectPort = 0;
      booted = await bootNode(loaded, this.overrides);
    }
    const { node, started } = booted;
    if (node.inspector) this.inspectPort = node.inspector.port;
    let control: ControlServer;
    try {
      this.io.err(startedLine(node, started));
      const seeIt = inspectorLine(node);
      if (seeIt) this.io.err(seeIt);
      control = await this.announce(node);
    } catch (err) {
      await node.stop().catch(() => undefined);
      throw err;
    }
    const running: Running = { loaded, node, control, stopping: false };
    this.running = running;
    this.lastPort = control.port;
    if (this.generation === 0) this.io.err(reachHint(node));
    void node.stopped.then(async () => {
      if (running.stopping) return;
      await running.control.close().catch(() => undefined);
      if (this.running === running) this.running = undefined;
      this.say(`node "${node.name}" stopped by itself; waiting for a change`);
    });
  }

  /** The control endpoint on the port asked for, else the one used before (clients keep working), else any. */
  private async announce(node: AgentOsNode): Promise<ControlServer> {
    const port = this.opts.port !== 0 ? this.opts.port : (this.lastPort ?? 0);
    try {
      return await announceNode(node, this.io, port);
    } catch (err) {
      if (this.opts.port !== 0 || port === 0) throw err;
      return announceNode(node, this.io, 0);
    }
  }

  private async stopNode(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.stopping = true;
    this.running = undefined;
    await running.control.close().catch(() => undefined);
    await running.node.stop();
  }

  /** Stop watching, let a reload in progress finish, stop the node. */
  async end(): Promise<void> {
    for (const w of this.watchers) w.close();
    clearTimeout(this.timer);
    await this.queue;
    const name = this.running?.node.name;
    await this.stopNode();
    if (name !== undefined) this.say(`node "${name}" stopped`);
  }
}

export function registerDevCommand(program: Command, io: CliIo): void {
  withStartOptions(program.command('dev'))
    .description('like start, and restart the node from fresh modules whenever the config or the project sources change')
    .option('--debounce-ms <ms>', 'how long edits must settle before a reload', positiveMs, 200)
    .option('--inspect <port>', `the inspector web UI's port on 127.0.0.1 (default ${INSPECTOR_PORT}, a free one if that is taken)`, portNumber)
    .option('--no-inspect', 'do not serve the inspector')
    .addHelpText(
      'after',
      `
Watches the config file and the sources beside it (*.ts, *.js, *.yaml, *.json),
and recursively the directories in its \`watch\` list (default: agents/ and tools/
next to it). On a change it imports the config again —
and every project module it imports, fresh — then stops the node gracefully and
starts it from the new version, printing what changed and \`ready <port>\` again.
A config that fails to load (a syntax error, an invalid contract, CONFIG_INVALID)
keeps the running node and prints the error. Old module copies stay in memory:
use \`agentos start\` in production.
${CONFIG_HELP}

Examples:
  $ agentos dev
  $ agentos dev --config agentos.config.ts --port 7070 --debounce-ms 500`,
    )
    .action(async (opts: DevOpts) => {
      const { findConfig } = await import('./config.js');
      const session = new DevSession(findConfig(process.cwd(), opts.config), opts, io);
      const signal = stopSignal();
      try {
        session.begin();
        await signal.received;
      } finally {
        signal.dispose();
        await session.end();
      }
    });
}
