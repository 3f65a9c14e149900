import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../src/services/memory/chunker.js';

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

describe('chunkText', () => {
  it('splits at paragraph and sentence ends within the size, with the offsets of the source', () => {
    const text = 'First sentence here. Second one follows.\n\nA new paragraph starts. It goes on for a while and then ends. The end.';
    const chunks = chunkText(text, { size: 60, overlap: 10 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(text.slice(c.start, c.end)).toBe(c.text);
    expect(chunks[0]!.text).toBe('First sentence here. Second one follows.\n\n');
    expect(chunks.at(-1)!.end).toBe(text.length);
  });

  it('gives no chunk for empty text and one for a short text', () => {
    expect(chunkText('')).toEqual([]);
    expect(chunkText('short')).toEqual([{ index: 0, start: 0, end: 5, text: 'short' }]);
  });

  it('refuses sizes and overlaps it cannot honour, with the field named', () => {
    expect(() => chunkText('x', { size: 8 })).toThrow(expect.objectContaining({ code: 'MEMORY_INVALID_ARGS', field: 'chunk.size' }));
    expect(() => chunkText('x', { size: 100, overlap: 51 })).toThrow(expect.objectContaining({ code: 'MEMORY_INVALID_ARGS', field: 'chunk.overlap' }));
    expect(() => chunkText('x', { size: 100, overlap: -1 })).toThrow(expect.objectContaining({ field: 'chunk.overlap' }));
  });

  const textArb = fc.oneof(
    fc.string({ maxLength: 3000 }),
    fc.string({ unit: 'grapheme', maxLength: 1500 }),
    fc.array(fc.constantFrom('word', 'a', 'sentence.', '\n\n', ' ', '  ', 'x'.repeat(40), '😀', 'é', '?'), { maxLength: 400 }).map((p) => p.join(' ')),
  );

  it('property: chunks are exact slices that cover the text without gaps, within size, overlap and order bounds, never splitting a surrogate pair', () => {
    fc.assert(
      fc.property(textArb, fc.integer({ min: 16, max: 400 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (text, size, ratio) => {
        const overlap = Math.floor(size * ratio);
        const chunks = chunkText(text, { size, overlap });
        if (text.length === 0) return chunks.length === 0;
        expect(chunks[0]!.start).toBe(0);
        expect(chunks.at(-1)!.end).toBe(text.length);
        chunks.forEach((c, i) => {
          expect(c.index).toBe(i);
          expect(c.text).toBe(text.slice(c.start, c.end));
          expect(c.end - c.start).toBeLessThanOrEqual(size);
          expect(c.end).toBeGreaterThan(c.start);
          for (const at of [c.start, c.end]) {
            if (at > 0 && at < text.length) expect(isHigh(text.charCodeAt(at - 1)) && isLow(text.charCodeAt(at))).toBe(false);
          }
          if (i > 0) {
            const prev = chunks[i - 1]!;
            expect(c.start).toBeGreaterThan(prev.start);
            expect(c.end).toBeGreaterThan(prev.end);
            expect(c.start).toBeLessThanOrEqual(prev.end); // no gap
            expect(prev.end - c.start).toBeLessThanOrEqual(overlap);
          }
        });
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
