// Every validation rule, each with a failing workflow and the code, field,
// line and step its error names (doc() puts the first given line at line 4).
import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../../../src/services/workflow/define.js';
import { parseWorkflow } from '../../../src/services/workflow/parse.js';
import type { AgentStep, LoopStep, SubWorkflowStep, WorkflowDefinition } from '../../../src/services/workflow/types.js';
import { codesOf, doc, expectWorkflowError, options } from './definition-helpers.js';

const load = (text: string, extra = {}) => parseWorkflow(text, options(extra));

describe('agents, tools and sub-workflows must exist', () => {
  it('an unknown agent', () => {
    const err = expectWorkflowError(() => load(doc('steps:', '  - id: plan', '    agent: planer')), 'WORKFLOW_UNKNOWN_AGENT',
      '<inline>:6:5: steps[0].agent: step "plan": unknown agent "planer"');
    expect(err.field).toBe('steps[0].agent');
  });

  it('an unknown tool in consent_for (wildcards are not looked up)', () => {
    const text = doc('steps:', '  - id: ok', '    type: HITL_approval', '    policy: { consent_for: [email.send, web.*, sms.send] }');
    expectWorkflowError(() => load(text), 'WORKFLOW_UNKNOWN_TOOL', '<inline>:7:48: steps[0].policy.consent_for[2]: step "ok": consent_for names "sms.send"');
    expect(() => load(text, { tools: undefined })).not.toThrow();
  });

  const sub = parseWorkflow(doc('input: { q: string }', 'steps:', '  - id: s', '    agent: planner', '    in: { q: string }', '    out: { a: string, n: integer }',
    'output: { answer: s.a, count: s.n }').replace('name: wf', 'name: research'), options());
  const registry = (...defs: WorkflowDefinition[]) => (name: string) => defs.find((d) => d.name === name);

  it('a sub-workflow step takes the registered workflow\'s input and output when it declares neither', () => {
    const def = load(doc('input: { q: string }', 'steps:', '  - id: r', '    workflow: research', '  - id: use', '    agent: worker', '    in: { answer: string, count: number }'),
      { workflows: registry(sub) });
    const r = def.steps[0] as SubWorkflowStep;
    expect(r).toMatchObject({ type: 'workflow', workflow: 'research', in: sub.input, bind: { q: { from: 'input', field: 'q' } } });
    expect(def.steps[1]?.bind).toEqual({ answer: { from: 'step', step: 'r', field: 'answer' }, count: { from: 'step', step: 'r', field: 'count' } });
  });

  it('an unknown sub-workflow', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: r', '    workflow: research')), 'WORKFLOW_UNKNOWN_WORKFLOW', '<inline>:6:5: steps[0].workflow: step "r": unknown workflow "research"');
  });

  it('a workflow including itself, directly or through a registered one', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: r', '    workflow: wf')), 'WORKFLOW_UNKNOWN_WORKFLOW', 'steps[0].workflow: step "r": workflow "wf" includes itself (wf → wf)');
    const outer = { ...sub, name: 'outer', steps: [{ ...sub.steps[0], id: 'w', type: 'workflow', workflow: 'wf' } as SubWorkflowStep] };
    expectWorkflowError(() => load(doc('steps:', '  - id: r', '    workflow: outer'), { workflows: registry(outer) }), 'WORKFLOW_UNKNOWN_WORKFLOW',
      'workflow "outer" includes this workflow again (wf → outer → wf)');
  });

  it('a sub-workflow step whose in or out does not fit the workflow\'s', () => {
    const text = doc('input: { q: number }', 'steps:', '  - id: r', '    workflow: research', '    in: { q: number }', '    out: { answer: number }');
    const err = expectWorkflowError(() => load(text, { workflows: registry(sub) }), 'WORKFLOW_TYPE_MISMATCH',
      '<inline>:8:5: steps[0].in: step "r": in ({q: number}) does not fit the input of workflow "research" ({q: string})',
      '<inline>:9:5: steps[0].out: step "r": the output of workflow "research"');
    expect(codesOf(err)).toEqual(['WORKFLOW_TYPE_MISMATCH', 'WORKFLOW_TYPE_MISMATCH']);
  });
});

