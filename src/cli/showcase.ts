// The showcase's workflow part (`npm start`): the paper's city permit assistant
// end to end on the demo node — plan with a local model, read a fixture city
// website over HTTP on 127.0.0.1, summarise with citations, wait at the approval
// gate (a demo reviewer approves after printing the request; `--interactive`
// waits for `agentos approve`), then email the applicant through a recording tool.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentOsNode, NodeOptions } from '../index.js';
import { permitAgents, permitModels, permitTools } from './permit-agents.js';
import { startSite } from './permit-site.js';

export const PERMIT_WORKFLOW = fileURLToPath(new URL('../../examples/city-permit/city-permit.workflow.yaml', import.meta.url));

export interface PermitSetup {
  options: Pick<NodeOptions, 'agents' | 'tools' | 'modelGateway' | 'workflows'>;
  site: Awaited<ReturnType<typeof startSite>>;
  close(): void;
}

/** The fixture site and what the node needs to run the permit workflow. */
export async function permitSetup(dataDir: string): Promise<PermitSetup> {
  const site = await startSite();
  return {
    options: {
      agents: permitAgents,
      tools: permitTools(site.base, join(dataDir, 'outbox.jsonl')),
      modelGateway: {
        local: { models: permitModels },
        catalog: Object.keys(permitModels).map((m) => ({ id: `local/${m}`, contextTokens: 8192, placement: 'edge' as const, privacy: ['public' as const, 'internal' as const, 'pii' as const] })),
      },
      workflows: [PERMIT_WORKFLOW],
    },
    site,
    close: () => site.server.close(),
  };
}

export interface PermitOutcome {
  runId: string;
  status: string;
  approvalId: string;
  traceId: string | undefined;
  steps: string[];
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runPermitFlow(node: AgentOsNode, log: (line: string) => void, options: { interactive?: boolean; dataDir: string }): Promise<PermitOutcome> {
  const runId = `permit-${node.workflows.list({ workflow: 'city_permit_assistant', topLevel: true }).length + 1}`;
  const input = { address: '12 Elm St, Riverton', project: 'deck over the back garden', email: 'ana@example.org' };
  await node.workflows.start('city_permit_assistant', input, { runId });
  const approvalId = `wf-${runId}-approve`;
  while (!node.approvals.list().some((a) => a.id === approvalId)) {
    if (['completed', 'failed', 'cancelled', 'held'].includes(node.workflows.get(runId).status)) break;
    await pause(5);
  }
  const request = node.approvals.list().find((a) => a.id === approvalId);
  if (request) {
    const args = request.args as { context: { summary: string; email: string }; willRun: { step: string; agent: string }[] };
    log(`  run ${runId}: plan → browse → summarise done; approval ${approvalId} waits for a permit officer`);
    log(`    summary: ${args.context.summary}`);
    log(`    then: ${args.willRun.map((w) => `${w.step} (${w.agent})`).join(', ')} emails ${args.context.email}`);
    if (options.interactive) {
      log(`    approve it from another terminal: npx agentos approve ${approvalId} --by <you> --data-dir ${options.dataDir} --node ${node.name}`);
    } else {
      node.workflows.approve(runId, 'approve', { by: 'demo-reviewer', argsHash: request.argsHash });
      log('    approved by demo-reviewer (npm start -- --interactive waits for you instead)');
    }
  }
  const run = await node.workflows.wait(runId);
  const traceId = run.traceparent?.split('-')[1];
  log(`  run ${runId}: ${run.status}; steps ${run.completed.join(' → ')}; message ${JSON.stringify(run.output?.messageId ?? null)}`);
  return { runId, status: run.status, approvalId, traceId, steps: run.completed };
}
