// Properties of the step graph over random DAGs (and random graphs with cycles):
// accepted iff acyclic, the IR's step order topological, a reported cycle made of
// real `needs` edges, the deadline check exact, and binding taking the nearest source.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineWorkflow } from '../../../src/services/workflow/define.js';
import { WorkflowError } from '../../../src/services/workflow/errors.js';
import { findCycle, longestPath, topologicalOrder } from '../../../src/services/workflow/graph.js';
import type { AgentStepSpec, WorkflowSpec } from '../../../src/services/workflow/spec.js';
import { options } from './definition-helpers.js';

/** n nodes; needs[i] is any subset of all nodes (self included), so cycles happen. */
const anyGraph = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.array(fc.subarray([...Array(n).keys()]), { minLength: n, maxLength: n }));

/** Only edges to earlier nodes: always acyclic. The list order is then shuffled. */
const dag = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.tuple(
    fc.tuple(...[...Array(n).keys()].map((i) => fc.subarray([...Array(i).keys()]))),
    fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
  ));

const id = (i: number) => `s${i}`;

function acyclic(needs: number[][]): boolean {
  const left = new Set(needs.keys());
  for (let progress = true; progress;) {
    progress = false;
    for (const i of left) {
      if ((needs[i] as number[]).every((j) => !left.has(j))) {
        left.delete(i);
        progress = true;
      }
    }
  }
  return left.size === 0;
}

const specOf = (needs: number[][], order = [...needs.keys()], extra: (i: number) => Partial<AgentStepSpec> = () => ({})): WorkflowSpec & { steps: AgentStepSpec[] } =>
  ({ name: 'g', steps: order.map((i) => ({ id: id(i), agent: 'worker', needs: (needs[i] as number[]).map(id), ...extra(i) })) });

describe('random step graphs', () => {
  it('are accepted iff acyclic; the IR lists each step after everything it needs', () => {
    fc.assert(fc.property(anyGraph, (needs) => {
      let def;
      try {
        def = defineWorkflow(specOf(needs), options());
      } catch (err) {
        expect(err).toBeInstanceOf(WorkflowError);
        expect((err as WorkflowError).code).toBe('WORKFLOW_CYCLE');
        expect(acyclic(needs)).toBe(false);
        // The named cycle is made of real edges and closes on itself.
        const named = /cycle: (.*) \(each needs the next\)/.exec((err as WorkflowError).message)?.[1]?.split(' → ') ?? [];
        expect(named.length).toBeGreaterThanOrEqual(2);
        expect(named[0]).toBe(named[named.length - 1]);
        for (let k = 0; k + 1 < named.length; k++) expect(needs[Number(named[k]?.slice(1))]).toContain(Number(named[k + 1]?.slice(1)));
        return;
      }
      expect(acyclic(needs)).toBe(true);
      const position = new Map(def.steps.map((s, k) => [s.id, k]));
      expect([...position.keys()].sort()).toEqual(needs.map((_, i) => id(i)).sort());
      for (const step of def.steps) for (const d of step.needs) expect(position.get(d)).toBeLessThan(position.get(step.id) as number);
    }), { numRuns: 300 });
  });

  it('findCycle and topologicalOrder agree with a reference on any graph', () => {
    fc.assert(fc.property(anyGraph, (needs) => {
      const nodes = needs.map((n, i) => ({ id: id(i), needs: n.map(id) }));
      const cycle = findCycle(nodes);
      expect(cycle === undefined).toBe(acyclic(needs));
      if (cycle) return;
      const order = topologicalOrder(nodes);
      for (const [k, s] of order.entries()) for (const d of nodes.find((n) => n.id === s)?.needs ?? []) expect(order.indexOf(d)).toBeLessThan(k);
    }), { numRuns: 500 });
  });

  it('the deadline holds exactly at the heaviest path of step timeouts', () => {
    const weighted = dag.chain(([needs, order]) => fc.tuple(fc.constant(needs as number[][]), fc.constant(order), fc.array(fc.integer({ min: 2, max: 1000 }), { minLength: needs.length, maxLength: needs.length })));
    fc.assert(fc.property(weighted, ([needs, order, ms]) => {
      const memo = new Map<number, number>();
      const heaviest = (i: number): number => memo.get(i) ?? (memo.set(i, (ms[i] as number) + Math.max(0, ...(needs[i] as number[]).map(heaviest))), memo.get(i) as number);
      const total = Math.max(...needs.map((_, i) => heaviest(i)));
      const spec = (deadline: number) => ({ ...specOf(needs, order, (i) => ({ timeout_ms: ms[i] })), deadline_ms: deadline });
      expect(() => defineWorkflow(spec(total), options())).not.toThrow();
      expect(() => defineWorkflow(spec(total - 1), options())).toThrow(expect.objectContaining({ code: 'WORKFLOW_UNSCHEDULABLE', message: expect.stringContaining(`takes ${total} ms`) }));
      const nodes = needs.map((n, i) => ({ id: id(i), needs: n.map(id) }));
      const path = longestPath(topologicalOrder(nodes).map((s) => nodes.find((n) => n.id === s)!), (s) => ms[Number(s.slice(1))] as number);
      expect(path.path.reduce((sum, s) => sum + (ms[Number(s.slice(1))] as number), 0)).toBe(total);
    }), { numRuns: 200 });
  });

  it('an input binds to the nearest upstream step offering it; a tie is an error; none falls back to the run input', () => {
    const graph = dag.chain(([needs, order]) => fc.tuple(
      fc.constant(needs as number[][]), fc.constant(order),
      fc.subarray([...needs.keys()]), // which steps output x
      fc.subarray([...needs.keys()], { minLength: 1 }), // what the final step needs
    ));
    fc.assert(fc.property(graph, ([needs, order, offering, last]) => {
      // Reference: breadth-first distance from the final step along needs.
      const dist = new Map<number, number>();
      let frontier = last;
      for (let d = 1; frontier.length > 0; d++) {
        frontier = frontier.filter((i) => !dist.has(i));
        for (const i of frontier) dist.set(i, d);
        frontier = [...new Set(frontier.flatMap((i) => needs[i] as number[]))];
      }
      const near = Math.min(...offering.filter((i) => dist.has(i)).map((i) => dist.get(i) as number));
      const best = offering.filter((i) => dist.get(i) === near);
      const spec = specOf(needs, order, (i) => (offering.includes(i) ? { out: { x: 'string' } } : {}));
      spec.steps.push({ id: 'final', agent: 'worker', needs: last.map(id), in: { x: 'string' } });
      const run = () => defineWorkflow({ ...spec, input: { x: 'string' } }, options());
      if (best.length > 1) {
        expect(run).toThrow(expect.objectContaining({ code: 'WORKFLOW_UNBOUND_INPUT', message: expect.stringContaining('equally near') }));
        return;
      }
      const bind = run().steps.find((s) => s.id === 'final')?.bind;
      expect(bind).toEqual({ x: best.length === 1 ? { from: 'step', step: id(best[0] as number), field: 'x' } : { from: 'input', field: 'x' } });
    }), { numRuns: 300 });
  });
});
