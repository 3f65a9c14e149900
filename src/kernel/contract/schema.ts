// The Agent Contract (apiVersion agentos/v0.2) as a zod schema: the single
// source of the `Contract` type, the runtime validator and the JSON Schema.
// Cross-field rules (wcet <= deadline <= period, consent ⊆ capabilities…) live in semantics.ts.
import { z } from 'zod';
import {
  AGENT_NAME_PATTERN, CAPABILITY_PATTERN, CURRENCY_CODE_PATTERN, LOG_FIELD_PATTERN, MODEL_GLOB_PATTERN,
  NAMESPACE_PATTERN, ROLE_PATTERN, SLOT_PATTERN, VERSION_SPEC_PATTERN,
} from './names.js';
import { CPU_PATTERN, MEMORY_PATTERN } from './units.js';

export const API_VERSION = 'agentos/v0.2';
export const SUPPORTED_API_VERSIONS = [API_VERSION] as const;
export const CONTRACT_KIND = 'AgentContract';

export const LATENCY_CLASSES = ['HRT', 'SRT', 'DT'] as const;
/** An SRT contract without `priority` runs at this one (0..9, higher is more urgent). */
export const DEFAULT_SRT_PRIORITY = 5;
export const PRIVACY_LEVELS = ['public', 'internal', 'confidential', 'pii', 'phi'] as const;
export const PLACEMENTS = ['on_prem', 'edge', 'cloud'] as const;
export const BINDING_MODES = ['strict', 'smooth', 'flexible'] as const;
export const FALLBACK_CONDITIONS = ['bandwidth_low', 'context_exceeds_local', 'provider_unavailable'] as const;
export const OVERFLOW_POLICIES = ['reject', 'drop-oldest', 'drop-newest'] as const;
/** When prompts are de-identified: only by the node's own rule, before any cloud model, or before every model. */
export const DEIDENTIFY_MODES = ['none', 'cloud', 'always'] as const;

export type LatencyClass = (typeof LATENCY_CLASSES)[number];
export type Privacy = (typeof PRIVACY_LEVELS)[number];
export type Placement = (typeof PLACEMENTS)[number];
export type BindingMode = (typeof BINDING_MODES)[number];
export type FallbackCondition = (typeof FALLBACK_CONDITIONS)[number];
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];
export type Deidentify = (typeof DEIDENTIFY_MODES)[number];

function quote(input: unknown): string {
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object' && input !== null) return 'a mapping';
  if (typeof input !== 'string') return String(input);
  return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
}

/** A bounded string matching `pattern`, with a message that shows an example. */
function named(pattern: RegExp, what: string, example: string, max = 128) {
  return z
    .string()
    .min(1)
    .max(max)
    .regex(pattern, { error: (iss) => `${what} must match ${pattern.source}, like ${example} (got ${quote(iss.input)})` });
}

const positiveMs = z.number().positive();
const capability = named(CAPABILITY_PATTERN, 'a capability name', '"web.fetch" or "ehr.*"');
const modelGlob = named(MODEL_GLOB_PATTERN, 'a model id or glob', '"gpt-4o" or "local/*"');
const capabilityList = z.array(capability).max(256);

export const HrtSloSchema = z.strictObject({
  period_ms: positiveMs.describe('Activation period (or minimum inter-arrival time), ms.'),
  deadline_ms: positiveMs.describe('Relative deadline, ms; wcet_ms <= deadline_ms <= period_ms.'),
  wcet_ms: positiveMs.describe('Worst-case execution time per activation, ms.'),
  jitter_ms: z.number().nonnegative().default(0).describe('Tolerated release jitter, ms; 0 <= jitter < deadline.'),
});
export const SrtSloSchema = z.strictObject({
  onset_ms: positiveMs.describe('Time to first output (first token / response onset), ms.'),
  turn_ms: positiveMs.describe('Time to complete a turn, ms; onset_ms <= turn_ms.'),
  jitter_p95_pct: z.number().min(0).max(100).optional().describe('Tolerated p95 turn-time jitter, percent of turn_ms.'),
});
export const DtSloSchema = z.strictObject({
  throughput_per_min: z.number().positive().optional().describe('Minimum sustained items per minute.'),
  completion_sla_ms: positiveMs.optional().describe('A job completes within this many ms of submission.'),
  max_batch: z.number().int().min(1).max(1_000_000).optional().describe('Largest batch the agent accepts.'),
});

