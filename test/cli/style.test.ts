// Colours only on a terminal: NO_COLOR wins, FORCE_COLOR forces, a pipe is plain;
// tables measure coloured cells by what shows; a real run's error line is
// coloured under FORCE_COLOR and plain otherwise.
import { spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { colourWanted, paint, statusColour } from '../../src/cli/style.js';
import { renderTable } from '../../src/cli/render.js';
import { repoRoot } from './run.js';

describe('colour', () => {
  it('is on for a terminal, off for a pipe, off with NO_COLOR, on with FORCE_COLOR', () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true);
    expect(colourWanted({ isTTY: false }, {})).toBe(false);
    expect(colourWanted({}, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colourWanted({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourWanted({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourWanted({ isTTY: false }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
  });

  it('paints only when enabled, and tables align coloured cells by their visible width', () => {
    const on = paint(true);
    expect(on.red('x')).not.toBe('x');
    expect(stripVTControlCharacters(on.red('x'))).toBe('x');
    expect(paint(false).red('x')).toBe('x');
    const plain = renderTable(['NODE', 'STATUS'], [['n1', 'up'], ['n22', 'suspect']]);
    const coloured = renderTable(['NODE', 'STATUS'], [['n1', statusColour(on, 'up')], ['n22', statusColour(on, 'suspect')]]);
    expect(stripVTControlCharacters(coloured)).toBe(plain);
  });

  it('a real run prints its error code in red under FORCE_COLOR, plainly when piped', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ps', '--data-dir', '/nonexistent-agentos', '--node', 'nobody'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env }, timeout: 30_000 });
    const forced = run({ FORCE_COLOR: '1' });
    expect(forced.status).toBe(1);
    expect(forced.stderr).toContain('\u001b[31mNODE_NOT_RUNNING\u001b[39m: ');
    const piped = run({});
    expect(piped.stderr).toMatch(/^NODE_NOT_RUNNING: /m);
    expect(piped.stderr).not.toContain('\u001b[');
  }, 60_000);
});
