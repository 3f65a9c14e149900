// Progress of long work: redrawn in place on a terminal (with the rate), a line
// every 20% when piped, nothing with piped: 'silent'; a line said ends the bar.
import { describe, expect, it } from 'vitest';
import { Progress } from '../../src/cli/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (t: string) => out.push(t) } };
}

describe('Progress', () => {
  it('draws a bar in place on a terminal, with the rate once time has passed', () => {
    const { out, stream } = sink(true);
    let t = 0;
    const p = new Progress(10, { unit: 'docs', stream, now: () => t });
    p.update(0);
    t = 1000;
    p.update(5);
    expect(out.at(-1)).toBe('\r[##########..........]  50% 5/10 docs, 5 docs/s   ');
    p.say('run 2');
    expect(out.slice(-2)).toEqual(['\n', 'run 2\n']);
    p.restart();
    p.update(10);
    expect(out.at(-1)).toBe('\r[####################] 100% 10/10 docs   ');
  });

  it('writes a line per 20% when piped, or nothing when silent', () => {
    const { out, stream } = sink(false);
    const p = new Progress(100, { unit: 'turns', stream, verb: 'replayed', now: () => 0 });
    for (let i = 1; i <= 100; i++) p.update(i);
    expect(out).toEqual([20, 40, 60, 80, 100].map((n) => `  replayed ${n}/100 (${n}%)\n`));
    const quiet = sink(false);
    const q = new Progress(100, { unit: 'turns', stream: quiet.stream, piped: 'silent' });
    for (let i = 1; i <= 100; i++) q.at(i, 100);
    q.end();
    expect(quiet.out).toEqual([]);
  });
});
