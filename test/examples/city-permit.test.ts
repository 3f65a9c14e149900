import { describe, expect, it } from 'vitest';
import { main } from '../../examples/city-permit/run.js';
import { tempDir } from '../support/tmp.js';

describe('examples/city-permit', () => {
  it('runs the paper workflow end to end, across a restart in the middle of the approval wait', async () => {
    const t = tempDir('agentos-permit-');
    try {
      const lines: string[] = [];
      const out = await main(`${t.dir}/data`, (l) => lines.push(l));
      expect(out.run.status).toBe('completed');
      expect(out.run.completed).toEqual(['plan', 'browse', 'summarise', 'approve', 'notify']);
      // The same approval, asked again after the restart; nothing before it ran again.
      expect(out.approvalIdAfter).toBe(out.approvalIdBefore);
      expect(out.siteHits).toBe(0);
      expect(Object.values(out.run.steps).map((s) => s.attempts)).toEqual([1, 1, 1, 0, 1]);
      // One email, with the summary and three cited pages of the fixture site.
      expect(out.outbox).toHaveLength(1);
      expect(out.outbox[0]).toMatchObject({ op: 'send', to: 'ana@example.org' });
      expect(out.outbox[0]!.body).toMatch(/\[1\] http:\/\/127\.0\.0\.1:\d+\/permits\/deck — "A building permit is required/);
      expect(out.run.output).toMatchObject({ messageId: out.outbox[0]!.id });
      expect((out.run.steps.summarise!.output as { citations: unknown[] }).citations).toHaveLength(3);
      expect(out.run.steps.approve!.approval).toMatchObject({ by: 'officer-kim' });
      expect(out.auditOk).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});
