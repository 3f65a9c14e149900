// `agentos replay <actor>`: re-run a persistent actor's recorded turns from a
// node's data dir (LMDB opened read-only) with the agent definitions of a module,
// and report any divergence from the recording. Exit 0 identical, 1 diverged or
// tampered, 2 usage (no such actor, no definition for it, a turn out of range).

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { open, type RootDatabase } from 'lmdb';
import type { CallRequest } from '../actors/cell.js';
import { isAgentDefinition, type AgentDefinition } from '../actors/define.js';
import { StorageError } from '../base/errors.js';
import { Progress } from './progress.js';
import { replayActor, ReplayCodes, ReplayError, type ReplayReport } from '../kernel/durable/replay.js';
import { DURABLE_DBS } from '../kernel/durable/store.js';
import { EFFECT_DBS } from '../kernel/effects/index.js';
import { nodePaths } from '../node/storage.js';
import type { ToolDefinition } from '../services/tools/tool.js';
import { DEFAULT_DATA_DIR, DEFAULT_NODE, nodeName } from './audit.js';
import type { CliIo } from './exit.js';
import { NODE_DATA_MISSING } from './node-audit.js';

interface ReplayOpts {
  dataDir: string;
  node: string;
  agents?: string;
  turn?: number;
  json?: boolean;
}

const USAGE = { exitCode: 2, code: 'agentos.usage' };


function turnNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a turn number (a non-negative integer).');
  return n;
}

/** The agent definitions (and tools, whose input schemas shape journaled arguments) a module exports, arrays included. */
export async function loadAgentsModule(path: string): Promise<{ agents: AgentDefinition[]; tools: ToolDefinition[] }> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const agents = new Set<AgentDefinition>();
  const tools = new Set<ToolDefinition>();
  for (const value of Object.values(mod)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (isAgentDefinition(v)) agents.add(v);
      else if ((v as { kind?: unknown } | null)?.kind === 'tool') tools.add(v as ToolDefinition);
    }
  }
  return { agents: [...agents], tools: [...tools] };
}

/** Tool arguments as the node journals them: parsed by the tool's input schema. */
function normalizer(tools: readonly ToolDefinition[]): ((request: CallRequest) => unknown) | undefined {
  if (tools.length === 0) return undefined;
  const byName = new Map(tools.map((t) => [t.name, t]));
  return (request) => {
    const tool = request.kind === 'tool' ? byName.get(request.name) : undefined;
    if (!tool) return request.args;
    const parsed = tool.input.safeParse(request.args);
    return parsed.success ? parsed.data : request.args;
  };
}

/** The node's LMDB, read-only; nothing is created where no node ran. */
function openNodeReadOnly(dataDir: string, node: string): RootDatabase {
  const paths = nodePaths(dataDir, node);
  const hint = 'check --data-dir and --node (a node writes its data on first start)';
  if (!existsSync(join(paths.lmdb, 'data.mdb'))) throw new StorageError(NODE_DATA_MISSING, `no data for node "${node}": ${paths.lmdb} holds no LMDB environment; ${hint}`, { field: 'dataDir' });
  try {
    return open({ path: paths.lmdb, maxDbs: 32, readOnly: true });
  } catch (cause) {
    throw new StorageError('STORAGE_OPEN_FAILED', `cannot open the node's LMDB at ${paths.lmdb} read-only: ${(cause as Error).message}`, { field: 'dataDir', cause });
  }
}

