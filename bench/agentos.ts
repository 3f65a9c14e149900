// The agentos API the suites measure: the TypeScript source (run through tsx,
// the default), or a tsc build when AGENTOS_BENCH_BUILD names its index.js
// (`npm run bench -- --built`), which is the code users actually run.
// Every suite imports agentos from here so both modes use one module graph.

import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Api from '../src/index.js';
import type * as AuditInternals from '../src/kernel/audit/index.js';

const build = process.env.AGENTOS_BENCH_BUILD;

export const agentosSource: string = build ? `tsc build (${build})` : 'src via tsx';

const api = (build ? await import(pathToFileURL(build).href) : await import('../src/index.js')) as typeof Api;

export const { createNode, defineAgent, defineTool, defineWorkflow, reply, supervisor, tell, RealClock } = api;
export type { ActorRef, AgentOsNode, LatencyClass, RuntimeContractView } from '../src/index.js';

// Internal: the kernel's audit log, opened directly by the audit suite (not part
// of the public API). In a build it sits at kernel/audit/index.js beside index.js.
const audit = (
  build ? await import(pathToFileURL(join(dirname(build), 'kernel', 'audit', 'index.js')).href) : await import('../src/kernel/audit/index.js')
) as typeof AuditInternals;

export const { AuditLog, AUDIT_DBS, generateNodeKeys, leafHash, rootOf } = audit;
export type { AuditRecordInput } from '../src/kernel/audit/index.js';
