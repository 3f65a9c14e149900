// What the runtime needs from an agent's contract to host it: latency class,
// default deadline/priority and mailbox bounds. Agents without a contract are
// SRT at priority 5 with the node's mailbox defaults.

import type { AgentDefinition, RuntimeContractView } from '../actors/define.js';
import type { LatencyClass, OverflowPolicy } from '../mailboxes/types.js';

export interface RuntimeProfile {
  latency: LatencyClass;
  deadlineMs: number | undefined;
  priority: number | undefined;
  mailboxCapacity: number | undefined;
  overflow: OverflowPolicy | undefined;
}

export function runtimeProfile(def: AgentDefinition): RuntimeProfile {
  const c: RuntimeContractView | undefined = typeof def.contract === 'object' ? def.contract : undefined;
  const latency = c?.class?.latency ?? 'SRT';
  const slo = c?.class?.slo;
  return {
    latency,
    deadlineMs: latency === 'HRT' ? (slo?.deadline_ms ?? slo?.period_ms) : undefined,
    priority: latency === 'SRT' ? c?.priority : undefined,
    mailboxCapacity: c?.mailbox?.capacity,
    overflow: c?.mailbox?.overflow,
  };
}
