// The statechart's pure half (ui/machine-graph.js): XState definitions → ELK
// graphs → layouts, active state ids, taken edges. Run in Node with the same
// bundled elkjs the page loads.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMachine, type AnyStateMachine } from 'xstate';

// A plain browser module without type declarations: imported through a variable so tsc takes it as `any`.
const modulePath = '../../src/services/inspector/ui/machine-graph.js';
const mg: any = await import(/* @vite-ignore */ modulePath);
const ELK = createRequire(import.meta.url)('elkjs/lib/elk.bundled.js');

/** What the server sends: the definition through JSON. */
const wire = (m: AnyStateMachine): any => JSON.parse(JSON.stringify(m.toJSON()));
const measure = (text: string): number => text.length * 7;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Every laid-out node by id, with its parent's id. */
function boxes(layout: any): Map<string, Box & { parent: string | null }> {
  const out = new Map<string, Box & { parent: string | null }>();
  const walk = (n: any, parent: string | null): void => {
    out.set(n.id, { x: n.x, y: n.y, width: n.width, height: n.height, parent });
    for (const c of n.children ?? []) walk(c, n.id);
  };
  for (const c of layout.children ?? []) walk(c, null);
  return out;
}

const inside = (a: Box, b: Box): boolean => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.width <= b.x + b.width + 0.5 && a.y + a.height <= b.y + b.height + 0.5;

