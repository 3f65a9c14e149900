// `agentos trace <id>`: the lineage of a turn on a running node, read through
// its control endpoint — by trace id (every recorded turn of the trace, each
// under the turn that sent its message) or by `<actor>#<turn>` — drawn as a
// tree: turn → its calls in order (model with prompt hash, retrieval with its
// sources, tool with its arguments) → their outputs. With no id (or
// `--recent`), the newest recorded turns and their trace ids.

import { InvalidArgumentError, type Command } from 'commander';
import type { RecentTracesResponse, TraceResponse } from '../node/control-lineage.js';
import { parseLineageId, type Digest, type LineageCall, type LineageTurn } from '../services/telemetry/lineage-record.js';
import { callNode, helpAfter, withNodeTarget } from './control-client.js';
import type { CliIo } from './exit.js';
import { renderTable } from './render.js';

interface TraceOpts {
  dataDir: string;
  node: string;
  recent?: boolean;
  actor?: string;
  limit?: number;
  json?: boolean;
}

interface Branch {
  label: string;
  children: Branch[];
}

const SHOWN = 100;
const short = (hash: string): string => `sha256 ${hash.slice(0, 16)}…`;
const duration = (ms: number): string => (ms < 10 ? `${Number(ms.toFixed(1))}ms` : `${Math.round(ms)}ms`);
const when = (ms: number): string => (Number.isFinite(ms) && ms > 1e11 ? new Date(ms).toISOString() : `t=${ms}ms`);

function shown(text: unknown): string {
  const s = typeof text === 'string' ? text : JSON.stringify(text);
  const line = s.replace(/\s+/g, ' ');
  return line.length > SHOWN ? `${line.slice(0, SHOWN)}…` : line;
}

function digestLine(name: string, d: Digest | undefined): Branch[] {
  if (!d) return [];
  return [{ label: `${name} ${short(d.hash)}${d.text === undefined ? '' : `  ${shown(d.text)}`}`, children: [] }];
}

function outcome(c: LineageCall): string {
  if (c.outcome === 'pending') return 'pending';
  return `${c.outcome === 'ok' ? 'ok' : `error ${c.code ?? ''}`.trim()} ${duration(c.ms ?? 0)}`;
}

function callBranch(c: LineageCall): Branch {
  const via = `${c.onBehalfOf === undefined ? '' : ` (on behalf of ${c.onBehalfOf})`}${c.key === undefined ? '' : ` [${c.key}]`}`;
  if (c.kind === 'model') {
    const answered = c.model !== undefined && c.model !== c.name ? ` → ${c.model}` : '';
    const tokens = c.tokens ? `  tokens ${c.tokens.prompt}+${c.tokens.completion}` : '';
    return { label: `model ${c.name}${answered}${via}  ${outcome(c)}${tokens}`, children: [...digestLine('prompt', c.prompt), ...digestLine('output', c.output)] };
  }
  if (c.kind === 'retrieval') {
    const sources = (c.sources ?? []).map((s) => ({ label: `${s.sourceId}#${s.chunk}  chunk ${short(s.hash)}  ref ${s.ref}`, children: [] }));
    const grounded = c.grounded === undefined ? '' : c.grounded ? '  grounded' : '  ungrounded';
    return {
      label: `retrieval ${c.name}${via}  ${outcome(c)}${grounded}`,
      children: [...digestLine('query', c.query), ...(sources.length > 0 ? [{ label: `sources (${sources.length})`, children: sources }] : [])],
    };
  }
  const version = c.version === undefined ? '' : ` v${c.version}${c.manifest === undefined ? '' : ` (${c.manifest.slice(0, 23)}…)`}`;
  return { label: `${c.kind} ${c.name}${version}${via}  ${outcome(c)}`, children: [...digestLine('args', c.args), ...digestLine('output', c.output)] };
}

function turnLabel(t: LineageTurn): string {
  const from = t.message.from === undefined ? '' : ` from ${t.message.from}`;
  const span = t.spanId === undefined ? '' : `  span ${t.spanId}`;
  const omitted = t.omitted ? `  (${t.omitted} more calls not recorded)` : '';
  return `turn ${t.actor}#${t.turn}  "${t.message.type}" (${t.message.id}${from})  node ${t.node}${span}  ${when(t.at)}${omitted}`;
}

