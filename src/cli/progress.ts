// Progress of long work (indexing, replay, a soak): a bar redrawn in place on a
// terminal, with the rate; a line every 20% when the stream is a pipe or a file
// (or nothing at all, with `piped: 'silent'`), so logs stay readable.

export interface ProgressOptions {
  /** What is counted, e.g. `docs`, `turns`, `kills`. */
  unit: string;
  /** Where it is drawn (default stdout). */
  stream?: { isTTY?: boolean; write(text: string): unknown };
  /** Off a terminal: a line every 20% (default), or nothing. */
  piped?: 'lines' | 'silent';
  /** The verb of the piped lines (default `done`). */
  verb?: string;
  now?: () => number;
}

export class Progress {
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly now: () => number;
  /** Where the rate counts from: the first report of the current run. */
  private since: { at: number; done: number } | undefined;
  private barShown = false;
  private linesShown = 0;

  constructor(
    private total: number,
    private readonly options: ProgressOptions,
  ) {
    this.stream = options.stream ?? process.stdout;
    this.tty = this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
  }

  update(done: number): void {
    this.since ??= { at: this.now(), done };
    const pct = this.total > 0 ? Math.min(100, Math.floor((100 * done) / this.total)) : 100;
    const seconds = (this.now() - this.since.at) / 1000;
    const rate = seconds >= 0.2 ? `, ${Math.round((done - this.since.done) / seconds)} ${this.options.unit}/s` : '';
    if (this.tty) {
      const filled = Math.round(pct / 5);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${String(pct).padStart(3)}% ${done}/${this.total} ${this.options.unit}${rate}   `);
      this.barShown = true;
    } else if (this.options.piped !== 'silent' && Math.floor(pct / 20) > this.linesShown) {
      this.linesShown = Math.floor(pct / 20);
      this.stream.write(`  ${this.options.verb ?? 'done'} ${done}/${this.total} (${pct}%${rate})\n`);
    }
  }

  /** `update`, when the total is learnt as the work goes. */
  at(done: number, total: number): void {
    this.total = total;
    this.update(done);
  }

  /** A new run of the same work: its rate counts afresh. */
  restart(): void {
    this.since = undefined;
  }

  /** Print a line (ending the bar's line first). */
  say(line: string): void {
    this.end();
    this.stream.write(`${line}\n`);
  }

  /** End the bar's line, if one is drawn. */
  end(): void {
    if (this.barShown) this.stream.write('\n');
    this.barShown = false;
  }
}
