// The kernel's option and spawn types (kept apart so kernel.ts holds behaviour only).

import type { RootDatabase } from 'lmdb';
import type { InspectionEvent } from 'xstate';
import type { AgentDefinition } from '../actors/define.js';
import type { Clock } from '../base/clock.js';
import type { ExitReason } from '../base/exit.js';
import type { TokenSource } from '../base/tokens.js';
import type { OverflowPolicy } from '../mailboxes/types.js';
import type { RestartType } from '../supervisors/types.js';
import type { SystemEvent } from './events.js';
import type { Governance } from './governance.js';
import type { HrtLaneOptions } from './hrt/host.js';
import type { SchedulerOptions } from './scheduler.js';
import type { Telemetry } from './trace.js';

/** What a child spec's `start` may be at this layer. */
export type StartTarget = AgentDefinition | { agent: AgentDefinition; input?: unknown };

export interface KernelOptions {
  nodeId: string;
  clock: Clock;
  defer: (fn: () => void) => void;
  governance: Governance;
  inspect?: (event: SystemEvent | InspectionEvent) => void;
  maxPayloadBytes?: number;
  validate?: boolean;
  mailbox?: { capacity?: number; overflow?: OverflowPolicy };
  scheduler?: Pick<SchedulerOptions, 'dtMinShare' | 'batchSize' | 'sliceMs' | 'srtLevels' | 'srtBurst'>;
  root?: { intensity?: number; periodMs?: number };
  onRootExit?: (reason: ExitReason) => void;
  /** The node's LMDB: persistent actors keep their checkpoints, inbox, turn log and effect journal here. */
  db?: RootDatabase;
  /** OpenTelemetry tracer and meter (default: nothing recorded). */
  telemetry?: Telemetry;
  /** HRT lanes: worker threads for HRT actors whose definition has `lane`. */
  hrt?: HrtLaneOptions;
  /** Where ask correlation ids get their unguessable part (default: the OS CSPRNG). */
  tokens?: TokenSource;
  /** Scrubs secrets and credentials from what operators see: inspect events and dead letters. */
  redact?: (value: unknown) => unknown;
}

export interface SpawnOptions {
  id: string;
  tenant?: string;
  restart?: RestartType;
  shutdownMs?: number | 'infinity';
  input?: unknown;
}