describe('the step graph', () => {
  it('duplicate step ids', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '  - id: a', '    agent: worker')), 'WORKFLOW_DUPLICATE_STEP',
      '<inline>:7:5: steps[1].id: step id "a" is used twice');
  });

  it('needs naming an unknown step', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    needs: [b]')), 'WORKFLOW_UNKNOWN_STEP',
      '<inline>:7:13: steps[0].needs[0]: step "a" needs "b", which is not a step of this workflow');
  });

  it('a cycle, named step by step', () => {
    const text = doc('steps:', '  - id: a', '    agent: worker', '    needs: [c]', '  - id: b', '    agent: worker', '  - id: c', '    agent: worker');
    expectWorkflowError(() => load(text), 'WORKFLOW_CYCLE', '<inline>:7:5: steps[0].needs: steps wait on each other in a cycle: a → c → b → a');
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    needs: [a]')), 'WORKFLOW_CYCLE', 'a → a');
  });

  it('the default is a sequence; needs: [] starts a parallel branch', () => {
    const def = load(doc('steps:', '  - { id: a, agent: worker }', '  - { id: b, agent: worker }', '  - { id: c, agent: worker, needs: [] }', '  - { id: d, agent: worker, needs: [b, c] }'));
    expect(def.steps.map((s) => [s.id, s.needs])).toEqual([['a', []], ['b', ['a']], ['c', []], ['d', ['b', 'c']]]);
  });

  it('"input" is not a step id', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: input', '    agent: worker')), 'WORKFLOW_INVALID', 'steps[0].id: "input" is reserved');
  });
});

describe('binding', () => {
  it('an input with no source', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    in: { topic: string }')), 'WORKFLOW_UNBOUND_INPUT',
      '<inline>:7:11: steps[0].in.topic: step "a": input "topic" has no source');
  });

  it('an optional input with no source is left unbound', () => {
    expect(load(doc('steps:', '  - id: a', '    agent: worker', '    in: { topic: "string?" }')).steps[0]?.bind).toEqual({});
  });

  it('the nearest upstream step wins over farther ones and over the input', () => {
    const def = load(doc('input: { x: string }', 'steps:', '  - { id: a, agent: worker, out: { x: string } }', '  - { id: b, agent: worker, out: { x: string } }',
      '  - { id: c, agent: worker, in: { x: string } }'));
    expect(def.steps[2]?.bind).toEqual({ x: { from: 'step', step: 'b', field: 'x' } });
  });

  it('two equally near upstream steps offering a field is ambiguous, and from: settles it', () => {
    const lines = ['steps:', '  - { id: a, agent: worker, needs: [], out: { v: string } }', '  - { id: b, agent: worker, needs: [], out: { v: string } }',
      '  - id: c', '    agent: worker', '    needs: [a, b]', '    in: { v: string }'];
    expectWorkflowError(() => load(doc(...lines)), 'WORKFLOW_UNBOUND_INPUT',
      '<inline>:10:11: steps[2].in.v: step "c": input "v" is offered by a.v and b.v, equally near; say which with from: { v: a.v }');
    expect(load(doc(...lines, '    from: { v: b.v }')).steps[2]?.bind).toEqual({ v: { from: 'step', step: 'b', field: 'v' } });
  });

  it('with: gives constants, checked against the field type', () => {
    const def = load(doc('steps:', '  - id: a', '    agent: worker', '    in: { n: integer, tags: "string[]" }', '    with: { n: 3, tags: [x, y] }'));
    expect(def.steps[0]?.bind).toEqual({ n: { from: 'value', value: 3 }, tags: { from: 'value', value: ['x', 'y'] } });
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    in: { n: integer }', '    with: { n: 2.5 }')), 'WORKFLOW_TYPE_MISMATCH',
      '<inline>:8:13: steps[0].with.n: step "a": input "n" expects integer; the constant given does not fit');
  });

  it.each([
    ['a step that does not exist', 'from: { x: zz.x }', 'WORKFLOW_UNKNOWN_STEP', 'steps[1].from.x: step "b": input "x": "zz.x" names step "zz", which does not exist'],
    ['a step that is not upstream', 'from: { x: c.x }', 'WORKFLOW_UNKNOWN_STEP', '"c.x" names step "c", which is not upstream (add it to needs)'],
    ['a field the step does not output', 'from: { x: a.y }', 'WORKFLOW_UNBOUND_INPUT', 'step "a" has no output "y"'],
    ['a field the input lacks', 'from: { x: input.y }', 'WORKFLOW_UNBOUND_INPUT', 'the workflow input has no field "y"'],
    ['a field not among the inputs', 'from: { x: a.x, q: a.x }', 'WORKFLOW_INVALID', 'steps[1].from.q: step "b": "q" is not among the step\'s inputs'],
    ['both from and with', 'from: { x: a.x }\n    with: { x: hi }', 'WORKFLOW_INVALID', 'input "x" is given both from: and with:'],
  ])('from: naming %s', (_what, line, code, fragment) => {
    const text = doc('input: { x: string }', 'steps:', '  - { id: a, agent: worker, out: { x: string } }', '  - id: b', '    agent: worker', '    in: { x: string }', `    ${line}`,
      '  - { id: c, agent: worker, out: { x: string } }');
    expectWorkflowError(() => load(text), code, fragment);
  });

  it('an approval gate passes nothing downstream and may not declare out', () => {
    const gate = ['  - id: ok', '    type: HITL_approval', '    in: { x: string }'];
    const text = doc('steps:', '  - { id: a, agent: worker, out: { x: string } }', ...gate, '  - { id: b, agent: worker, in: { x: string } }');
    expect(load(text).steps[2]?.bind).toEqual({ x: { from: 'step', step: 'a', field: 'x' } });
    expectWorkflowError(() => load(doc('input: { x: string }', 'steps:', ...gate, '    out: { y: string }')), 'WORKFLOW_INVALID', '<inline>:9:5: steps[0].out: step "ok": an approval gate outputs nothing');
  });

  it('output names steps and fields that exist', () => {
    const steps = ['steps:', '  - { id: a, agent: worker, out: { x: string } }'];
    expectWorkflowError(() => load(doc(...steps, 'output: { r: b.x }')), 'WORKFLOW_UNKNOWN_STEP', '<inline>:6:11: output.r: output "r": "b.x" names step "b", which does not exist');
    expectWorkflowError(() => load(doc(...steps, 'output: { r: a.y }')), 'WORKFLOW_UNBOUND_INPUT', 'output.r: output "r": step "a" has no output "y"');
  });
});

