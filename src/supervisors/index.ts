// Public surface of the supervision layer: the spec builder, the pure restart
// bookkeeping and the Supervisor runtime. Everything else here is internal.

export { supervisor, isSupervisorSpec, SUPERVISOR_DEFAULTS } from './spec.js';
export type { SupervisorInput, NormalizedChildSpec } from './spec.js';
export { shouldRestart, isAbnormal, recordRestart, planRestart } from './restart.js';
export type { RestartRecord, RestartPlan } from './restart.js';
export { Supervisor } from './supervisor.js';
export type { SupervisorOptions, SupervisorState } from './supervisor.js';
export * from './types.js';
