// Splitting a source text into overlapping chunks with character offsets. A chunk
// ends at the best break before its size limit (a paragraph, else a sentence end,
// else whitespace, else the limit itself) and the next one starts at most `overlap`
// characters before that end, at a word start where there is one. Guarantees (tested
// as properties): text.slice(start, end) === chunk text; chunks cover the text with
// no gap; each is at most `size` long; overlaps are at most `overlap`; starts and ends
// strictly increase; no chunk boundary splits a surrogate pair. Offsets are UTF-16
// code units, as JavaScript strings index them.

import { invalidArg } from './errors.js';

export interface ChunkOptions {
  /** Longest chunk, in characters (default 800). */
  size?: number;
  /** Characters a chunk may share with the one before it (default 100; at most size/2). */
  overlap?: number;
}

export interface TextChunk {
  index: number;
  start: number;
  end: number;
  text: string;
}

export const DEFAULT_CHUNK = { size: 800, overlap: 100 } as const;

export function checkChunkOptions(options: ChunkOptions = {}): Required<ChunkOptions> {
  const size = options.size ?? DEFAULT_CHUNK.size;
  const overlap = options.overlap ?? Math.min(DEFAULT_CHUNK.overlap, Math.floor(size / 2));
  if (!Number.isInteger(size) || size < 16 || size > 100_000) throw invalidArg('chunk.size', 'must be an integer 16..100000');
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > size / 2) throw invalidArg('chunk.overlap', `must be an integer 0..${Math.floor(size / 2)} (half the size)`);
  return { size, overlap };
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x0c || c === 0xa0;

/** Does a boundary at `i` fall between the halves of a surrogate pair? */
function splitsPair(text: string, i: number): boolean {
  return i > 0 && i < text.length && isHigh(text.charCodeAt(i - 1)) && isLow(text.charCodeAt(i));
}

/** The end of a chunk starting at `start`: the best break in its second half, else the hard limit. */
function chunkEnd(text: string, start: number, size: number): number {
  const hard = Math.min(start + size, text.length);
  if (hard === text.length) return hard;
  const floor = start + Math.ceil(size / 2);
  const para = text.lastIndexOf('\n\n', hard - 2);
  if (para >= floor) return para + 2;
  for (let i = hard - 1; i >= floor; i--) {
    const c = text.charCodeAt(i);
    if (isSpace(c) && i > 0 && '.!?'.includes(text[i - 1]!)) return i + 1;
  }
  for (let i = hard - 1; i >= floor; i--) if (isSpace(text.charCodeAt(i))) return i + 1;
  return splitsPair(text, hard) ? hard - 1 : hard;
}

/** Where the chunk after one ending at `end` starts: a word start within the overlap window, else the window's start. */
function nextStart(text: string, prevStart: number, end: number, overlap: number): number {
  if (overlap === 0) return end;
  let s = Math.max(end - overlap, prevStart + 1);
  for (let i = s; i < end; i++) {
    if (i > 0 && isSpace(text.charCodeAt(i - 1)) && !isSpace(text.charCodeAt(i))) {
      s = i;
      break;
    }
  }
  if (splitsPair(text, s)) s++;
  return Math.min(s, end);
}

export function chunkText(text: string, options: ChunkOptions = {}): TextChunk[] {
  const { size, overlap } = checkChunkOptions(options);
  const chunks: TextChunk[] = [];
  let start = 0;
  while (start < text.length) {
    const end = chunkEnd(text, start, size);
    chunks.push({ index: chunks.length, start, end, text: text.slice(start, end) });
    if (end >= text.length) break;
    start = nextStart(text, start, end, overlap);
  }
  return chunks;
}
