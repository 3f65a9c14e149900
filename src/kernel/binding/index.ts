// Binding of agents to model and tool versions (strict, smooth with canary and rollback,
// flexible with policy-bounded fallbacks), sealed into signed, verifiable manifests.

export {
  INVALID_VERSION_RANGE, parseVersionSpec, parseVersion, compareVersions, inRange, formatVersion,
  type Version, type VersionSpec,
} from './version.js';
export {
  INVALID_BINDING_REQUEST, staticRegistry, mustViolations,
  type Registry, type RegistryEntry, type AttributeValue, type ConstraintValue, type MustViolation,
} from './registry.js';
export {
  BINDING_CONDITIONS, checkRequest,
  type BindingMode, type BindingCondition, type BindingRequest, type SlotRequirement, type FallbackRule, type CanaryOptions,
} from './request.js';
export { BINDING_REFUSED, resolveBinding, type Resolution, type ResolveOptions, type Selection, type SelectionRole, type Substitution } from './resolve.js';
export {
  DEFAULT_ROLLBACK_RULE, RollbackController, armStats, regression,
  type RollbackRule, type RollbackRecord, type SloSample, type ArmStats,
} from './rollback.js';
export {
  MANIFEST_FORMAT, canonicalJson, sha256Hex, sealManifest, verifyManifest,
  type BindingManifest, type ManifestBody, type ManifestCheck, type Signer, type SignatureVerifier,
} from './manifest.js';
export { Binder, type BinderOptions } from './binder.js';