export const ClassSchema = z.discriminatedUnion('latency', [
  z.strictObject({ latency: z.literal('HRT'), slo: HrtSloSchema }),
  z.strictObject({ latency: z.literal('SRT'), slo: SrtSloSchema }),
  z.strictObject({ latency: z.literal('DT'), slo: DtSloSchema.default({}) }),
]);

const CPU_FORMS = 'cores like "2", 0.5 or millicores like "500m"';
const MEM_FORMS = 'bytes or a quantity like "512Mi", "2GiB", "1G"';
const required = (forms: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `is required: ${forms}` : `must be ${forms} (got ${quote(iss.input)})`;

/** Form only; the value rules (> 0, whole millicores and bytes) are in semantics.ts via units.ts. */
export const ComputeSchema = z.strictObject({
  cpu: z.union([z.number().positive(), z.string().regex(CPU_PATTERN, { error: required(CPU_FORMS) })], { error: required(CPU_FORMS) }),
  mem: z.union([z.number().int().positive(), z.string().regex(MEMORY_PATTERN, { error: required(MEM_FORMS) })], { error: required(MEM_FORMS) }),
});

export const ModelPolicySchema = z.strictObject({
  allow: z.array(modelGlob).max(64).describe('Models this agent may call.'),
  max_context_tokens: z.number().int().positive(),
  privacy: z.enum(PRIVACY_LEVELS).optional(),
  placement: z.enum(PLACEMENTS).optional().describe('Where the models may run.'),
  redact_pii: z.boolean().optional().describe('Redact PII patterns (e-mail, phone, SSN, registered secrets) from prompts before any model.'),
  deidentify: z
    .enum(DEIDENTIFY_MODES)
    .optional()
    .describe("De-identify prompts before a cloud model ('cloud') or every model ('always'); 'none' leaves it to the node (which de-identifies confidential, pii and phi data for cloud models)."),
});

export const MemorySchema = z.strictObject({
  namespace: named(NAMESPACE_PATTERN, 'a memory namespace', '"clinic/triage"'),
  retention_days: z.number().int().min(0).max(36_500),
  rag: z.strictObject({
    top_k: z.number().int().min(1).max(1000),
    require_grounding: z.boolean().default(false),
  }).optional(),
});

export const SecuritySchema = z.strictObject({
  consent_for: capabilityList.default([]).describe('Capabilities that block on a human approval; each must be among capabilities.'),
  roles: z.array(named(ROLE_PATTERN, 'a role', '"clinician"', 64)).max(64).optional(),
  consent_timeout_ms: z.number().int().positive().optional().describe('How long an approval may wait before escalation.'),
});

export const ObservabilitySchema = z.strictObject({
  tracing: z.boolean().default(true),
  log_fields: z.array(named(LOG_FIELD_PATTERN, 'a log field', '"tenant"', 64)).max(128).default([]),
});

export const CurrencyBudgetSchema = z.strictObject({
  amount: z.number().positive(),
  code: z.string().regex(CURRENCY_CODE_PATTERN, { error: (iss) => `currency code must be ISO 4217 like "USD" (got ${quote(iss.input)})` }),
});

export const BudgetsSchema = z.strictObject({
  tokens_per_minute: z.number().int().positive().optional(),
  tokens_per_second: z.number().int().positive().optional(),
  tokens: z.number().int().positive().optional(),
  currency: CurrencyBudgetSchema.optional(),
});

/**
 * Constraints a binding (and any lower-precedence configuration layer) may
 * not loosen. What "loosen" means per key is defined in must.ts.
 */
export const MustSchema = z.strictObject({
  privacy: z.enum(PRIVACY_LEVELS).optional(),
  placement: z.enum(PLACEMENTS).optional(),
  capabilities: capabilityList.optional(),
  models: z.array(modelGlob).max(64).optional(),
  max_context_tokens: z.number().int().positive().optional(),
  tokens_per_minute: z.number().int().positive().optional(),
  tokens: z.number().int().positive().optional(),
  currency: CurrencyBudgetSchema.optional(),
  consent_for: capabilityList.optional(),
});

const bindingTarget = named(VERSION_SPEC_PATTERN, 'a version spec', '"asr_local_v2" or "asr_local_v2..v3"');

export const PreferSchema = z.record(
  named(SLOT_PATTERN, 'a binding slot', '"asr"', 64),
  z.union([
    bindingTarget,
    z.strictObject({ use: bindingTarget, canary_pct: z.number().min(0).max(100).optional() }),
  ], { error: (iss) => `must be a binding target like "asr_local_v2" or { use, canary_pct } (got ${quote(iss.input)})` }),
);

export const FallbackSchema = z.strictObject({
  from: named(SLOT_PATTERN, 'a binding slot', '"asr"', 64).describe('The prefer slot this fallback may substitute.'),
  to: bindingTarget.describe('What to bind instead while the condition holds.'),
  when: z.enum(FALLBACK_CONDITIONS),
});

export const MailboxSchema = z.strictObject({
  capacity: z.number().int().min(1).max(1 << 24),
  overflow: z.enum(OVERFLOW_POLICIES).default('reject'),
});

export const ContractSchema = z.strictObject({
  $schema: z.string().max(2048).optional().describe('JSON Schema reference for editors; dropped on parse.'),
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(CONTRACT_KIND),
  name: named(AGENT_NAME_PATTERN, 'an agent name', '"triage-v3"'),
  description: z.string().max(4096).optional(),
  class: ClassSchema,
  capabilities: capabilityList.default([]),
  compute: ComputeSchema.optional(),
  modelPolicy: ModelPolicySchema.optional(),
  memory: MemorySchema.optional(),
  security: SecuritySchema.optional(),
  observability: ObservabilitySchema.optional(),
  budgets: BudgetsSchema.optional(),
  binding: z.enum(BINDING_MODES).default('strict'),
  must: MustSchema.optional(),
  prefer: PreferSchema.optional(),
  allow_fallbacks: z.array(FallbackSchema).max(64).default([]),
  priority: z.number().int().min(0).max(9).optional().describe(`SRT only: 0..9, higher is more urgent; absent means ${DEFAULT_SRT_PRIORITY}.`),
  migratable: z.boolean().default(true),
  placement: z.enum(PLACEMENTS).optional().describe('Where the agent itself may run.'),
  mailbox: MailboxSchema.optional(),
  durability: z
    .enum(['sync', 'async'])
    .optional()
    .describe('Persistent agents: sync fsyncs a message before acknowledging it and a call result before releasing it; async only commits.'),
});

/** A validated contract. Field names are exactly those users write in YAML. */
export type Contract = Omit<z.output<typeof ContractSchema>, '$schema'>;
/** What a user may write (defaults not yet applied). */
export type ContractInput = z.input<typeof ContractSchema>;
export type ContractClass = Contract['class'];
export type HrtSlo = z.output<typeof HrtSloSchema>;
export type SrtSlo = z.output<typeof SrtSloSchema>;
export type DtSlo = z.output<typeof DtSloSchema>;
export type Must = z.output<typeof MustSchema>;
export type CurrencyBudget = z.output<typeof CurrencyBudgetSchema>;
export type Fallback = z.output<typeof FallbackSchema>;
