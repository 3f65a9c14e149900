// A synthetic, seeded corpus for the retrieval benchmark: documents of prose
// made from a vocabulary of invented words (skewed, so some words are common and
// most are rare, as in real text), in sentences and paragraphs, so the chunker
// finds paragraph and sentence breaks. Document `i` is the same text on every
// run; queries are content words taken from a sentence of some document.

const SYLLABLES = ['ka', 'vro', 'lin', 'tes', 'mu', 'ro', 'zan', 'qui', 'bel', 'dor', 'fen', 'gar', 'hol', 'jix', 'lum', 'nev', 'pas', 'ryn', 'sol', 'tav', 'ul', 'wex', 'yor', 'zed', 'ap', 'ben', 'cor', 'dil', 'eth', 'fro'];
const GLUE = ['the', 'a', 'of', 'and', 'to', 'in', 'is', 'for', 'with', 'on', 'that', 'by', 'as', 'from'];
const VOCABULARY = 8_000;

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words: string[] = (() => {
  const r = rng(0xc0ffee);
  const seen = new Set<string>();
  while (seen.size < VOCABULARY) {
    const n = 1 + Math.floor(r() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    seen.add(w);
  }
  return [...seen];
})();

/** A word, skewed towards the start of the vocabulary (r² puts ~30% of draws in the first 10%). */
const word = (r: () => number): string => words[Math.floor(r() * r() * VOCABULARY)]!;

function sentence(r: () => number): string {
  const n = 6 + Math.floor(r() * 13);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r() < 0.3 ? GLUE[Math.floor(r() * GLUE.length)]! : word(r));
  const s = out.join(' ');
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
}

/** Document `index`: paragraphs of 3–6 sentences until it is about `chars` long. */
export function documentText(index: number, chars: number): string {
  const r = rng(index * 2654435761 + 17);
  const paragraphs: string[] = [];
  let length = 0;
  while (length < chars) {
    const n = 3 + Math.floor(r() * 4);
    const p: string[] = [];
    for (let i = 0; i < n; i++) p.push(sentence(r));
    const text = p.join(' ');
    paragraphs.push(text);
    length += text.length + 2;
  }
  return paragraphs.join('\n\n');
}

/** `n` queries: 3–5 content words from one sentence of a random document among the first `documents`. */
export function queries(n: number, documents: number, chars: number, seed = 7): string[] {
  const r = rng(seed);
  const out: string[] = [];
  while (out.length < n) {
    const text = documentText(Math.floor(r() * documents), chars);
    const sentences = text.split(/(?<=\.)\s+/);
    const content = sentences[Math.floor(r() * sentences.length)]!.replace(/\.$/, '').toLowerCase().split(' ').filter((w) => !GLUE.includes(w));
    if (content.length < 3) continue;
    const k = Math.min(content.length, 3 + Math.floor(r() * 3));
    const start = Math.floor(r() * (content.length - k + 1));
    out.push(content.slice(start, start + k).join(' '));
  }
  return out;
}
