// Agent Contracts (apiVersion agentos/v0.2): schema, safe YAML loading,
// semantic checks, layered merge with `must` constraints, hashing and the
// JSON Schema for editors. Everything here throws only ContractError.
export {
  API_VERSION, BINDING_MODES, CONTRACT_KIND, ContractSchema, DEFAULT_SRT_PRIORITY, FALLBACK_CONDITIONS, LATENCY_CLASSES, MustSchema,
  OVERFLOW_POLICIES, PLACEMENTS, PRIVACY_LEVELS, SUPPORTED_API_VERSIONS,
} from './schema.js';
export type {
  BindingMode, Contract, ContractClass, ContractInput, CurrencyBudget, DtSlo, Fallback, FallbackCondition, HrtSlo,
  LatencyClass, Must, OverflowPolicy, Placement, Privacy, SrtSlo,
} from './schema.js';
export { loadContract, loadContractLayer, parseContract, type ContractOptions } from './parse.js';
export { mergeContractLayers, LAYER_ORDER, type ContractLayers, type LayerName } from './merge.js';
export { MUST_RULES, type MustKey, type MustRule } from './must.js';
export { contractHash, canonicalJson } from './hash.js';
export { contractJsonSchema, contractJsonSchemaText, CONTRACT_JSON_SCHEMA_PATH } from './json-schema.js';
export { parseCpu, parseMemory } from './units.js';
export { CAPABILITY_PATTERN, capabilityCovers, modelGlobMatches, parseBindingTarget, type BindingTarget } from './names.js';
export { ContractErrorCodes, type ContractErrorCode } from './issues.js';
export { DEFAULT_LIMITS, type ContractLimits } from './guard.js';