const shortKey = (key: string): string => key.replace(/^ik1\/[^/]+\//, '');
const short = (value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** A table of the replayed turns, then one block per divergence. */
export function formatReport(report: ReplayReport, node: string): string {
  const lines: string[] = [];
  const range = report.throughTurn > report.fromTurn ? `turns ${report.fromTurn + 1}-${report.throughTurn}` : 'no turns';
  lines.push(`replay of "${report.actor}" (${report.definition}) on node "${node}": ${range}, from the replay base at turn ${report.fromTurn}`);
  if (report.log.length > 0) {
    const rows = report.log.map((t) => [
      String(t.turn),
      t.type,
      t.calls.map((c) => `${c.name} ${shortKey(c.key)}`).join(', ') || '-',
      t.crashed ? '-' : short(t.value),
      t.crashed ? 'crashed (skipped)' : t.ok ? 'ok' : 'DIVERGED',
    ]);
    const head = ['turn', 'message', 'calls', 'state', 'result'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) lines.push(r.map((cell, i) => (i === 0 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  }
  if (report.ok) {
    lines.push(`ok: ${report.turns} turns and ${report.calls} calls replayed identically`);
    return lines.join('\n');
  }
  const chain = report.divergences.filter((d) => d.kind === 'chain');
  if (chain.length > 0) {
    for (const d of chain) lines.push(`CHAIN BROKEN (${d.code}) in the ${d.log === 'effects' ? 'effect journal' : 'turn log'} of "${report.actor}"${d.turn === null ? '' : ` at turn ${d.turn}`}: ${d.message}`);
    return lines.join('\n');
  }
  const first = report.divergences[0]!;
  lines.push(`DIVERGED: ${report.divergences.length} divergence(s), the first at turn ${first.turn}`);
  for (const d of report.divergences) {
    lines.push(`turn ${d.turn} ${d.kind}: ${d.message}`);
    lines.push(`  - recorded: ${JSON.stringify(d.expected) ?? 'nothing'}`);
    lines.push(`  + replayed: ${JSON.stringify(d.actual) ?? 'nothing'}`);
  }
  return lines.join('\n');
}

export function registerReplayCommand(program: Command, io: CliIo): void {
  program
    .command('replay')
    .description("re-run a persistent actor's recorded turns and report any divergence (offline, read-only)")
    .argument('<actor>', 'id of the persistent actor')
    .option('--agents <module>', "JS/TS module whose exports include the agent definitions (defineAgent results, or arrays of them); default: the demo's agents")
    .option('--data-dir <dir>', 'where the node keeps its data', DEFAULT_DATA_DIR)
    .option('--node <name>', 'the node whose actor to replay', nodeName, DEFAULT_NODE)
    .option('--turn <n>', 'stop after turn n (default: the last recorded)', turnNumber)
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Exit status: 0 when the replay matches the recording, 1 when it diverges or a
hash chain is broken, 2 on a usage error (unknown actor, no definition for it).

Examples:
  $ agentos replay orders --agents ./dist/agents.js --data-dir /var/lib/agentos --node edge-1
  $ agentos replay orders --agents ./agents.ts --turn 12 --json`,
    )
    .action(async (actor: string, opts: ReplayOpts, cmd: Command) => {
      let loaded: Awaited<ReturnType<typeof loadAgentsModule>>;
      opts.agents ??= fileURLToPath(new URL('./demo-agents.js', import.meta.url));
      try {
        loaded = await loadAgentsModule(opts.agents);
      } catch (err) {
        return cmd.error(`error: cannot load --agents ${opts.agents}: ${(err as Error).message}`, USAGE);
      }
      if (loaded.agents.length === 0) return cmd.error(`error: --agents ${opts.agents} exports no agent definitions (defineAgent results)`, USAGE);
      const db = openNodeReadOnly(opts.dataDir, opts.node);
      let report: ReplayReport;
      try {
        const missing = [...Object.values(DURABLE_DBS), ...Object.values(EFFECT_DBS)].find((name) => db.openDB({ name }) === undefined);
        if (missing !== undefined) throw new ReplayError(ReplayCodes.unknownActor, `node "${opts.node}" stores no persistent actors (no sub-database ${missing})`, { field: 'actor' });
        const normalize = normalizer(loaded.tools);
        // A bar on stderr when it is a terminal (nothing when piped: stdout stays the report alone).
        const progress = new Progress(0, { unit: 'turns', stream: process.stderr, piped: 'silent' });
        const onTurn = (done: number, total: number): void => (total >= 20 ? progress.at(done, total) : undefined);
        try {
          report = await replayActor({ db, definition: loaded.agents, actor, onTurn, ...(opts.turn === undefined ? {} : { throughTurn: opts.turn }), ...(normalize ? { normalize } : {}) });
        } finally {
          progress.end();
        }
      } catch (err) {
        if (err instanceof ReplayError) return cmd.error(`${err.code}: ${err.message}`, USAGE);
        throw err;
      } finally {
        await db.close();
      }
      io.out(opts.json ? JSON.stringify(report, null, 2) : formatReport(report, opts.node));
      if (!report.ok) io.fail();
    });
}
