// Text renderings for the terminal: the supervision tree as ASCII.

import type { TreeNode } from '../supervisors/types.js';

export function renderTree(root: TreeNode): string {
  const lines: string[] = [];
  const label = (n: TreeNode): string => {
    if (n.kind === 'supervisor') return `${n.id} [supervisor ${n.strategy ?? ''}] restarts=${n.restarts}`;
    const info = n.info ?? {};
    const parts = [`${n.id}`, `(${String(info.agent ?? 'agent')}, ${String(info.class ?? '')})`];
    if (info.state !== undefined) parts.push(`state=${JSON.stringify(info.state)}`);
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