/** The turns as a forest: each turn under the turn whose span sent its message, when that turn is here too. */
export function formatTrace(turns: readonly LineageTurn[]): string {
  const bySpan = new Map<string, Branch>();
  const branches = turns.map((t) => {
    const b: Branch = { label: turnLabel(t), children: t.calls.map(callBranch) };
    if (t.spanId !== undefined) bySpan.set(t.spanId, b);
    return b;
  });
  const roots: Branch[] = [];
  turns.forEach((t, i) => {
    const parent = t.parentSpanId === undefined ? undefined : bySpan.get(t.parentSpanId);
    if (parent && parent !== branches[i]) parent.children.push(branches[i]!);
    else roots.push(branches[i]!);
  });
  const lines: string[] = [];
  const walk = (b: Branch, prefix: string, last: boolean, top: boolean): void => {
    lines.push(top ? b.label : `${prefix}${last ? '└─ ' : '├─ '}${b.label}`);
    const inner = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    b.children.forEach((c, i) => walk(c, inner, i === b.children.length - 1, false));
  };
  for (const r of roots) walk(r, '', true, true);
  return lines.join('\n');
}

/** The `--recent` table: one row per turn, newest first. */
export function formatRecent(turns: readonly LineageTurn[]): string {
  const rows = turns.map((t) => {
    const failed = t.calls.filter((c) => c.outcome === 'error').length;
    const pending = t.calls.filter((c) => c.outcome === 'pending').length;
    const state = failed > 0 ? `${failed} failed` : pending > 0 ? `${pending} pending` : 'ok';
    return [`${t.actor}#${t.turn}`, t.message.type, String(t.calls.length + (t.omitted ?? 0)), state, t.traceId ?? '-', when(t.at)];
  });
  return renderTable(['TURN', 'MESSAGE', 'CALLS', 'OUTCOME', 'TRACE', 'AT'], rows, new Set([2]));
}

/** A trace id or `<actor>#<turn>`; anything else is a usage error (exit 2). */
function lineageId(value: string): string {
  try {
    parseLineageId(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

function limit(value: string): number {
  const n = Number(value);
  if (!/^\d{1,4}$/.test(value) || n < 1 || n > 1000) throw new InvalidArgumentError('a number of turns from 1 to 1000.');
  return n;
}

export function registerTraceCommand(program: Command, io: CliIo): void {
  withNodeTarget(program.command('trace'))
    .argument('[id]', 'a trace id (32 hex digits) or <actor>#<turn>', lineageId)
    .description('the lineage of a turn on a running node: its model calls (prompt hash), retrievals (sources) and tool calls (arguments), in order, with their outputs')
    .option('--recent', 'list the newest recorded turns with their trace ids (the default with no id)')
    .option('--actor <id>', 'with --recent: only this actor’s turns')
    .option('--limit <n>', 'with --recent: how many turns (default 20)', limit)
    .option('--json', 'print the answer as JSON')
    .addHelpText(
      'after',
      helpAfter('agentos trace --recent --actor planner', 'agentos trace 4bf92f3577b34da6a3ce929d0e0e4736', "agentos trace planner#3 --json | jq '.turns[0].calls[] | {kind, name, outcome}'"),
    )
    .action(async (id: string | undefined, opts: TraceOpts, cmd: Command) => {
      if (id !== undefined && (opts.recent || opts.actor !== undefined || opts.limit !== undefined)) cmd.error('error: give either an id or --recent [--actor] [--limit], not both', { exitCode: 2, code: 'agentos.usage' });
      if (id === undefined) {
        const query = new URLSearchParams();
        if (opts.actor !== undefined) query.set('actor', opts.actor);
        if (opts.limit !== undefined) query.set('limit', String(opts.limit));
        const q = query.toString();
        const answer = await callNode<RecentTracesResponse>(opts, `/v1/trace${q ? `?${q}` : ''}`);
        if (opts.json) io.out(JSON.stringify(answer, null, 2));
        else if (answer.turns.length === 0) io.err(`no recorded turns on node "${answer.node}"${opts.actor === undefined ? '' : ` for actor "${opts.actor}"`}`);
        else io.out(formatRecent(answer.turns));
        return;
      }
      const answer = await callNode<TraceResponse>(opts, `/v1/trace/${encodeURIComponent(id)}`);
      if (opts.json) io.out(JSON.stringify(answer, null, 2));
      else io.out(formatTrace(answer.turns));
    });
}