describe('types', () => {
  const bound = (outType: string, inType: string, types = '') =>
    doc(...(types ? [`types: ${types}`] : []), 'steps:', `  - { id: a, agent: worker, out: { v: ${JSON.stringify(outType)} } }`, `  - { id: b, agent: worker, in: { v: ${JSON.stringify(inType)} } }`);
  const OBJ = '{ P: { type: object, properties: { url: { type: string }, n: { type: integer } }, required: [url] }, Q: { type: object, properties: { url: { type: string } }, required: [url] }, R: { type: object, properties: { url: { type: string }, n: { type: integer } }, required: [url, n] }, E: { enum: [a, b] }, F: { enum: [a, b, c] } }';

  it.each([
    ['string', 'string'], ['integer', 'number'], ['any', 'integer'], ['string', 'any'], ['integer[]', 'number[]'], ['string[][]', 'any[]'],
    ['P', 'P'], ['P', 'Q'], ['P[]', 'Q[]'], ['E', 'F'], ['E', 'string'],
  ])('%s fits %s', (from, to) => {
    expect(() => load(bound(from, to, OBJ))).not.toThrow();
  });

  it.each([
    ['string', 'number', 'expects number but a.v is string'], ['number', 'integer', 'number does not fit integer'], ['string[]', 'string', 'string[] does not fit string'],
    ['number[]', 'integer[]', 'items: number does not fit integer'], ['Q', 'R', 'Q does not fit R: property "n" is required but missing'], ['object', 'Q', 'property "url" is required but missing'],
    ['F', 'E', '"c" is not allowed'], ['string', 'E', 'expects E but a.v is string (string does not fit E)'], ['string?', 'string', 'its source a.v is optional (may be absent)'],
  ])('%s does not fit %s', (from, to, fragment) => {
    const err = expectWorkflowError(() => load(bound(from, to, OBJ)), 'WORKFLOW_TYPE_MISMATCH', `steps[1].in.v: step "b": input "v"`, fragment);
    expect(err.details?.line).toBe(7);
  });

  it('P with a wrongly typed optional property does not fit', () => {
    const types = '{ A: { type: object, properties: { n: { type: string } } }, B: { type: object, properties: { n: { type: number } } } }';
    expectWorkflowError(() => load(bound('A', 'B', types)), 'WORKFLOW_TYPE_MISMATCH', 'n: string does not fit number');
  });

  it('an unknown type name', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    out: { c: "Citation[]" }')), 'WORKFLOW_UNKNOWN_TYPE',
      '<inline>:7:12: steps[0].out.c: step "a": out: field "c": unknown type "Citation"');
  });

  it.each([
    ['a malformed expression', 'types: { A: "string[" }', 'types.A: type "A": cannot read the type "string["'],
    ['a type defined in terms of itself', 'types: { A: "B[]", B: "A" }', 'type "A" is defined in terms of itself'],
    ['a redefined built-in', 'types: { string: { type: number } }', '"string" is a built-in type'],
    ['an invalid inline JSON Schema', 'types: { A: { type: strnig } }', 'types.A: type "A": is not a valid JSON Schema'],
    ['? outside a field', 'types: { A: "string?" }', '"?" marks an optional field'],
    ['a pattern that is not a regular expression', 'types: { A: { type: string, pattern: "(" } }', 'Invalid regular expression'],
    ['a $ref that does not resolve', 'types: { A: { $ref: "#/nope" } }', 'can\'t resolve reference #/nope'],
  ])('%s', (_what, types, fragment) => {
    expectWorkflowError(() => load(doc(types, 'steps: [{ id: a, agent: worker }]')), 'WORKFLOW_INVALID', fragment);
  });

  it('named types may build on each other and compile to JSON Schema', () => {
    const def = load(doc('types: { Id: string, Ids: "Id[]" }', 'input: { ids: Ids, note: "string?", meta: { type: object } }', 'steps: [{ id: a, agent: worker }]'));
    expect(def.input).toEqual({
      type: 'object', additionalProperties: true, required: ['ids', 'meta'],
      properties: { ids: { title: 'Ids', type: 'array', items: { title: 'Id', type: 'string' } }, note: { type: 'string' }, meta: { type: 'object' } },
    });
  });
});

