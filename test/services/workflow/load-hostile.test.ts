// Hostile and malformed input ends in a typed WorkflowError naming where —
// never a raw exception, a hang, or a polluted prototype.
import { describe, afterEach, expect, it } from 'vitest';
import { defineWorkflow } from '../../../src/services/workflow/define.js';
import { parseWorkflow } from '../../../src/services/workflow/parse.js';
import type { WorkflowSpec } from '../../../src/services/workflow/spec.js';
import { doc, expectWorkflowError, options } from './definition-helpers.js';

afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).filter((k) => /polluted|evil/i.test(k))).toEqual([]);
});

const load = (text: string) => parseWorkflow(text, options());

describe('hostile YAML', () => {
  it('a huge document is refused before parsing', () => {
    const text = doc('description: |', ...Array.from({ length: 20_000 }, () => '  padding padding padding'), 'steps: [{ id: a, agent: worker }]');
    const started = performance.now();
    expectWorkflowError(() => load(text), 'WORKFLOW_INVALID', '<inline>', 'bytes; the limit is 262144');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('deep nesting is refused quickly, flow or block', () => {
    const flow = doc(`types: { A: ${'['.repeat(5000)}${']'.repeat(5000)} }`, 'steps: [{ id: a, agent: worker }]');
    const err = expectWorkflowError(() => load(flow), 'WORKFLOW_INVALID', 'nesting is deeper than 32 levels');
    expect(err.details?.yamlCode).toBe('CONTRACT_TOO_LARGE');
    const block = doc('types:', ...Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`), 'steps: [{ id: a, agent: worker }]');
    expectWorkflowError(() => load(block), 'WORKFLOW_INVALID', 'nesting is deeper than 32 levels');
  });

  it('an alias bomb is refused', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    const text = doc('description: hi', 'types:', ...lines.map((l) => `  ${l}`), 'steps: [{ id: a, agent: worker }]');
    expectWorkflowError(() => load(text), 'WORKFLOW_INVALID', 'aliases expand beyond maxAliasCount');
  });

  it.each([
    ['__proto__ as a key', 'input: { __proto__: { polluted: string } }', '<inline>:4:10: input.__proto__: key "__proto__" is forbidden'],
    ['constructor as a key', 'types: { constructor: string }', 'key "constructor" is forbidden'],
    ['a duplicate key', 'input: { a: string, a: number }', '<inline>:4:21: input.a: duplicate key "a"'],
    ['a custom tag', 'input: { a: !!js/function "x" }', 'YAML'],
  ])('%s is refused at its position', (_what, line, fragment) => {
    expectWorkflowError(() => load(doc(line, 'steps: [{ id: a, agent: worker }]')), 'WORKFLOW_INVALID', fragment);
  });

  it.each([
    ['two documents', `${doc('steps: [{ id: a, agent: worker }]')}---\n${doc('steps: [{ id: b, agent: worker }]')}`, 'holds 2 YAML documents; a workflow is exactly one'],
    ['a list', '- a\n- b\n', 'the document must be a mapping, got a list'],
    ['nothing', '', 'is empty; expected a workflow mapping'],
    ['a syntax error', 'name: [unclosed\n', 'YAML'],
    ['binary data', 'name: a\u0000b\n', 'control character U+0000'],
    ['steps as a string', doc('steps: everything'), 'steps: must be a list'],
    ['a step that is a list', doc('steps: [[a]]'), 'steps[0]: a step must be a mapping'],
  ])('%s is refused', (_what, text, fragment) => {
    expectWorkflowError(() => load(text), 'WORKFLOW_INVALID', fragment);
  });

  it('a condition far too long is refused', () => {
    expectWorkflowError(() => load(doc('steps:', '  - { id: a, agent: worker, when: "x == 1' + ' '.repeat(2000) + '" }')), 'WORKFLOW_INVALID', 'steps[0].when');
  });

  it('loop bodies nested past the depth limit are refused', () => {
    let step = '{ id: a, agent: worker }';
    for (let i = 0; i < 20; i++) step = `{ id: l${i}, type: loop, max_iterations: 1, until: "x == 1", body: { steps: [${step}] } }`;
    expectWorkflowError(() => load(doc(`steps: [${step}]`)), 'WORKFLOW_INVALID', 'nesting is deeper than 32 levels');
  });
});

describe('hostile TypeScript objects', () => {
  const base = { name: 'wf', steps: [{ id: 'a', agent: 'worker' }] };

  it('an own __proto__ key (as JSON.parse makes) is refused', () => {
    const spec = JSON.parse('{"name":"wf","steps":[{"id":"a","agent":"worker","with":{"__proto__":{"polluted":1}}}]}') as WorkflowSpec;
    expectWorkflowError(() => defineWorkflow(spec, options()), 'WORKFLOW_INVALID', '<object>: steps[0].with.__proto__: key "__proto__" is forbidden');
  });

  it.each([
    ['a function', { ...base, description: () => 'x' }, 'description: must be plain data, got a function'],
    ['a class instance', { ...base, types: { A: new Date(0) } }, 'types.A: must be a plain mapping'],
    ['NaN in a constant', { ...base, steps: [{ id: 'a', agent: 'worker', in: { n: 'any' }, with: { n: Number.NaN } }] }, 'not JSON data'],
    ['not an object at all', null, 'a workflow must be an object'],
  ])('%s is refused', (_what, spec, fragment) => {
    expectWorkflowError(() => defineWorkflow(spec as unknown as WorkflowSpec, options()), 'WORKFLOW_INVALID', fragment);
  });

  it('a cyclic object is refused, not looped over', () => {
    const spec: Record<string, unknown> = { ...base };
    spec.types = { A: spec };
    expectWorkflowError(() => defineWorkflow(spec as unknown as WorkflowSpec, options()), 'WORKFLOW_INVALID', 'nesting is deeper than 32 levels (or cyclic)');
  });

  it('a lookup that throws leaves as a WorkflowError with the cause kept', () => {
    const boom = new Error('registry down');
    const err = expectWorkflowError(() => defineWorkflow(base, options({ agents: () => { throw boom; } })), 'WORKFLOW_INVALID', 'cannot be processed (Error: registry down)');
    expect(err.cause).toBe(boom);
  });
});
