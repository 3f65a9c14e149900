// `agentos trace` as a user runs it: against an `agentos serve` child process
// whose assistant, in one turn, asks a local model, retrieves with rag.query and
// calls a tool — the tree by trace id, the JSON by <actor>#<turn>, the recent
// list, the control route's refusals, exit 1 for an unknown id and 2 for a
// malformed one — and the trace id `npm start` prints for its workflow run.
// The tree layout itself (turns nested under the turn that sent their message)
// is checked on records built here.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode } from '../../src/index.js';
import { controlFilePath, readControlFile } from '../../src/node/control.js';
import type { RecentTracesResponse, TraceResponse } from '../../src/node/control-lineage.js';
import { formatRecent, formatTrace } from '../../src/cli/trace.js';
import type { LineageTurn } from '../../src/services/telemetry/lineage-record.js';
import { lineageOf } from '../../src/services/telemetry/lineage.js';
import { API_KEY, CRM_TOKEN } from '../services/telemetry/lineage-agents.js';
import { until } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';
import { call } from './control-http.js';
import { agentos, killAll, repoRoot, serve, type Serving } from './run.js';

const turn = (over: Partial<LineageTurn>): LineageTurn => ({
  seq: 1,
  node: 'n1',
  actor: 'front',
  turn: 1,
  tenant: 'default',
  message: { id: 'm-1', type: 'ask' },
  traceId: 'a'.repeat(32),
  at: 1_700_000_000_000,
  fields: [],
  calls: [],
  ...over,
});

