// The agentos API the suites measure: the TypeScript source (run through tsx,
// the default), or a tsc build when AGENTOS_BENCH_BUILD names its index.js
// (`npm run bench -- --built`), which is the code users actually run.
// Every suite imports agentos from here so both modes use one module graph.

import { pathToFileURL } from 'node:url';
import type * as Api from '../src/index.js';

const build = process.env.AGENTOS_BENCH_BUILD;

export const agentosSource: string = build ? `tsc build (${build})` : 'src via tsx';

const api = (build ? await import(pathToFileURL(build).href) : await import('../src/index.js')) as typeof Api;

export const { createNode, defineAgent, reply, supervisor, tell } = api;
export type { ActorRef, AgentOsNode, LatencyClass, RuntimeContractView } from '../src/index.js';
