// A workflow's approval gate decided through the node's control endpoint (what
// `agentos approvals` / `agentos approve <id>` use), over a real socket.
import { afterEach, describe, expect, it } from 'vitest';
import { readControlFile, startControlServer } from '../../../src/node/control.js';
import { createNode, type AgentOsNode } from '../../../src/index.js';
import { call } from '../../cli/control-http.js';
import { tempDir } from '../../support/tmp.js';
import { ir, stepAgent } from '../../support/workflow.js';

let node: AgentOsNode | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await node?.stop();
  tmp?.cleanup();
});

describe('workflow approval gates through the control endpoint', () => {
  it('are listed with their context and approved by id; the run then completes', async () => {
    tmp = tempDir('agentos-wf-control-');
    const worker = stepAgent('worker', (c) => (c.step === 'draft' ? { text: 'hello' } : { sent: true }));
    const wf = ir({ name: 'memo', output: { sent: 'send.sent' }, steps: [{ id: 'draft', out: ['text'] }, { id: 'ok', type: 'HITL_approval', in: ['text'] }, { id: 'send', in: ['text'], out: ['sent'] }] });
    node = await createNode({ name: 'ctl', dataDir: tmp.dir, memory: false, agents: [worker], workflows: [wf] });
    const server = await startControlServer(node);
    const token = readControlFile(server.file)!.token;
    await node.workflows.start('memo', {}, { runId: 'm1' });
    let listed: any;
    for (let i = 0; i < 200 && !listed?.approvals?.length; i++) {
      listed = (await call(server.port, '/v1/approvals', { token })).body;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(listed.approvals).toMatchObject([{ id: 'wf-m1-ok', actor: 'wf.m1', args: { workflow: 'memo', run: 'm1', step: 'ok', context: { text: 'hello' } } }]);
    const self = await call(server.port, '/v1/approvals/wf-m1-ok/approve', { token, method: 'POST', body: JSON.stringify({ by: 'wf.m1' }) });
    expect([self.status, self.body.error.code]).toEqual([403, 'SOD_VIOLATION']);
    const r = await call(server.port, '/v1/approvals/wf-m1-ok/approve', { token, method: 'POST', body: JSON.stringify({ by: 'alice' }) });
    expect(r.status).toBe(200);
    expect((await node.workflows.wait('m1')).status).toBe('completed');
    expect(node.workflows.get('m1').steps.ok!.approval).toMatchObject({ by: 'alice' });
  });
});
