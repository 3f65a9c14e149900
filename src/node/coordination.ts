// The node's coordination services (issue #7): the workflow engine for now, with
// the A2A bus, blackboard and marketplace joining it. Built after the kernel and
// before recovery hands the node out; closed before the kernel stops, so an
// outcome arriving while actors stop is never recorded as a step's result.

import type { RootDatabase } from 'lmdb';
import type { AgentDefinition } from '../actors/define.js';
import type { Kernel } from '../kernel/kernel.js';
import { createA2ABus, type A2ABus, type A2ABusOptions } from '../services/a2a/index.js';
import { BlackboardService, type BlackboardOptions } from '../services/blackboard/index.js';
import { WorkflowEngine } from '../services/workflow/engine.js';
import type { WorkflowDefinition } from '../services/workflow/types.js';

export interface CoordinationOptions {
  /** A2A bus limits: maxContentBytes, maxOpen, retainClosed, maxTokens, maxParticipants. */
  a2a?: A2ABusOptions;
  /** The blackboard (`agentos.blackboard`): options, or false for none. */
  blackboard?: false | Omit<BlackboardOptions, 'db' | 'kernel'>;
  /**
   * Workflows this node runs, registered before runs resume: definitions (`defineWorkflow`,
   * `loadWorkflow`) or paths of workflow YAML files, loaded against the node's agents and tools.
   */
  workflows?: (WorkflowDefinition | string)[];
}

export interface Buses {
  a2a: A2ABus;
  blackboard: BlackboardService | undefined;
  /** After the actors stop (their last messages still go through), before LMDB closes. */
  close(): Promise<void>;
}

/** The A2A bus and the blackboard: started before recovery, so recovered agents find them. */
export async function startBuses(kernel: Kernel, db: RootDatabase, options: CoordinationOptions): Promise<Buses> {
  const a2a = createA2ABus(kernel, options.a2a);
  const blackboard = options.blackboard === false ? undefined : new BlackboardService({ ...options.blackboard, db, kernel });
  try {
    await blackboard?.start();
  } catch (err) {
    a2a.close();
    throw err;
  }
  return {
    a2a,
    blackboard,
    async close() {
      a2a.close();
      await blackboard?.close();
    },
  };
}

export interface Coordination {
  workflows: WorkflowEngine;
  /** Resume what was running when the node last stopped. */
  recover(): Promise<void>;
  /** Before the kernel stops. */
  close(): void;
}

export function startCoordination(kernel: Kernel, db: RootDatabase, agents: (name: string) => AgentDefinition | undefined, options: CoordinationOptions): Coordination {
  const workflows = new WorkflowEngine({ kernel, db, agents });
  for (const def of options.workflows ?? []) {
    if (typeof def === 'string') workflows.load(def);
    else workflows.register(def);
  }
  return {
    workflows,
    async recover() {
      await workflows.recover();
    },
    close() {
      workflows.close();
    },
  };
}
