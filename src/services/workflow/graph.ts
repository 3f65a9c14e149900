// The step DAG as pure functions over `{ id, needs }`: a cycle if there is
// one, a deterministic topological order (ties broken by list order), the
// upstream steps of a step by distance, and the longest weighted path.

export interface DagNode {
  id: string;
  /** Ids this node waits for; ids not in the graph are ignored here (reported elsewhere). */
  needs: readonly string[];
}

/** A cycle as the ids along it, first repeated at the end (`['a', 'b', 'a']`: a needs b, b needs a); or undefined. */
export function findCycle(nodes: readonly DagNode[]): string[] | undefined {
  const needs = new Map(nodes.map((n) => [n.id, n.needs]));
  const state = new Map<string, 'open' | 'done'>();
  for (const start of nodes) {
    if (state.has(start.id)) continue;
    // Iterative DFS: the stack holds the current path and each frame's next edge.
    const stack: { id: string; next: number }[] = [{ id: start.id, next: 0 }];
    state.set(start.id, 'open');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as { id: string; next: number };
      const edges = needs.get(frame.id) ?? [];
      if (frame.next >= edges.length) {
        state.set(frame.id, 'done');
        stack.pop();
        continue;
      }
      const to = edges[frame.next++] as string;
      if (!needs.has(to)) continue;
      const s = state.get(to);
      if (s === 'open') {
        const from = stack.findIndex((f) => f.id === to);
        return [...stack.slice(from).map((f) => f.id), to];
      }
      if (s === undefined) {
        state.set(to, 'open');
        stack.push({ id: to, next: 0 });
      }
    }
  }
  return undefined;
}

/** Topological order of an acyclic graph: each node after all it needs; among ready nodes, list order first. */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const known = new Set(nodes.map((n) => n.id));
  const placed = new Set<string>();
  const order: string[] = [];
  const pending = [...nodes];
  while (pending.length > 0) {
    const i = pending.findIndex((n) => n.needs.every((d) => placed.has(d) || !known.has(d)));
    if (i < 0) throw new Error('topologicalOrder: the graph has a cycle'); // callers check findCycle first
    const [next] = pending.splice(i, 1) as [DagNode];
    placed.add(next.id);
    order.push(next.id);
  }
  return order;
}

/** Every step `id` transitively needs, with its distance (1 = a direct need), nearest first. */
export function upstream(id: string, needsOf: (id: string) => readonly string[] | undefined): Map<string, number> {
  const dist = new Map<string, number>();
  let frontier = [id];
  for (let d = 1; frontier.length > 0; d++) {
    const next: string[] = [];
    for (const n of frontier) {
      for (const m of needsOf(n) ?? []) {
        if (m === id || dist.has(m) || needsOf(m) === undefined) continue;
        dist.set(m, d);
        next.push(m);
      }
    }
    frontier = next;
  }
  return dist;
}

/** The heaviest path through an acyclic graph given in topological order, and its weight. */
export function longestPath(order: readonly DagNode[], weight: (id: string) => number): { path: string[]; total: number } {
  const best = new Map<string, { total: number; via?: string }>();
  let end: string | undefined;
  for (const node of order) {
    let via: string | undefined;
    let before = 0;
    for (const d of node.needs) {
      const b = best.get(d);
      if (b && (via === undefined || b.total > before)) [before, via] = [b.total, d];
    }
    const total = before + weight(node.id);
    best.set(node.id, { total, via });
    if (end === undefined || total > (best.get(end) as { total: number }).total) end = node.id;
  }
  const path: string[] = [];
  for (let at = end; at !== undefined; at = best.get(at)?.via) path.unshift(at);
  return { path, total: end === undefined ? 0 : (best.get(end) as { total: number }).total };
}
