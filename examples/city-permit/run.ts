// The paper's city permit assistant, end to end on one machine: plan with a local
// model → search and read the city's (fixture) website over HTTP → summarise with
// citations → wait for a permit officer's approval → email the applicant through a
// tool that records what it sends. The node is stopped while the approval waits
// and started again on the same data dir: the approval is still there under the
// same id, and nothing done before it runs again.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createNode, type AgentOsNode, type RunRecord } from '../../src/index.js';
import { permitSetup } from '../../src/cli/showcase.js';

export interface PermitSummary {
  run: RunRecord;
  approvalIdBefore: string;
  approvalIdAfter: string;
  siteHits: number;
  outbox: { op: string; id: string; to?: string; body?: string }[];
  auditOk: boolean;
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function main(dataDir = '.agentos/city-permit', log: (line: string) => void = console.log): Promise<PermitSummary> {
  rmSync(dataDir, { recursive: true, force: true });
  const outboxFile = join(dataDir, 'permits', 'outbox.jsonl');
  // The fixture site on 127.0.0.1, and the agents, tools, local models and workflow file (as `npm start` uses them).
  const permit = await permitSetup(join(dataDir, 'permits'));
  const start = (): Promise<AgentOsNode> => createNode({ name: 'permits', dataDir, memory: false, ...permit.options });
  const hits = (): number => permit.site.hits();
  try {
    let node = await start();
    const input = { address: '12 Elm St, Riverton', project: 'deck over the back garden', email: 'ana@example.org' };
    await node.workflows.start('city_permit_assistant', input, { runId: 'permit-1' });
    await waitFor(() => node.approvals.list().length === 1, 'the approval request');
    const [request] = node.approvals.list();
    const context = (request!.args as { context: { summary: string } }).context;
    log(`approval ${request!.id} waits for a permit officer:`);
    log(`  summary: ${context.summary}`);
    log(`  will run: ${JSON.stringify((request!.args as { willRun: unknown }).willRun)}`);
    const hitsBefore = hits();

    log('stopping the node while the approval waits…');
    await node.stop();
    node = await start();
    await waitFor(() => node.approvals.list().length === 1, 'the approval after the restart');
    const after = node.approvals.list()[0]!;
    log(`after the restart: approval ${after.id} is still waiting (deadline unchanged: ${after.deadline === request!.deadline})`);

    node.workflows.approve('permit-1', 'approve', { by: 'officer-kim', argsHash: after.argsHash });
    const run = await node.workflows.wait('permit-1');
    log(`run ${run.id}: ${run.status}; steps ${run.completed.join(' → ')}`);
    const outbox = existsSync(outboxFile) ? readFileSync(outboxFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PermitSummary['outbox'][number]) : [];
    for (const mail of outbox) log(`outbox: ${mail.op} ${mail.id} to ${mail.to ?? '-'}\n${mail.body ?? ''}`);
    const verified = node.audit.verify();
    log(`audit: ${node.audit.size} records, verified ${verified.ok}; HITL latency ${node.workflows.stats().hitl.p50Ms} ms`);
    await node.stop();
    return { run, approvalIdBefore: request!.id, approvalIdAfter: after.id, siteHits: hits() - hitsBefore, outbox, auditOk: verified.ok };
  } finally {
    permit.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
