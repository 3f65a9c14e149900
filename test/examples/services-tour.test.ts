// The services tour (examples/services-tour.ts) end to end: one agent, defined as a
// state machine, calls a native tool and an MCP server's tool (a real child process
// over stdio), retrieves from memory with citations and streams its answer from a
// local model — every call in the trace of the turn that made it, and the audit
// log verifies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type TourSummary } from '../../examples/services-tour.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('agentos-tour-');
afterAll(() => tmp.cleanup());

describe('services tour example', () => {
  let summary: TourSummary;
  beforeAll(async () => {
    summary = await main(`${tmp.dir}/tour`);
  }, 30_000);

  it('ingested the documents and called the native tool and the MCP tool', () => {
    expect(summary.ingested).toEqual(['refund-policy', 'shipping-policy', 'warranty']);
    expect(summary.order).toEqual({ orderId: 'A-1001', status: 'delivered', deliveredDaysAgo: 3 });
    expect(summary.notes.structuredContent).toEqual({ customer: 'ada@example.com', notes: ['Prefers email over phone.', 'Asked about refunds for order A-1001 on Monday.'] });
    expect(summary.notes.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('Prefers email') });
  });

  it('streamed the answer in many chunks whose text is the final answer, built from the tools and the cited source', () => {
    expect(summary.chunks).toBeGreaterThan(10);
    expect(summary.streamed).toBe(summary.answer);
    expect(summary.answer).toContain('Order A-1001 was delivered 3 days ago.');
    expect(summary.answer).toContain('Prefers email over phone.');
    expect(summary.answer).toContain('a refund reaches the original card within 5 business days [1].');
  });

  it('answered from memory with citations naming their sources, the refund policy first', () => {
    expect(summary.citations.length).toBeGreaterThan(0);
    expect(summary.citations[0]!.sourceId).toBe('refund-policy');
    for (const c of summary.citations) {
      expect(['refund-policy', 'shipping-policy', 'warranty']).toContain(c.sourceId);
      expect(c.ref.length).toBeGreaterThan(0);
    }
  });

  it('traced each turn as one trace: the ask turn holds deliver, syscall, tool, retrieve and model spans', () => {
    expect(summary.traces.map((t) => t.message)).toEqual(['learn', 'ask']);
    const [learn, ask] = summary.traces;
    expect(learn!.traceId).not.toBe(ask!.traceId);
    expect(learn!.spans).toEqual(expect.arrayContaining(['agentos.deliver', 'agentos.syscall', 'agentos.ingest']));
    expect(ask!.spans).toEqual(expect.arrayContaining(['agentos.deliver', 'agentos.syscall', 'agentos.tool', 'agentos.retrieve', 'agentos.model']));
    expect(learn!.spans).not.toContain('agentos.model');
  });

  it('left an audit log that verifies', () => {
    expect(summary.audit.ok).toBe(true);
    expect(summary.audit.size).toBeGreaterThan(10);
    expect(summary.audit.rootHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
