// Grounding an answer (a model's text) in stored passages: the answer is split
// into sentences, and each sentence with at least two content words (a claim) is
// supported when enough of its words occur in one of the candidate passages — the
// passages the answer cites (refs), or else those retrieved for the answer itself.
// Each claim comes back with the citations that support it.

import { tokens } from './embedder.js';
import type { Citation, Rag } from './rag.js';
import { tokenCoverage } from './rerank.js';

export const DEFAULT_CLAIM_COVERAGE = 0.5;

export interface ClaimSupport {
  text: string;
  start: number;
  end: number;
  supported: boolean;
  /** Best share of the claim's words found in one passage. */
  coverage: number;
  citations: Citation[];
}

export interface AnswerGrounding {
  /** Every claim is supported (and there is at least one). */
  grounded: boolean;
  claims: ClaimSupport[];
  /** Share of claims supported, 0..1. */
  supported: number;
  /** Distinct citations that support some claim. */
  citations: Citation[];
}

/** Sentences with their offsets in the answer. */
export function sentences(text: string): { text: string; start: number; end: number }[] {
  const out: { text: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(/[^.!?\n]+[.!?]*/g)) {
    const raw = m[0];
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (trimmed.length === 0) continue;
    const start = m.index + lead;
    out.push({ text: trimmed, start, end: start + trimmed.length });
  }
  return out;
}

export async function groundAnswer(rag: Rag, answer: string, options: { refs?: readonly string[]; topK?: number; minCoverage?: number } = {}): Promise<AnswerGrounding> {
  const min = options.minCoverage ?? DEFAULT_CLAIM_COVERAGE;
  let candidates: (Citation & { text: string })[];
  if (options.refs && options.refs.length > 0) {
    // A ref of another tenant throws MEMORY_CROSS_TENANT here, before anything is read.
    candidates = options.refs.flatMap((ref) => {
      const p = rag.passage(ref);
      return p ? [{ ...p, score: 0 }] : [];
    });
  } else {
    const { passages } = await rag.retrieve(answer.slice(0, 8192), { topK: options.topK ?? 10 });
    candidates = passages.map(({ cosine: _c, lexical: _l, coverage: _v, ...p }) => p);
  }
  const claims: ClaimSupport[] = [];
  const used = new Map<string, Citation>();
  for (const s of sentences(answer)) {
    if (tokens(s.text).length < 2) continue;
    let best = 0;
    const citing: Citation[] = [];
    for (const { text, ...c } of candidates) {
      const cov = tokenCoverage(s.text, text);
      best = Math.max(best, cov);
      if (cov >= min) citing.push(c);
    }
    for (const c of citing) used.set(c.ref, c);
    claims.push({ ...s, supported: citing.length > 0, coverage: best, citations: citing });
  }
  const ok = claims.filter((c) => c.supported).length;
  return { grounded: claims.length > 0 && ok === claims.length, claims, supported: claims.length === 0 ? 0 : ok / claims.length, citations: [...used.values()] };
}
