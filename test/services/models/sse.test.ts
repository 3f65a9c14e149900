import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser } from '../../../src/services/models/openai/sse.js';

const line = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '🙂', ' ', ':', '{', '"'), fc.string({ minLength: 1, maxLength: 1 }).filter((c) => c !== '\r' && c !== '\n')), maxLength: 30 });
const eventArb = fc.array(line, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n'));

function encode(events: string[], eol: string, comments: boolean): Uint8Array {
  let text = '';
  for (const e of events) {
    if (comments) text += `: ping${eol}`;
    for (const l of e.split('\n')) text += `data: ${l}${eol}`;
    text += eol;
  }
  return Buffer.from(text, 'utf8');
}

function parseIn(bytes: Uint8Array, cuts: number[]): string[] {
  const parser = new SseParser();
  const out: string[] = [];
  let prev = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    out.push(...parser.push(bytes.subarray(prev, cut)));
    prev = cut;
  }
  out.push(...parser.push(bytes.subarray(prev)));
  out.push(...parser.end());
  return out;
}

describe('SSE parser', () => {
  it('decodes the same events however the bytes are split, with LF, CRLF or CR line ends and comments', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.array(fc.nat(), { maxLength: 12 }), (events, eol, comments, rawCuts) => {
        const bytes = encode(events, eol, comments);
        const cuts = rawCuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length));
        expect(parseIn(bytes, cuts)).toEqual(events);
      }),
      { numRuns: 500 },
    );
  });

  it('dispatches a last event the stream did not close with a blank line', () => {
    const p = new SseParser();
    expect(p.push(Buffer.from('data: one\n\ndata: two'))).toEqual(['one']);
    expect(p.end()).toEqual(['two']);
  });

  it('refuses invalid UTF-8 and an event over the size limit as MODEL_BAD_STREAM', () => {
    expect(() => new SseParser().push(Uint8Array.from([0x64, 0x61, 0xff, 0x0a]))).toThrow(expect.objectContaining({ code: 'MODEL_BAD_STREAM' }));
    const small = new SseParser(64);
    expect(() => small.push(Buffer.from(`data: ${'x'.repeat(100)}`))).toThrow(expect.objectContaining({ code: 'MODEL_BAD_STREAM' }));
  });
});
