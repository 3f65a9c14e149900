// Colour for the terminal, and only for it: a stream that is not a TTY (a pipe,
// a file, a test) gets plain text, as does anyone who sets NO_COLOR; FORCE_COLOR
// (not "0") turns it on anyway. Uses node:util's styleText for the escapes.

import { styleText } from 'node:util';

export interface Paint {
  readonly enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

type Format = Parameters<typeof styleText>[0];

/** Whether text written to `stream` should be coloured, by the conventions of no-color.org and FORCE_COLOR. */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function paint(enabled: boolean): Paint {
  // We decide (per stream, above); styleText must not second-guess it by looking at stdout.
  const as = (format: Format) => (text: string): string => (enabled ? styleText(format, text, { validateStream: false }) : text);
  return { enabled, red: as('red'), green: as('green'), yellow: as('yellow'), dim: as('dim'), bold: as('bold') };
}

export const PLAIN: Paint = paint(false);

/** A member or actor status in the colour that says how it is doing. */
export function statusColour(p: Paint, status: string): string {
  if (status === 'up' || status === 'running') return p.green(status);
  if (status === 'down' || status === 'removed' || status === 'held' || status === 'exited' || status === 'failed') return p.red(status);
  if (status === 'suspect' || status === 'leaving' || status === 'joining' || status === 'paused' || status === 'restarting') return p.yellow(status);
  return status;
}
