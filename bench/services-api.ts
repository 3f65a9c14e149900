// The service classes the services suite measures, from the same module graph
// as bench/agentos.ts: the TypeScript source (through tsx), or the tsc build
// when AGENTOS_BENCH_BUILD names its index.js (`npm run bench -- --built`).

import { pathToFileURL } from 'node:url';
import type * as Api from '../src/index.js';

const build = process.env.AGENTOS_BENCH_BUILD;
const api = (build ? await import(pathToFileURL(build).href) : await import('../src/index.js')) as typeof Api;

export const { chunkText, HashingEmbedder, LocalProvider, ModelCatalog, ModelGateway, OpenAiCompatibleProvider } = api;
export type { CompletionRequest, ModelChunk, ModelEntry, RagAnswer } from '../src/index.js';