describe('formatTrace and formatRecent', () => {
  it('draws each turn under the turn that sent its message, calls in order with hashes, text and sources', () => {
    const front = turn({
      spanId: '1111111111111111',
      calls: [{ index: 0, kind: 'model', name: 'local/rules', model: 'local/rules', at: 0, ms: 3, outcome: 'ok', prompt: { hash: 'ab'.repeat(32), text: [{ role: 'user', content: 'hi' }] }, output: { hash: 'cd'.repeat(32) }, tokens: { prompt: 5, completion: 7 } }],
    });
    const back = turn({
      seq: 2,
      actor: 'back',
      turn: 4,
      message: { id: 'm-2', type: 'work', from: 'front' },
      spanId: '2222222222222222',
      parentSpanId: '1111111111111111',
      calls: [
        { index: 0, kind: 'retrieval', name: 'rag.query', at: 0, ms: 1, outcome: 'ok', query: { hash: 'ef'.repeat(32) }, grounded: true, sources: [{ sourceId: 'refunds.md', chunk: 0, hash: '12'.repeat(32), ref: 'r1' }] },
        { index: 1, kind: 'tool', name: 'orders.lookup', version: '2', manifest: `sha256:${'9'.repeat(64)}`, at: 0, outcome: 'pending', args: { hash: '34'.repeat(32), text: { id: 'A-1' } } },
        { index: 2, kind: 'tool', name: 'mail.send', at: 0, ms: 0, outcome: 'error', code: 'CAPABILITY_DENIED', args: { hash: '56'.repeat(32) } },
      ],
    });
    expect(formatTrace([front, back]).split('\n')).toEqual([
      'turn front#1  "ask" (m-1)  node n1  span 1111111111111111  2023-11-14T22:13:20.000Z',
      '├─ model local/rules  ok 3ms  tokens 5+7',
      '│  ├─ prompt sha256 abababababababab…  [{"role":"user","content":"hi"}]',
      '│  └─ output sha256 cdcdcdcdcdcdcdcd…',
      '└─ turn back#4  "work" (m-2 from front)  node n1  span 2222222222222222  2023-11-14T22:13:20.000Z',
      '   ├─ retrieval rag.query  ok 1ms  grounded',
      '   │  ├─ query sha256 efefefefefefefef…',
      '   │  └─ sources (1)',
      '   │     └─ refunds.md#0  chunk sha256 1212121212121212…  ref r1',
      '   ├─ tool orders.lookup v2 (sha256:9999999999999999…)  pending',
      '   │  └─ args sha256 3434343434343434…  {"id":"A-1"}',
      '   └─ tool mail.send  error CAPABILITY_DENIED 0ms',
      '      └─ args sha256 5656565656565656…',
    ]);
    // A turn whose parent is not among them is a root of its own.
    expect(formatTrace([back]).split('\n')[0]).toMatch(/^turn back#4/);
    expect(formatRecent([back, front]).split('\n')).toEqual([
      'TURN     MESSAGE  CALLS  OUTCOME   TRACE                             AT',
      `back#4   work         3  1 failed  ${'a'.repeat(32)}  2023-11-14T22:13:20.000Z`,
      `front#1  ask          1  ok        ${'a'.repeat(32)}  2023-11-14T22:13:20.000Z`,
    ]);
  });
});

const tmp = tempDir('agentos-cli-trace-');
const dataDir = join(tmp.dir, 'data');
const target = ['--data-dir', dataDir, '--node', 'live'];
const FIXTURE = join(repoRoot, 'test/cli/fixtures/serve-lineage.ts');
let node: Serving;

beforeAll(async () => {
  node = await serve('--agents', FIXTURE, ...target);
}, 90_000);

afterAll(async () => {
  await killAll(node ? [node] : []);
  tmp.cleanup();
});

const json = <T>(args: string[]): T => {
  const r = agentos(...args, ...target);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

describe('agentos trace against a running node', { timeout: 60_000 }, () => {
  let recorded: LineageTurn;

  beforeAll(async () => {
    const sent = agentos('send', 'assistant', JSON.stringify({ type: 'question', text: 'Can I return an unopened toaster?', order: 'A-17' }), ...target);
    expect(sent.status, sent.stderr).toBe(0);
    await until(() => {
      const [t] = json<RecentTracesResponse>(['trace', '--recent', '--json']).turns;
      if (t?.calls.length === 3 && t.calls.every((c) => c.outcome === 'ok')) recorded = t;
      return recorded !== undefined;
    }, 30_000);
  }, 60_000);

  it('prints the turn by trace id as a tree: model (prompt hash, redacted text) → retrieval (sources) → tool (args) → outputs', () => {
    expect(recorded.traceId).toMatch(/^[0-9a-f]{32}$/);
    const r = agentos('trace', recorded.traceId!, ...target);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^turn assistant#1  "question" \\(${recorded.message.id}\\)  node live  span [0-9a-f]{16}  `));
    const shape = (l: string) =>
      l.replace(/sha256 [0-9a-f]{16}…/g, 'sha256 H').replace(/ [\d.]+ms/g, ' Nms').replace(/tokens \d+\+\d+/, 'tokens P+C').replace(/ref \S+/g, 'ref R').replace(/ (un)?grounded$/, ' G');
    expect(lines.slice(1).map(shape)).toEqual([
      '├─ model local/echo  ok Nms  tokens P+C',
      // Text is shown on one line, cut at 100 characters (the JSON has it whole).
      `│  ├─ prompt sha256 H  [{"role":"system","content":"Answer from the refund policy. Service key [REDACTED:api-key]."},{"role…`,
      '│  └─ output sha256 H  {"text":"Can I return an unopened toaster?","toolCalls":[]}',
      '├─ retrieval rag.query  ok Nms  G',
      '│  ├─ query sha256 H  Can I return an unopened toaster?',
      `│  └─ sources (1)`,
      '│     └─ refunds.md#0  chunk sha256 H  ref R',
      expect.stringMatching(/^└─ tool orders\.lookup v1 \(sha256:[0-9a-f]{16}…\) {2}ok Nms$/),
      '   ├─ args sha256 H  {"id":"A-17","token":"[REDACTED:token]"}',
      '   └─ output sha256 H  {"id":"A-17","status":"delivered","note":"internal: password=[REDACTED:password]"}',
    ]);
    for (const secret of [CRM_TOKEN, API_KEY, 'hunter2hunter2']) expect(r.stdout).not.toContain(secret);
  });

  it('answers <actor>#<turn> with the same record as JSON, and lists recent turns with their trace ids', () => {
    const byTurn = json<TraceResponse>(['trace', 'assistant#1', '--json']);
    expect(byTurn).toEqual({ node: 'live', id: 'assistant#1', turns: [recorded] });
    const listed = agentos('trace', '--recent', '--actor', 'assistant', '--limit', '5', ...target);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^TURN +MESSAGE +CALLS +OUTCOME +TRACE +AT$/);
    expect(listed.stdout.split('\n')[1]).toMatch(new RegExp(`^assistant#1 +question +3 +ok +${recorded.traceId} +\\d{4}-`));
    const none = agentos('trace', '--recent', '--actor', 'nobody', ...target);
    expect([none.status, none.stdout, none.stderr.trim()]).toEqual([0, '', 'no recorded turns on node "live" for actor "nobody"']);
  });

  it('exits 1 with LINEAGE_NOT_FOUND for an unknown id, 2 for a malformed one or an id with --recent', () => {
    const unknown = agentos('trace', 'assistant#99', ...target);
    expect([unknown.status, unknown.stdout]).toEqual([1, '']);
    expect(unknown.stderr).toMatch(/^LINEAGE_NOT_FOUND: node "live": node "live" has no lineage for turn assistant#99 /);
    // Which ids are malformed is the record module's rule (lineage.test.ts goes through them); here, that they are usage errors.
    for (const args of [['assistant#0'], ['assistant#1', '--recent'], ['--recent', '--limit', '0']]) {
      const r = agentos('trace', ...args, ...target);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
    }
  });

  it('the control route refuses a malformed id (400 LINEAGE_BAD_ID), an unknown one (404) and unknown query keys', async () => {
    const control = readControlFile(controlFilePath(dataDir, 'live'))!;
    const get = (path: string) => call(control.port, path, { token: control.token });
    expect(await get('/v1/trace/not-an-id')).toMatchObject({ status: 400, body: { error: { code: 'LINEAGE_BAD_ID', field: 'id' } } });
    expect(await get('/v1/trace/assistant%2399')).toMatchObject({ status: 404, body: { error: { code: 'LINEAGE_NOT_FOUND', field: 'id' } } });
    expect(await get('/v1/trace/4bf92f3577b34da6a3ce929d0e0e4736')).toMatchObject({ status: 404, body: { error: { code: 'LINEAGE_NOT_FOUND' } } });
    expect(await get('/v1/trace?limit=5000')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_OPTIONS', field: 'limit' } } });
    expect(await get('/v1/trace?since=1')).toMatchObject({ status: 400, body: { error: { code: 'CONTROL_BAD_REQUEST', field: 'since' } } });
    expect(await get(`/v1/trace/${recorded.traceId}`)).toMatchObject({ status: 200, body: { node: 'live', turns: [{ seq: recorded.seq, actor: 'assistant' }] } });
  });
});

/** Does createNode record lineage by itself (the node wiring), or only when a recorder is attached? */
async function nodeRecordsLineage(): Promise<boolean> {
  const t = tempDir('agentos-lineage-probe-');
  try {
    const n = await createNode({ name: 'probe', dataDir: t.dir, memory: false });
    const on = lineageOf(n.kernel) !== undefined;
    await n.stop();
    return on;
  } finally {
    t.cleanup();
  }
}

describe.runIf(await nodeRecordsLineage())('the demo’s workflow trace', { timeout: 90_000 }, () => {
  it('`npm start -- --serve` prints the trace id of its workflow run, and `agentos trace` shows that run’s turns and their calls', async () => {
    const demoDir = join(tmp.dir, 'demo');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--serve', '--data-dir', demoDir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let traceId: string | undefined;
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`demo exited (${code})`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          traceId ??= /trace of the workflow run ([0-9a-f]{32})/.exec(line)?.[1];
          if (line.startsWith('serving:')) resolve();
        });
      });
      const r = agentos('trace', traceId!, '--json', '--data-dir', demoDir, '--node', 'demo');
      expect(r.status, r.stderr).toBe(0);
      const answer = JSON.parse(r.stdout) as TraceResponse;
      expect(answer.turns.length).toBeGreaterThan(0);
      expect(answer.turns.every((t) => t.traceId === traceId)).toBe(true);
      expect(answer.turns.flatMap((t) => t.calls).length).toBeGreaterThan(0);
      const tree = agentos('trace', traceId!, '--data-dir', demoDir, '--node', 'demo');
      expect(tree.status, tree.stderr).toBe(0);
      expect(tree.stdout).toMatch(/^turn \S+#\d+ /);
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
