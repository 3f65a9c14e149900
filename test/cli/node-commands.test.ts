// `agentos send | ask | approvals | approve | reject | audit` against a running
// node, as a user runs them: the node is one `agentos serve` child process
// (a counter, and a mailer whose mail.send waits for alice's approval), each
// command another child process that finds it through control.json. The
// refusal grid of each route is in control-actions.test.ts (in-process).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTreeHead, type SignedTreeHead } from '../../src/kernel/audit/index.js';
import type { ApprovalsResponse } from '../../src/node/control.js';
import { formatApprovals, formatDuration } from '../../src/cli/approvals.js';
import { until } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';
import { agentos, killAll, repoRoot, serve, type Serving } from './run.js';

const tmp = tempDir('agentos-cli-node-');
const dataDir = join(tmp.dir, 'data');
const target = ['--data-dir', dataDir, '--node', 'live'];
const FIXTURE = join(repoRoot, 'test/cli/fixtures/serve-mailer.ts');

let node: Serving;

beforeAll(async () => {
  node = await serve('--agents', FIXTURE, ...target);
}, 90_000);

afterAll(async () => {
  await killAll(node ? [node] : []);
  tmp.cleanup();
});

const json = (args: string[]) => {
  const r = agentos(...args, ...target);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as any;
};

/** The pending approvals, once there are `n` of them (the mailer asks a moment after its message). */
async function approvalsWhen(n: number): Promise<ApprovalsResponse> {
  let answer: ApprovalsResponse | undefined;
  await until(() => (answer = json(['approvals', '--json']) as ApprovalsResponse).approvals.length === n, 20_000);
  return answer!;
}

/** The mailer's answer to `result` once it has made `calls` calls. */
async function mailerAfter(calls: number): Promise<unknown> {
  let result: { calls: number } | undefined;
  await until(() => (result = json(['ask', 'mailer', '{"type":"result"}']) as { calls: number }).calls === calls, 20_000);
  return result;
}

