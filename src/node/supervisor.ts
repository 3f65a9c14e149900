// The public `supervisor(...)` builder, typed for agent children: `start` is an
// agent definition, `{ agent, input }`, or a nested supervisor spec.

import type { AgentDefinition } from '../actors/define.js';
import type { StartTarget } from '../kernel/kernel.js';
import { supervisor as buildSpec, type SupervisorInput } from '../supervisors/spec.js';
import type { ChildSpec, SupervisorSpec } from '../supervisors/types.js';

export interface AgentChildSpec extends Omit<ChildSpec<StartTarget>, 'start'> {
  start: AgentDefinition<any, any> | { agent: AgentDefinition<any, any>; input?: unknown } | SupervisorSpec<StartTarget>;
}

export interface SupervisorConfig extends Omit<SupervisorInput<StartTarget>, 'children'> {
  children?: AgentChildSpec[];
}

/** Build and validate a supervisor spec (OTP defaults: one_for_one, intensity 1, period 5000 ms). */
export function supervisor(config: SupervisorConfig): SupervisorSpec<StartTarget> {
  return buildSpec<StartTarget>(config as SupervisorInput<StartTarget>);
}