describe('latency classes and the deadline', () => {
  it.each([
    ['an HRT agent (contract object)', 'robot', '', 'steps[0].agent'],
    ['an HRT agent (contract YAML text)', 'yamlrobot', '', 'steps[0].agent'],
    ['an HRT step contract', 'worker', '    contract: { class: { latency: HRT, slo: { period_ms: 5, deadline_ms: 5, wcet_ms: 1 } } }', 'steps[0].contract'],
  ])('refuses %s as a workflow step', (_what, agent, extra, field) => {
    const err = expectWorkflowError(() => load(doc('steps:', '  - id: a', `    agent: ${agent}`, ...(extra ? [extra] : []))), 'WORKFLOW_UNSCHEDULABLE',
      `step "a": agent "${agent}" is HRT`);
    expect(err.field).toBe(field);
  });

  it('an invalid inline contract layer is named field by field', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    contract: { class: { latency: SRT, slo: { onset_ms: 1 } }, capabilites: [] }')), 'WORKFLOW_INVALID',
      'steps[0].contract.class.slo.turn_ms: step "a": contract: is required', 'steps[0].contract.capabilites: step "a": contract: unknown field (did you mean "capabilities"?)');
  });

  // summariser: SRT turn 5 s; batch: DT completion 120 s; worker: no class, timeout 30 s (or timeout_ms); gates: 0.
  const chain = ['steps:', '  - { id: s, agent: summariser }', '  - { id: g, type: HITL_approval }', '  - { id: b, agent: batch }', '  - { id: w, agent: worker, needs: [s] }', '  - { id: t, agent: worker, timeout_ms: 1000, needs: [b, w] }'];

  it('the critical path of SLOs fits the deadline, or is named with its sum', () => {
    expect(load(doc('deadline_ms: 126000', ...chain)).deadlineMs).toBe(126000);
    expectWorkflowError(() => load(doc('deadline_ms: 125999', ...chain)), 'WORKFLOW_UNSCHEDULABLE',
      '<inline>:4:1: deadline_ms: the critical path takes 126000 ms (s 5000 ms → g 0 ms → b 120000 ms → t 1000 ms) but deadline_ms is 125999');
  });

  it('a loop counts max_iterations times its body', () => {
    const loop = ['steps:', '  - id: l', '    type: loop', '    max_iterations: 3', '    until: "done == true"', '    body:', '      steps: [{ id: s, agent: summariser, out: { done: boolean } }]', '      output: { done: s.done }'];
    expect(() => load(doc('deadline_ms: 15000', ...loop))).not.toThrow();
    expectWorkflowError(() => load(doc('deadline_ms: 14999', ...loop)), 'WORKFLOW_UNSCHEDULABLE', 'takes 15000 ms (l 15000 ms)');
  });
});

