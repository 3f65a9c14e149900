// What the tool registry reports to OpenTelemetry: one `agentos.tool` span per
// call under the kernel's syscall span, and three counters — calls by outcome,
// schema refusals, redactions. The Telemetry is read on every use (the node may
// configure it after the registry is built); instruments are made once per meter.

import type { Counter, Meter } from '@opentelemetry/api';
import { AgentOsError, PolicyDenied } from '../../base/errors.js';
import { NO_TELEMETRY, type Telemetry } from '../../kernel/trace.js';
import { ToolCodes } from './errors.js';

/** How a call ended, as the `outcome` attribute of `agentos.tool.calls`. */
export type ToolOutcome = 'ok' | 'dry_run' | 'invalid_args' | 'invalid_output' | 'refused' | 'timeout' | 'sandbox' | 'aborted' | 'error';

interface Instruments {
  meter: Meter;
  calls: Counter;
  invalid: Counter;
  redactions: Counter;
}

export class ToolMeters {
  private instruments: Instruments | undefined;

  constructor(private readonly source: () => Telemetry) {}

  get telemetry(): Telemetry {
    return this.source();
  }

  call(tool: string, outcome: ToolOutcome): void {
    this.get()?.calls.add(1, { tool, outcome });
  }

  schemaInvalid(tool: string, what: 'arguments' | 'output'): void {
    this.get()?.invalid.add(1, { tool, what });
  }

  redacted(tool: string, count: number): void {
    if (count > 0) this.get()?.redactions.add(count, { tool });
  }

  private get(): Instruments | undefined {
    const t = this.source();
    if (!t.enabled) return undefined;
    if (this.instruments?.meter !== t.meter) {
      const meter = t.meter;
      this.instruments = {
        meter,
        calls: meter.createCounter('agentos.tool.calls', { description: 'Tool calls that reached the registry, by tool and outcome' }),
        invalid: meter.createCounter('agentos.tool.schema.invalid', { description: 'Tool arguments or results refused by their schema' }),
        redactions: meter.createCounter('agentos.redactions', { description: 'Secrets and credentials scrubbed from tool arguments, results and errors' }),
      };
    }
    return this.instruments;
  }
}

/** The registry's telemetry: its own option, else the kernel's (once the node wires it), else nothing. */
export function telemetrySource(own: Telemetry | undefined, kernel: object): () => Telemetry {
  return () => own ?? (kernel as { telemetry?: Telemetry }).telemetry ?? NO_TELEMETRY;
}

/** The outcome of a call that failed with `err`. */
export function outcomeOf(err: unknown): ToolOutcome {
  const code = err instanceof AgentOsError ? err.code : undefined;
  switch (code) {
    case ToolCodes.invalidArgs:
      return 'invalid_args';
    case ToolCodes.invalidOutput:
      return 'invalid_output';
    case ToolCodes.timeout:
      return 'timeout';
    case ToolCodes.sandboxLimit:
    case ToolCodes.sandboxLoad:
    case ToolCodes.crashed:
    case ToolCodes.closed:
      return 'sandbox';
    case ToolCodes.suspended:
    case ToolCodes.versionUnavailable:
      return 'refused';
    case 'CALL_ABORTED':
      return 'aborted';
    default:
      return err instanceof PolicyDenied ? 'refused' : 'error';
  }
}
