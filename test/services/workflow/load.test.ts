// Loading workflows: the city-permit example from its file, the same workflow
// from TypeScript (same IR, same hash), contract files relative to the
// workflow, positions in messages, and the committed JSON Schema.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { defineWorkflow } from '../../../src/services/workflow/define.js';
import { loadWorkflow } from '../../../src/services/workflow/load.js';
import { parseWorkflow } from '../../../src/services/workflow/parse.js';
import { WORKFLOW_JSON_SCHEMA_PATH, workflowJsonSchema, workflowJsonSchemaText } from '../../../src/services/workflow/schema.js';
import type { WorkflowSpec } from '../../../src/services/workflow/spec.js';
import type { AgentStep, ApprovalStep } from '../../../src/services/workflow/types.js';
import { workflowHash } from '../../../src/services/workflow/validate.js';
import { tempDir } from '../../support/tmp.js';
import { doc, expectWorkflowError, options } from './definition-helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/city-permit/city-permit.workflow.yaml');

describe('the city-permit example', () => {
  const def = loadWorkflow(EXAMPLE, options());

  it('loads with stub agents into steps in topological order with every input bound', () => {
    expect(def.name).toBe('city_permit_assistant');
    expect(def.steps.map((s) => s.id)).toEqual(['plan', 'browse', 'summarise', 'approve', 'notify']);
    const notify = def.steps[4] as AgentStep;
    expect(notify.needs).toEqual(['approve']);
    // The approval gate passes nothing on, so notify's inputs come from further up and from the run input.
    expect(notify.bind).toEqual({
      summary: { from: 'step', step: 'summarise', field: 'summary' },
      email: { from: 'input', field: 'email' },
      citations: { from: 'step', step: 'summarise', field: 'citations' },
    });
    expect(notify).toMatchObject({ mode: 'instance', message: 'send', compensate: 'retract', when: { field: 'email', op: '!=', value: '' } });
    expect(def.output).toEqual({ messageId: { from: 'step', step: 'notify', field: 'messageId' }, summary: { from: 'step', step: 'summarise', field: 'summary' } });
  });

  it('applies the defaults and keeps the gate\'s policy', () => {
    const [plan, browse] = def.steps as AgentStep[];
    expect(plan).toMatchObject({ binding: 'strict', mode: 'service', message: 'step', idempotent: false, timeoutMs: 30000 });
    expect(plan?.retry).toEqual({ attempts: 1, backoffMs: 100, factor: 2, maxBackoffMs: 10000 });
    expect(browse?.retry).toEqual({ attempts: 3, backoffMs: 200, factor: 2, maxBackoffMs: 10000 });
    const approve = def.steps[3] as ApprovalStep;
    expect(approve.policy).toEqual({ consentFor: ['email.send'], roles: ['permit-officer'], timeoutMs: 86400000, escalateTo: 'supervisor' });
    expect(approve.out).toEqual({ type: 'object', properties: {}, required: [], additionalProperties: true });
  });

  it('inlines named types into the step schemas', () => {
    const citations = (def.steps[2]?.out.properties as Record<string, unknown>).citations;
    expect(citations).toEqual({ type: 'array', items: { title: 'Citation', ...(def.types.Citation as object) } });
  });

  it('hashes the canonical definition: stable across loads, and any change changes it', () => {
    expect(def.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(workflowHash(def)).toBe(def.hash);
    expect(loadWorkflow(EXAMPLE, options()).hash).toBe(def.hash);
    const text = readFileSync(EXAMPLE, 'utf8').replace('retry: { attempts: 3, backoff_ms: 200 }', 'retry: { attempts: 3, backoff_ms: 201 }');
    expect(parseWorkflow(text, options()).hash).not.toBe(def.hash);
  });

  it('is the same IR, hash included, when written in TypeScript', () => {
    const spec = parseYaml(readFileSync(EXAMPLE, 'utf8')) as WorkflowSpec;
    const { apiVersion: _a, kind: _k, ...withoutHeader } = spec;
    expect(defineWorkflow(withoutHeader, options())).toEqual(def);
  });
});

describe('contract files', () => {
  const tmp = tempDir('agentos-workflow-load-');
  afterAll(tmp.cleanup);
  const contract = (latency: string, slo: string) =>
    ['apiVersion: agentos/v0.2', 'kind: AgentContract', 'name: planner', 'class:', `  latency: ${latency}`, `  slo: ${slo}`].join('\n');
  mkdirSync(join(tmp.dir, 'contracts'));
  writeFileSync(join(tmp.dir, 'contracts/srt.agent.yaml'), contract('SRT', '{ onset_ms: 100, turn_ms: 2000 }'));
  writeFileSync(join(tmp.dir, 'contracts/hrt.agent.yaml'), contract('HRT', '{ period_ms: 10, deadline_ms: 10, wcet_ms: 1 }'));
  const write = (name: string, contractPath: string) => {
    const file = join(tmp.dir, name);
    writeFileSync(file, doc('steps:', '  - id: plan', '    agent: planner', `    contract: ${contractPath}`));
    return file;
  };

  it('are loaded relative to the workflow file, validated whole, and kept on the step', () => {
    const def = loadWorkflow(write('ok.workflow.yaml', 'contracts/srt.agent.yaml'), options());
    expect((def.steps[0] as AgentStep).contract).toMatchObject({ kind: 'AgentContract', class: { latency: 'SRT', slo: { turn_ms: 2000 } } });
  });

  it('an HRT contract file makes the step unschedulable, at the contract line', () => {
    const file = write('hrt.workflow.yaml', 'contracts/hrt.agent.yaml');
    expectWorkflowError(() => loadWorkflow(file, options()), 'WORKFLOW_UNSCHEDULABLE', `${file}:7:5: steps[0].contract: step "plan": agent "planner" is HRT`);
  });

  it('a missing contract file is named with the contract loader\'s reason', () => {
    const file = write('missing.workflow.yaml', 'contracts/nope.agent.yaml');
    const err = expectWorkflowError(() => loadWorkflow(file, options()), 'WORKFLOW_INVALID', `${file}:7:5: steps[0].contract: step "plan": cannot load contract "contracts/nope.agent.yaml"`, 'ENOENT');
    expect(err.field).toBe('steps[0].contract');
  });

  it('baseDir overrides where they resolve', () => {
    const text = doc('steps:', '  - id: plan', '    agent: planner', '    contract: srt.agent.yaml');
    expect(() => parseWorkflow(text, options({ baseDir: join(tmp.dir, 'contracts') }))).not.toThrow();
  });

  it('an unreadable workflow file is WORKFLOW_INVALID with the reading error code kept', () => {
    const missing = join(tmp.dir, 'nope.workflow.yaml');
    const err = expectWorkflowError(() => loadWorkflow(missing, options()), 'WORKFLOW_INVALID', missing, 'cannot read workflow file (ENOENT)');
    expect(err.details?.yamlCode).toBe('CONTRACT_READ');
  });
});

describe('messages', () => {
  it('name the file, line, column, field and step; the first problem leads and all are in details', () => {
    const text = doc(
      'steps:', //                        4
      '  - id: plan', //                  5
      '    agent: ghost', //              6
      '    in: { topic: string }', //     7
      '  - id: send', //                  8
      '    agent: mailer', //             9
      '    in: { to: number }', //        10
    );
    const err = expectWorkflowError(() => parseWorkflow(text, options({ file: 'permit.workflow.yaml' })), 'WORKFLOW_UNKNOWN_AGENT',
      'permit.workflow.yaml:6:5: steps[0].agent: step "plan": unknown agent "ghost"');
    expect(err.field).toBe('steps[0].agent');
    expect(err.details).toMatchObject({ source: 'permit.workflow.yaml', line: 6, col: 5 });
    expect(err.details?.issues).toEqual([
      expect.objectContaining({ code: 'WORKFLOW_UNKNOWN_AGENT', field: 'steps[0].agent', line: 6 }),
      expect.objectContaining({ code: 'WORKFLOW_UNBOUND_INPUT', field: 'steps[0].in.topic', line: 7 }),
      expect.objectContaining({ code: 'WORKFLOW_UNBOUND_INPUT', field: 'steps[1].in.to', line: 10 }),
    ]);
  });

  it('from TypeScript name `<object>` and the field path', () => {
    expectWorkflowError(() => defineWorkflow({ name: 'wf', steps: [{ id: 'a', agent: 'ghost' }] }, options()), 'WORKFLOW_UNKNOWN_AGENT',
      '<object>: steps[0].agent: step "a": unknown agent "ghost"');
  });

  it('refuse options without an agents lookup (a programmer error)', () => {
    expect(() => parseWorkflow(doc('steps: [{ id: a, agent: x }]'), {} as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

describe('workflow JSON Schema', () => {
  const committedPath = join(ROOT, WORKFLOW_JSON_SCHEMA_PATH);

  it(`${WORKFLOW_JSON_SCHEMA_PATH} is exactly what workflowJsonSchema() generates`, () => {
    if (process.env.AGENTOS_WRITE_SCHEMAS === '1') writeFileSync(committedPath, workflowJsonSchemaText());
    expect(readFileSync(committedPath, 'utf8'), 'stale schema: run AGENTOS_WRITE_SCHEMAS=1 npx vitest run test/services/workflow/load.test.ts').toBe(workflowJsonSchemaText());
  });

  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  const validate = ajv.compile(workflowJsonSchema());

  it('accepts the example, as an editor would', () => {
    expect(validate(parseYaml(readFileSync(EXAMPLE, 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown field', { steps: [{ id: 'a', agent: 'x', retries: 3 }] }],
    ['a bad step id', { steps: [{ id: 'a.b', agent: 'x' }] }],
    ['a loop without max_iterations', { steps: [{ id: 'l', type: 'loop', body: { steps: [{ id: 'a', agent: 'x' }] }, until: 'x == 1' }] }],
    ['an unknown field inside a loop body step', { steps: [{ id: 'l', type: 'loop', max_iterations: 2, until: 'x == 1', body: { steps: [{ id: 'a', agent: 'x', nope: 1 }] } }] }],
    ['no steps', { steps: [] }],
  ])('rejects %s, as agentos does', (_what, patch) => {
    const base = { apiVersion: 'agentos/v0.2', kind: 'Workflow', name: 'wf', steps: [{ id: 'a', agent: 'x' }] };
    expect(validate(base)).toBe(true);
    const doc = { ...base, ...patch };
    expect(validate(doc)).toBe(false);
    expect(() => defineWorkflow(doc as WorkflowSpec, options({ agents: () => ({}) }))).toThrow(expect.objectContaining({ code: 'WORKFLOW_INVALID' }));
  });
});

describe('the IR', () => {
  it('shares nothing with the TypeScript spec it came from', () => {
    const properties: Record<string, unknown> = { a: { type: 'string' } };
    const tags = ['y'];
    const capabilities = ['web.fetch'];
    const spec: WorkflowSpec = {
      name: 'wf', types: { T: { type: 'object', properties } },
      steps: [{ id: 'a', agent: 'worker', in: { t: 'T', tags: 'string[]' }, with: { t: { a: 'x' }, tags }, contract: { capabilities } }],
    };
    const def = defineWorkflow(spec, options());
    const before = JSON.stringify(def);
    properties.b = { type: 'number' };
    tags.push('z');
    capabilities.push('email.send');
    expect(JSON.stringify(def)).toBe(before);
    expect(workflowHash(def)).toBe(def.hash);
  });
});
