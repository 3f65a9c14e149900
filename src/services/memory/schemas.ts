// Argument schemas of the memory syscalls (zod), checked by the kernel before
// policy asks anyone to consent. Tenants never appear as an input the handler
// uses: an optional `tenant` or `namespace` is accepted only to be compared with
// the caller's own, and a different one is refused as MEMORY_CROSS_TENANT.

import { z } from 'zod';
import { summarizeIssues } from '../../base/issues.js';
import { MemoryCodes, MemoryError } from './errors.js';

const scopeFields = {
  /** Only ever compared with the caller's tenant (from the kernel). */
  tenant: z.string().max(256).optional(),
  /** Only ever compared with the contract's memory.namespace. */
  namespace: z.string().max(256).optional(),
};

const key = z.string().min(1).max(1024);
const id = z.string().min(1).max(256);
const json = z.json();
const vector = z.array(z.number()).min(1).max(65_536);

export const MemorySchemas = {
  'memory.put': z.strictObject({ ...scopeFields, key, value: json }),
  'memory.get': z.strictObject({ ...scopeFields, key }),
  'memory.delete': z.strictObject({ ...scopeFields, key }),
  'memory.list': z.strictObject({ ...scopeFields, prefix: key.optional(), after: key.optional(), limit: z.number().int().min(1).max(1000).optional() }),
  'memory.append': z.strictObject({ ...scopeFields, stream: id, entry: json }),
  'memory.read': z.strictObject({
    ...scopeFields,
    stream: id,
    from: z.number().int().min(0).optional(),
    to: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    reverse: z.boolean().optional(),
  }),
  'memory.upsert': z
    .strictObject({ ...scopeFields, id: key, text: z.string().min(1).max(100_000).optional(), vector: vector.optional(), metadata: json.optional() })
    .refine((a) => (a.text === undefined) !== (a.vector === undefined), { message: 'give exactly one of text or vector', path: ['text'] }),
  'memory.search': z
    .strictObject({ ...scopeFields, text: z.string().min(1).max(8192).optional(), vector: vector.optional(), k: z.number().int().min(1).max(1000).optional(), minScore: z.number().min(-1).max(1).optional() })
    .refine((a) => (a.text === undefined) !== (a.vector === undefined), { message: 'give exactly one of text or vector', path: ['text'] }),
  'memory.remove': z.strictObject({ ...scopeFields, ids: z.array(key).min(1).max(10_000) }),
  'rag.ingest': z.strictObject({
    ...scopeFields,
    sourceId: id,
    text: z.string().max(4_000_000),
    metadata: json.optional(),
    chunk: z.strictObject({ size: z.number().int().min(16).max(100_000).optional(), overlap: z.number().int().min(0).optional() }).optional(),
  }),
  'rag.query': z.strictObject({
    ...scopeFields,
    query: z.string().min(1).max(8192),
    topK: z.number().int().min(1).max(1000).optional(),
    minScore: z.number().min(-1).max(1).optional(),
    rerank: z.enum(['none', 'lexical']).optional(),
  }),
  'rag.remove': z.strictObject({ ...scopeFields, sourceId: id }),
  'rag.passage': z.strictObject({ ...scopeFields, ref: z.string().min(1).max(4096) }),
  'rag.ground': z.strictObject({ ...scopeFields, answer: z.string().min(1).max(100_000), refs: z.array(z.string().min(1).max(4096)).max(1000).optional() }),
} as const;

export type MemorySyscall = keyof typeof MemorySchemas;
export type ArgsOf<N extends MemorySyscall> = z.output<(typeof MemorySchemas)[N]>;
export const MEMORY_SYSCALLS = Object.keys(MemorySchemas) as MemorySyscall[];

/** Parse a syscall's arguments, or a typed error naming the first bad field. */
export function parseArgs<N extends MemorySyscall>(name: N, args: unknown): ArgsOf<N> {
  const parsed = MemorySchemas[name].safeParse(args);
  if (!parsed.success) {
    const { field, summary } = summarizeIssues(parsed.error, 'args');
    throw new MemoryError(MemoryCodes.invalidArgs, `${name} arguments invalid: ${summary}`, { field });
  }
  return parsed.data as ArgsOf<N>;
}