describe('step options', () => {
  it('retries need an idempotent step', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    retry: { attempts: 2 }')), 'WORKFLOW_INVALID',
      '<inline>:7:14: steps[0].retry.attempts: step "a": retry.attempts is 2 but the step is not idempotent');
  });

  it('unknown fields are named with a suggestion; wrong types and values are named', () => {
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    idempotnt: true')), 'WORKFLOW_INVALID', '<inline>:7:5: steps[0].idempotnt: unknown field (did you mean "idempotent"?)');
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    agent: worker', '    mode: batch')), 'WORKFLOW_INVALID', 'steps[0].mode: must be one of service, instance (got "batch")');
    expectWorkflowError(() => load(doc('steps:', '  - id: a.b', '    agent: worker')), 'WORKFLOW_INVALID', 'steps[0].id: a step id must match');
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    type: robot')), 'WORKFLOW_INVALID', '<inline>:6:5: steps[0].type: unknown step type "robot"');
    expectWorkflowError(() => load(doc('steps:', '  - id: a')), 'WORKFLOW_INVALID', '<inline>:5:5: steps[0]: type is required');
    expectWorkflowError(() => load(doc('steps:', '  - id: a', '    type: HITL_approval', '    agent: x')), 'WORKFLOW_INVALID', 'steps[0].agent: unknown field');
  });

  it('the header must say agentos/v0.2 Workflow', () => {
    expectWorkflowError(() => load('apiVersion: agentos/v0.1\nkind: Workflow\nname: wf\nsteps: [{ id: a, agent: worker }]\n'), 'WORKFLOW_INVALID', '<inline>:1:1: apiVersion: must be "agentos/v0.2"');
    expectWorkflowError(() => load('apiVersion: agentos/v0.2\nkind: AgentContract\nname: wf\nsteps: [{ id: a, agent: worker }]\n'), 'WORKFLOW_INVALID', 'kind: must be "Workflow"');
  });
});

describe('conditions', () => {
  const step = (when: string) => doc('input: { score: number, status: { enum: [open, done] } }', 'steps:', '  - id: a', '    agent: worker', '    in: { score: number, status: { enum: [open, done] } }', `    when: ${JSON.stringify(when)}`);

  it('parse into the IR', () => {
    expect(load(step("status == 'done'")).steps[0]?.when).toEqual({ field: 'status', op: '==', value: 'done', text: "status == 'done'" });
  });

  it.each([
    ['score >> 1', 'WORKFLOW_INVALID', 'when expected a literal'],
    ['grade > 1', 'WORKFLOW_INVALID', '"grade > 1" reads "grade", which is not among the step\'s inputs (score, status)'],
    ['score > "x"', 'WORKFLOW_TYPE_MISMATCH', 'orders "score" (number) against a string'],
    ["status == 'dnoe'", 'WORKFLOW_TYPE_MISMATCH', 'compares "status" with a value its type can never hold'],
  ])('when %j is refused', (when, code, fragment) => {
    expectWorkflowError(() => load(step(when)), code, '<inline>:9:5: steps[0].when: step "a": ', fragment);
  });

  it('until reads the body output', () => {
    const loop = (until: string) => doc('input: { draft: string }', 'steps:', '  - id: refine', '    type: loop', '    max_iterations: 5', `    until: ${JSON.stringify(until)}`,
      '    in: { draft: string }', '    body:', '      steps:', '        - { id: edit, agent: worker, in: { draft: string, iteration: integer }, out: { draft: string, score: number } }',
      '      output: { draft: edit.draft, score: edit.score }');
    const def = load(loop('score >= 0.9'));
    const step = def.steps[0] as LoopStep;
    expect(step).toMatchObject({ type: 'loop', maxIterations: 5, until: { field: 'score', op: '>=', value: 0.9 } });
    expect(step.out.properties).toEqual({ draft: { type: 'string' }, score: { type: 'number' } });
    expect(step.body.name).toBe('wf.refine');
    expect(step.body.steps[0]?.bind).toEqual({ draft: { from: 'input', field: 'draft' }, iteration: { from: 'input', field: 'iteration' } });
    expectWorkflowError(() => load(loop('grade > 1')), 'WORKFLOW_INVALID', '<inline>:9:5: steps[0].until: step "refine": until "grade > 1" reads "grade", which is not among the body\'s output fields (draft, score)');
  });
});

