// Text renderings for the terminal: the supervision tree as ASCII, and tables.

import { stripVTControlCharacters } from 'node:util';
import type { TreeNode } from '../supervisors/types.js';

/** A lane actor runs on its HRT lane; the main thread holds only a proxy, so its state is the lane's. */
function workerState(info: Record<string, unknown>): unknown {
  const lane = info.lane as { state?: unknown } | undefined;
  return lane && typeof lane === 'object' && lane.state !== undefined ? lane.state : info.state;
}

export function renderTree(root: TreeNode): string {
  const lines: string[] = [];
  const label = (n: TreeNode): string => {
    if (n.kind === 'supervisor') return `${n.id} [supervisor ${n.strategy ?? ''}] restarts=${n.restarts}`;
    const info = n.info ?? {};
    const parts = [`${n.id}`, `(${String(info.agent ?? 'agent')}, ${String(info.class ?? '')}${info.lane ? ', lane' : ''})`];
    const state = workerState(info);
    if (state !== undefined) parts.push(`state=${JSON.stringify(state)}`);
    parts.push(`restarts=${n.restarts}`, n.status);
    return parts.join(' ');
  };
  const walk = (n: TreeNode, prefix: string, last: boolean, isRoot: boolean): void => {
    lines.push(isRoot ? label(n) : `${prefix}${last ? '└─ ' : '├─ '}${label(n)}`);
    const kids = n.children ?? [];
    kids.forEach((c, i) => walk(c, isRoot ? '' : `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1, false));
  };
  walk(root, '', true, true);
  return lines.join('\n');
}

/** Columns padded to their widest cell, two spaces apart; columns listed in `right` are right-aligned (numbers). */
export function renderTable(head: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  // Widths as shown: colour escapes take no columns.
  const shown = (cell: string): number => stripVTControlCharacters(cell).length;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => shown(r[i] ?? ''))));
  const pad = (cell: string, i: number): string => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - shown(cell)));
    return right.has(i) ? fill + cell : cell + fill;
  };
  return [head, ...rows]
    .map((r) => r.map(pad).join('  ').trimEnd())
    .join('\n');
}
