// From an agent definition to its validated Agent Contract, and from the
// contract to what each kernel part needs: the runtime profile (class,
// deadline, priority, mailbox), the admission request, the actor's policy and
// the binding request. Pure mapping; parsing errors are ContractErrors.

import { createHash } from 'node:crypto';
import type { AgentDefinition } from '../actors/define.js';
import type { OverflowPolicy } from '../mailboxes/types.js';
import type { AdmissionRequest } from './admission/index.js';
import type { BindingRequest } from './binding/index.js';
import { API_VERSION, CONTRACT_KIND, loadContract, parseContract, parseCpu, parseMemory, type Contract } from './contract/index.js';
import type { ActorPolicy } from './policy/index.js';

export interface RuntimeProfile {
  latency: Contract['class']['latency'];
  deadlineMs: number | undefined;
  priority: number | undefined;
  mailboxCapacity: number | undefined;
  overflow: OverflowPolicy | undefined;
  /** Persistent agents: the contract's durability, overriding the definition's. */
  durability: 'sync' | 'async' | undefined;
}

/** Agents without a contract: SRT, no capabilities (zero trust), default SLOs. */
const DEFAULT_CLASS = { latency: 'SRT', slo: { onset_ms: 300, turn_ms: 1200 } } as const;

const cache = new WeakMap<AgentDefinition, Contract>();

/**
 * The definition's contract, validated. YAML text (or a path) goes through the
 * safe loader; an object may omit `apiVersion`, `kind`, `name` and `class`
 * (filled from the definition and the defaults) but is otherwise checked in full.
 */
export function contractOf(def: AgentDefinition): Contract {
  const hit = cache.get(def);
  if (hit) return hit;
  let contract: Contract;
  if (typeof def.contract === 'string') {
    contract = loadContract(def.contract);
  } else {
    const given = (def.contract ?? {}) as Record<string, unknown>;
    contract = parseContract({ apiVersion: API_VERSION, kind: CONTRACT_KIND, name: def.name, class: DEFAULT_CLASS, ...given });
  }
  cache.set(def, contract);
  return contract;
}

export function profileOf(contract: Contract): RuntimeProfile {
  const cls = contract.class;
  return {
    latency: cls.latency,
    deadlineMs: cls.latency === 'HRT' ? cls.slo.deadline_ms : undefined,
    priority: cls.latency === 'SRT' ? contract.priority : undefined,
    mailboxCapacity: contract.mailbox?.capacity,
    overflow: contract.mailbox?.overflow,
    durability: contract.durability,
  };
}

export function admissionRequestOf(id: string, contract: Contract): AdmissionRequest {
  const cls = contract.class;
  const request: AdmissionRequest = { id, latency: cls.latency };
  if (cls.latency === 'HRT') {
    request.hrt = { periodMs: cls.slo.period_ms, wcetMs: cls.slo.wcet_ms, deadlineMs: cls.slo.deadline_ms, jitterMs: cls.slo.jitter_ms };
  }
  if (contract.compute) {
    request.compute = { cpuMillis: parseCpu(contract.compute.cpu), memBytes: parseMemory(contract.compute.mem) };
  }
  const mp = contract.modelPolicy;
  if (mp) {
    request.model = {
      allow: mp.allow,
      maxContextTokens: mp.max_context_tokens,
      ...(mp.privacy === undefined ? {} : { privacy: [mp.privacy] }),
      ...(mp.placement === undefined ? {} : { placement: mp.placement }),
    };
  }
  return request;
}

export function policyOf(contract: Contract, tenant: string): ActorPolicy {
  const budgets = contract.budgets;
  return {
    tenant,
    capabilities: contract.capabilities,
    consentFor: contract.security?.consent_for ?? [],
    ...(contract.security?.roles ? { roles: contract.security.roles } : {}),
    ...(contract.security?.consent_timeout_ms ? { consent: { timeoutMs: contract.security.consent_timeout_ms } } : {}),
    ...(budgets && (budgets.tokens_per_minute !== undefined || budgets.tokens_per_second !== undefined || budgets.tokens !== undefined)
      ? {
          budgets: {
            ...(budgets.tokens_per_minute === undefined ? {} : { tpm: budgets.tokens_per_minute }),
            ...(budgets.tokens_per_second === undefined ? {} : { tps: budgets.tokens_per_second }),
            ...(budgets.tokens === undefined ? {} : { tokens: budgets.tokens }),
          },
        }
      : {}),
  };
}

/** The binding request for a contract that prefers versions of models or tools; undefined if it binds nothing. */
export function bindingRequestOf(id: string, contract: Contract, conditions: readonly string[]): BindingRequest | undefined {
  const prefer = contract.prefer;
  if (!prefer || Object.keys(prefer).length === 0) return undefined;
  let canary: BindingRequest['canary'];
  const requires = Object.entries(prefer).map(([slot, target]) => {
    if (typeof target === 'string') return { slot, want: target };
    if (target.canary_pct !== undefined && canary === undefined) {
      // Seeded by actor id: the same actor always lands on the same side of the split.
      canary = { percent: target.canary_pct, seed: createHash('sha256').update(id).digest().readUInt32BE(0) };
    }
    return { slot, want: target.use };
  });
  const must: Record<string, string> = {};
  if (contract.must?.privacy) must.privacy = contract.must.privacy;
  if (contract.must?.placement) must.placement = contract.must.placement;
  return {
    id,
    mode: contract.binding,
    requires,
    must,
    allowFallbacks: contract.allow_fallbacks,
    conditions: conditions as BindingRequest['conditions'] & string[],
    ...(canary ? { canary } : {}),
  };
}
