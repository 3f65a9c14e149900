// createNode({ control: true }) serves the control endpoint for the node's
// life: the token file appears (owner-only) and goes when the node stops.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNode } from '../../src/index.js';
import { counterAgent } from '../support/agents.js';
import { tempDir } from '../support/tmp.js';

describe('createNode control option', () => {
  it('serves ps for the node while it runs and removes the token file on stop', async () => {
    const tmp = tempDir();
    try {
      const node = await createNode({ name: 'ctl', dataDir: tmp.dir, control: true });
      await node.spawn(counterAgent(), { id: 'c' });
      const file = join(tmp.dir, 'ctl', 'control.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const { port, token } = JSON.parse(readFileSync(file, 'utf8')) as { port: number; token: string };
      const res = await fetch(`http://127.0.0.1:${port}/v1/ps`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { node: string; actors: { id: string }[] };
      expect(body.node).toBe('ctl');
      expect(body.actors.map((r) => r.id)).toEqual(['c']);
      await node.stop();
      expect(existsSync(file)).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  it('refuses a bad control option by name', async () => {
    const tmp = tempDir();
    try {
      await expect(createNode({ name: 'ctl', dataDir: tmp.dir, control: { port: 70000 } })).rejects.toMatchObject({ field: 'control.port' });
      await expect(createNode({ name: 'ctl', dataDir: tmp.dir, control: 'yes' as never })).rejects.toMatchObject({ field: 'control' });
    } finally {
      tmp.cleanup();
    }
  });
});