describe('machine graph', () => {
  const m = createMachine({
    id: 'm',
    initial: 'a',
    on: { RESET: '.a', PING: {} },
    states: {
      a: { on: { GO: 'b.x', SELF: 'a' }, after: { 1000: 'b' } },
      b: { initial: 'x', on: { BACK: 'a' }, states: { x: { on: { N: 'y' } }, y: { type: 'final' } } },
      p: { type: 'parallel', states: { r1: { initial: 'q', states: { q: { on: { Z: '#m.p.r2.z' } } } }, r2: { initial: 'z', states: { z: {} } } } },
    },
  });

  it('has one state per state node, an edge per target, and targetless events listed in their state', () => {
    const g = mg.machineGraph(wire(m));
    expect([...g.states.keys()].sort()).toEqual(['m', 'm.a', 'm.b', 'm.b.x', 'm.b.y', 'm.p', 'm.p.r1', 'm.p.r1.q', 'm.p.r2', 'm.p.r2.z']);
    const edges = g.edges.map((e: any) => `${e.source} -${e.label}-> ${e.target}`).sort();
    expect(edges).toEqual(['m -RESET-> m.a', 'm.a -GO-> m.b.x', 'm.a -SELF-> m.a', 'm.a -after 1000 ms-> m.b', 'm.b -BACK-> m.a', 'm.b.x -N-> m.b.y', 'm.p.r1.q -Z-> m.p.r2.z']);
    expect(g.states.get('m').internal).toEqual(['PING']);
    expect(g.states.get('m.b').initial).toBe('m.b.x');
    expect(g.states.get('m.p').type).toBe('parallel');
  });

  it('draws eventless transitions when the definition carries them (`always`)', () => {
    const def = wire(m);
    def.states.b.states.y.always = [{ target: ['#m.a'], source: '#m.b.y', actions: [], eventType: '' }];
    const g = mg.machineGraph(def);
    expect(g.edges.filter((e: any) => e.source === 'm.b.y').map((e: any) => `${e.label} ${e.target}`)).toEqual(['always m.a']);
  });

  it('names XState internal events readably', () => {
    expect(mg.eventLabel('xstate.after.250.m.a')).toBe('after 250 ms');
    expect(mg.eventLabel('xstate.done.actor.fetch')).toBe('done: fetch');
    expect(mg.eventLabel('xstate.error.actor.fetch')).toBe('error: fetch');
    expect(mg.eventLabel('xstate.done.state.m.b')).toBe('done');
    expect(mg.eventLabel('order')).toBe('order');
  });

  it('activates the states a value names and their ancestors, parallel regions included', () => {
    const def = wire(m);
    expect([...mg.activeIds(def, 'a')].sort()).toEqual(['m', 'm.a']);
    expect([...mg.activeIds(def, { b: 'y' })].sort()).toEqual(['m', 'm.b', 'm.b.y']);
    expect([...mg.activeIds(def, { p: { r1: 'q', r2: 'z' } })].sort()).toEqual(['m', 'm.p', 'm.p.r1', 'm.p.r1.q', 'm.p.r2', 'm.p.r2.z']);
    expect([...mg.activeIds(def, 'nope')]).toEqual(['m']);
  });

  it('finds the edge a transition took from the states active before and after', () => {
    const def = wire(m);
    const g = mg.machineGraph(def);
    const taken = mg.takenEdges(g, 'GO', mg.activeIds(def, 'a'), mg.activeIds(def, { b: 'x' }));
    expect(taken.map((e: any) => `${e.source}->${e.target}`)).toEqual(['m.a->m.b.x']);
    expect(mg.takenEdges(g, 'GO', mg.activeIds(def, { b: 'x' }), mg.activeIds(def, { b: 'y' }))).toEqual([]);
    // Went on in the same step (N to the final y, then somewhere else): the first hop still shows.
    expect(mg.takenEdges(g, 'N', mg.activeIds(def, { b: 'x' }), mg.activeIds(def, 'a')).map((e: any) => e.id)).toEqual(g.edges.filter((e: any) => e.event === 'N').map((e: any) => e.id));
  });

  it('drops an edge to a state the definition does not describe instead of failing the layout', async () => {
    const def = wire(m);
    def.states.a.on.GO[0].target = ['#m.nowhere'];
    const g = mg.machineGraph(def);
    expect(g.edges.some((e: any) => e.target === 'm.nowhere')).toBe(false);
    await expect(new ELK().layout(mg.elkGraph(g, measure))).resolves.toBeTruthy();
  });

  // Random nested machines: the layout never fails, every state gets a box, every box sits inside its parent's.
  const stateTree: fc.Arbitrary<any> = fc.letrec((tie) => ({
    node: fc.record({ kids: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant([]), fc.array(tie('node'), { minLength: 1, maxLength: 3 })), parallel: fc.boolean() }),
  })).node;

  it('lays out any nested machine with each state inside its parent (property)', async () => {
    await fc.assert(
      fc.asyncProperty(stateTree, fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('A', 'B', 'C')), { maxLength: 8 }), fc.constantFrom('RIGHT', 'DOWN'), async (root, links, direction) => {
        // Build an XState config from the generated shape; collect every state's id.
        const ids: string[] = [];
        const build = (n: any, path: string): any => {
          ids.push(path);
          const kids = n.kids as any[];
          if (kids.length === 0) return {};
          const states = Object.fromEntries(kids.map((k, i) => [`s${i}`, build(k, `${path}.s${i}`)]));
          return n.parallel && kids.length > 1 ? { type: 'parallel', states } : { initial: 's0', states };
        };
        const config = build({ kids: root.kids.length > 0 ? root.kids : [root], parallel: false }, 'm');
        const leafIds = ids.slice(1);
        for (const [from, to, type] of links) {
          const src = leafIds[from % leafIds.length]!;
          const dst = leafIds[to % leafIds.length]!;
          const at = src.split('.').slice(1).reduce((c: any, k: string) => c.states[k], config);
          at.on = { ...(at.on ?? {}), [type]: `#${dst}` };
        }
        const machine = createMachine({ id: 'm', ...config });
        const g = mg.machineGraph(wire(machine));
        expect([...g.states.keys()].sort()).toEqual([...ids].sort());
        const layout = await new ELK().layout(mg.elkGraph(g, measure, direction));
        const laid = boxes(layout);
        for (const id of ids) {
          const b = laid.get(id);
          expect(b, id).toBeDefined();
          if (b!.parent !== null) expect(inside(b!, laid.get(b!.parent)!), `${id} inside ${b!.parent}`).toBe(true);
        }
        // Every edge was routed.
        expect((layout.edges ?? []).every((e: any) => e.sections?.length > 0)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