describe('loops', () => {
  const loop = (...extra: string[]) => doc('steps:', '  - id: l', '    type: loop', '    max_iterations: 2', '    until: "n > 3"', ...extra,
    '    body:', '      steps:', '        - { id: inner, agent: worker, out: { n: integer } }', '      output: { n: inner.n }');

  it('body problems are named with the loop step and the body path', () => {
    const text = loop().replace('agent: worker', 'agent: ghost');
    expectWorkflowError(() => load(text), 'WORKFLOW_UNKNOWN_AGENT', '<inline>:11:24: steps[0].body.steps[0].agent: step "l.inner": unknown agent "ghost"');
  });

  it('"iteration" is the loop\'s own input to the body', () => {
    expectWorkflowError(() => load(loop('    in: { iteration: integer }')), 'WORKFLOW_INVALID', 'steps[0].in.iteration: step "l": "iteration" is given to the body by the loop');
  });

  it('a declared out must be what the body gives', () => {
    expectWorkflowError(() => load(loop('    out: { n: string }')), 'WORKFLOW_TYPE_MISMATCH', 'steps[0].out: step "l": the body\'s output ({n: integer}) does not fit out ({n: string})');
  });

  it('max_iterations is required and at least 1', () => {
    expectWorkflowError(() => load(loop().replace('    max_iterations: 2\n', '')), 'WORKFLOW_INVALID', 'steps[0].max_iterations: is required');
    expectWorkflowError(() => load(loop().replace('max_iterations: 2', 'max_iterations: 0')), 'WORKFLOW_INVALID', 'steps[0].max_iterations: must be >= 1');
  });
});

describe('all problems at once', () => {
  it('are collected; from TypeScript, the first found leads', () => {
    const err = expectWorkflowError(() => defineWorkflow({
      name: 'wf',
      steps: [
        { id: 'a', agent: 'ghost', in: { x: 'Nope' } },
        { id: 'a', agent: 'robot', needs: ['zz'], retry: { attempts: 3 } },
        { id: 'b', type: 'HITL_approval', policy: { consent_for: ['rockets.launch'] } },
      ],
    }, options()), 'WORKFLOW_UNKNOWN_TYPE', '<object>: steps[0].in.x: step "a": in: field "x": unknown type "Nope"');
    expect(codesOf(err).sort()).toEqual([
      'WORKFLOW_DUPLICATE_STEP', 'WORKFLOW_INVALID', 'WORKFLOW_UNBOUND_INPUT', 'WORKFLOW_UNKNOWN_AGENT', 'WORKFLOW_UNKNOWN_STEP', 'WORKFLOW_UNKNOWN_TOOL',
      'WORKFLOW_UNKNOWN_TYPE', 'WORKFLOW_UNSCHEDULABLE',
    ]);
  });

  it('a TypeScript workflow gets the defaults too', () => {
    const def = defineWorkflow({ name: 'ts', steps: [{ id: 'a', agent: 'worker', out: { n: 'integer' } }], output: { n: 'a.n' } }, options());
    expect(def).toMatchObject({ version: '1', steps: [{ type: 'agent', binding: 'strict', timeoutMs: 30000 }] });
    expect((def.steps[0] as AgentStep).retry.attempts).toBe(1);
  });
});