describe('agentos send / ask / approvals / approve / reject / audit against a running node', { timeout: 60_000 }, () => {
  it('send delivers (with --priority); ask prints the reply as JSON', () => {
    const sent = agentos('send', 'counter', '{"type":"inc","by":2}', '--priority', '7', ...target);
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.stdout).toBe('');
    expect(sent.stderr.trim()).toBe('sent "inc" to counter on node "live"');
    const asked = agentos('ask', 'counter', '{"type":"get"}', ...target);
    expect(asked.status, asked.stderr).toBe(0);
    expect(asked.stdout.trim()).toBe('2');
  });

  it('the kernel’s refusals are exit 1 with its code: INVALID_MESSAGE naming the field, UNKNOWN_ACTOR, ASK_TIMEOUT', () => {
    const cases: Array<[string[], RegExp]> = [
      [['send', 'counter', '{"type":"inc","by":"x"}'], /^INVALID_MESSAGE: node "live": message "inc" to "counter" is invalid: by: /],
      [['send', 'ghost', '{"type":"inc","by":1}'], /^UNKNOWN_ACTOR: node "live": no actor "ghost" on node "live"\n$/],
      [['ask', 'counter', '{"type":"inc","by":1}', '--timeout-ms', '100'], /^ASK_TIMEOUT: node "live": ask "inc" to "counter" got no reply within 100 ms\n$/],
    ];
    for (const [args, message] of cases) {
      const r = agentos(...args, ...target);
      expect([r.status, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toMatch(message);
    }
    // The inc asked above was delivered (it just has no reply); the refused ones were not.
    expect(json(['ask', 'counter', '{"type":"get"}'])).toBe(3);
  });

  it('a consent_for call waits in approvals (args redacted); the queue’s refusals keep their codes; approve lets it run once', async () => {
    const mail = JSON.stringify({ type: 'mail', to: 'ops@example.org', body: 'password=hunter2hunter2' });
    expect(agentos('send', 'mailer', mail, ...target).status).toBe(0);
    const { approvals } = await approvalsWhen(1);
    const [request] = approvals;
    expect(request).toMatchObject({ capability: 'mail.send', actor: 'mailer', tenant: 'default', args: { to: 'ops@example.org', body: 'password=[REDACTED:password]' } });

    const table = agentos('approvals', ...target);
    expect(table.status).toBe(0);
    const [head, row] = table.stdout.trimEnd().split('\n');
    expect(head!.split(/\s+/)).toEqual(['ID', 'CAPABILITY', 'ACTOR', 'TENANT', 'REQUESTER', 'WAITING', 'LEFT', 'ESCALATED', 'ARGS']);
    expect(row!.split(/\s+/).slice(0, 5)).toEqual([request!.id, 'mail.send', 'mailer', 'default', 'mailer']);
    expect(row).toContain('"body":"password=[REDACTED');
    expect(table.stdout).not.toContain('hunter2');

    const refusals: Array<[string[], RegExp]> = [
      [['--by', 'mailer'], /^SOD_VIOLATION: node "live": Separation of duties: "mailer" cannot approve/],
      [['--by', 'bob'], /^APPROVER_NOT_AUTHORIZED: node "live": "bob" may not approve .* it lacks the permission "approve:mail\.send"/],
    ];
    for (const [who, message] of refusals) {
      const r = agentos('approve', request!.id, ...who, ...target);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    expect(json(['ask', 'mailer', '{"type":"result"}'])).toEqual({ calls: 0, result: null, error: null });

    const ok = agentos('approve', request!.id, '--by', 'alice', '--role', 'approver', ...target);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(`approved ${request!.id} by alice on node "live"`);
    expect(await mailerAfter(1)).toEqual({ calls: 1, result: { sent: true, n: 1 }, error: null });

    const twice = agentos('approve', request!.id, '--by', 'alice', ...target);
    expect(twice.status).toBe(1);
    expect(twice.stderr.trim()).toBe(`APPROVAL_DECIDED: node "live": Approval ${request!.id} was already decided (granted)`);
  });

  it('reject fails the waiting call with CONSENT_REJECTED and the tool never runs; then nothing is pending', async () => {
    expect(agentos('send', 'mailer', '{"type":"mail","to":"all@example.org","body":"hi all"}', ...target).status).toBe(0);
    const [request] = (await approvalsWhen(1)).approvals;
    const r = agentos('reject', request!.id, '--by', 'alice', '--reason', 'wrong recipient', ...target);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`rejected ${request!.id} by alice on node "live": wrong recipient`);
    // The result of the first (approved) mail stays: the tool ran once in all.
    expect(await mailerAfter(2)).toEqual({ calls: 2, result: { sent: true, n: 1 }, error: 'CONSENT_REJECTED' });
    const empty = agentos('approvals', ...target);
    expect([empty.status, empty.stdout, empty.stderr.trim()]).toEqual([0, '', 'no pending approvals on node "live"']);
  });

  it('audit verify and head ask the running node (every record flushed and signed); --offline reads the data dir beside it', () => {
    const live = agentos('audit', 'verify', '--json', ...target);
    expect(live.status, live.stderr).toBe(0);
    expect(live.stderr).toMatch(/^note: verified by the running node "live"/);
    const verdict = JSON.parse(live.stdout) as { ok: boolean; size: number; signedSize: number; rootHash: string };
    // Two admissions, and for each mail a policy check and its consent decisions.
    expect(verdict).toEqual({ ok: true, size: expect.any(Number), signedSize: verdict.size, rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(verdict.size).toBeGreaterThanOrEqual(6);
    const head = json(['audit', 'head']) as SignedTreeHead;
    expect(head).toMatchObject({ size: verdict.size, rootHash: verdict.rootHash });
    expect(verifyTreeHead(head)).toBe(true);
    // LMDB lets another process read while the node writes: no lock stands in the way of the offline check.
    const offline = agentos('audit', 'verify', '--offline', ...target);
    expect(offline.status, offline.stderr).toBe(0);
    expect(offline.stderr).toBe('');
    expect(offline.stdout).toMatch(new RegExp(`^ok: ${verdict.size} records, signed head at size ${verdict.size}, root ${verdict.rootHash}\n$`));
  });

  it('once the node stopped (or left a stale control.json), audit verify reads the data dir', async () => {
    node.child.kill('SIGTERM');
    expect(await node.exited, node.stderr()).toBe(0);
    const after = agentos('audit', 'verify', ...target);
    expect(after.status, after.stderr).toBe(0);
    expect(after.stderr).toBe('');
    expect(after.stdout).toMatch(/^ok: \d+ records, signed head at size \d+, root [0-9a-f]{64}\n$/);
    // A control.json whose process is gone (a node killed with SIGKILL): still the offline path.
    writeFileSync(join(dataDir, 'live', 'control.json'), JSON.stringify({ version: 1, node: 'live', pid: spawnSync(process.execPath, ['-e', '']).pid, host: '127.0.0.1', port: node.port, token: 'ab'.repeat(32) }), { mode: 0o600 });
    const stale = agentos('audit', 'head', ...target);
    expect(stale.status, stale.stderr).toBe(0);
    expect(verifyTreeHead(JSON.parse(stale.stdout) as SignedTreeHead)).toBe(true);
    const send = agentos('send', 'counter', '{"type":"get"}', ...target);
    expect(send.status).toBe(1);
    expect(send.stderr).toMatch(/^NODE_NOT_RUNNING: no node "live" is running on data dir .*: process \d+ named in .*control\.json is gone/);
  });
});

describe('formatApprovals', () => {
  it('shows time waiting and left on the node’s clock, the principal, escalation, and args cut to one column', () => {
    const base = { id: 'apr-1', actor: 'a', tenant: 't', team: undefined, requester: 'a', onBehalfOf: undefined, capability: 'mail.send', args: { to: 'x' }, argsHash: 'h', reason: undefined, createdAt: 0, deadline: 300_000, escalationLevel: 0 as const, escalateTo: undefined };
    const text = formatApprovals([base, { ...base, id: 'apr-2', requester: 'b', onBehalfOf: 'c', args: { body: 'y'.repeat(100) }, escalationLevel: 1, escalateTo: 'duty' }], 61_000);
    expect(text.split('\n')).toEqual([
      'ID     CAPABILITY  ACTOR  TENANT  REQUESTER  WAITING  LEFT   ESCALATED  ARGS',
      'apr-1  mail.send   a      t       a          1m01s    3m59s  -          {"to":"x"}',
      `apr-2  mail.send   a      t       b for c    1m01s    3m59s  to duty    {"body":"${'y'.repeat(50)}…`,
    ]);
    expect([formatDuration(0), formatDuration(59_999), formatDuration(3_600_000 + 5 * 60_000), formatDuration(-1)]).toEqual(['0s', '59s', '1h05m', '-']);
  });
});
