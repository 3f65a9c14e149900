import { describe, expect, it } from 'vitest';
import {
  EdfMailbox,
  FifoMailbox,
  PriorityMailbox,
  createMailbox,
  mailboxKindFor,
  type LatencyClass,
  type MailboxKind,
} from '../../src/mailboxes/index.js';

describe('mailboxes index', () => {
  it('mailboxKindFor maps HRT to edf, SRT to priority, DT to fifo', () => {
    const classes: LatencyClass[] = ['HRT', 'SRT', 'DT'];
    expect(classes.map(mailboxKindFor)).toEqual(['edf', 'priority', 'fifo']);
    expect(() => mailboxKindFor('XX' as LatencyClass)).toThrow(/latency class/);
  });

  it('createMailbox builds the mailbox named by its kind, passing the options through', () => {
    const cases: [MailboxKind, new () => object][] = [
      ['fifo', FifoMailbox],
      ['priority', PriorityMailbox],
      ['edf', EdfMailbox],
    ];
    for (const [kind, cls] of cases) {
      const mb = createMailbox(kind, { capacity: 7, overflow: 'drop-newest' });
      expect(mb).toBeInstanceOf(cls);
      expect(mb.kind).toBe(kind);
      expect(mb.capacity).toBe(7);
      expect(mb.stats()).toMatchObject({ kind, capacity: 7, size: 0, pushed: 0 });
    }
    const p = createMailbox('priority', { levels: 4, burst: 2, defaultPriority: 1 });
    expect([p.levels, p.burst, p.defaultPriority]).toEqual([4, 2, 1]);
    expect(() => createMailbox('lifo' as MailboxKind)).toThrow(/mailbox kind/);
  });

  it('a new mailbox is empty with zeroed stats', () => {
    const mb = createMailbox(mailboxKindFor('SRT'));
    expect(mb.shift()).toBeUndefined();
    expect(mb.peek()).toBeUndefined();
    expect(mb.drain()).toEqual([]);
    expect(mb.stats()).toEqual({
      kind: 'priority',
      size: 0,
      capacity: 1000,
      highWater: 0,
      pushed: 0,
      delivered: 0,
      dropped: 0,
      rejected: 0,
      drained: 0,
      waitMs: { count: 0, mean: 0, p50: 0, p99: 0, max: 0 },
    });
  });
});
