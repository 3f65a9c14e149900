// Server-sent events, as OpenAI-style endpoints stream them: bytes → lines →
// events (the `data:` lines of one event joined by newlines, dispatched at a
// blank line). Comments (`:`) and other fields are skipped, as the SSE spec
// says. An event larger than the limit is a MODEL_BAD_STREAM, not a memory leak.

import { ModelCodes, ModelError } from '../errors.js';

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private buffer = '';
  private data: string[] = [];
  private dataBytes = 0;

  constructor(private readonly maxEventBytes = 8 * 1024 * 1024) {}

  /** Feed bytes; returns the data of every event they completed. */
  push(bytes: Uint8Array): string[] {
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch (err) {
      throw new ModelError(ModelCodes.badStream, 'the event stream is not valid UTF-8', { field: 'stream', cause: err });
    }
    return this.lines(this.buffer + text, false);
  }

  /** The stream ended: whatever event was in progress is complete. */
  end(): string[] {
    let rest: string;
    try {
      rest = this.buffer + this.decoder.decode();
    } catch (err) {
      throw new ModelError(ModelCodes.badStream, 'the event stream ended inside a UTF-8 character', { field: 'stream', cause: err });
    }
    const events = this.lines(rest, true);
    if (this.data.length > 0) events.push(this.flush());
    return events;
  }

  private lines(text: string, final: boolean): string[] {
    const events: string[] = [];
    let start = 0;
    const newline = /\r\n|\r|\n/g;
    for (;;) {
      newline.lastIndex = start;
      const found = newline.exec(text);
      if (!found) break;
      const end = found.index;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (text[end] === '\r' && end + 1 === text.length && !final) break;
      const line = text.slice(start, end);
      start = end + (text.startsWith('\r\n', end) ? 2 : 1);
      const event = this.line(line);
      if (event !== undefined) events.push(event);
    }
    this.buffer = text.slice(start);
    if (final && this.buffer.length > 0) {
      const event = this.line(this.buffer);
      this.buffer = '';
      if (event !== undefined) events.push(event);
    }
    if (this.buffer.length + this.dataBytes > this.maxEventBytes) {
      throw new ModelError(ModelCodes.badStream, `an event of the stream exceeds ${this.maxEventBytes} bytes`, { field: 'stream' });
    }
    return events;
  }

  private line(line: string): string | undefined {
    if (line.length === 0) return this.data.length > 0 ? this.flush() : undefined;
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') return undefined;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.data.push(value);
    this.dataBytes += value.length;
    return undefined;
  }

  private flush(): string {
    const event = this.data.join('\n');
    this.data = [];
    this.dataBytes = 0;
    return event;
  }
}
