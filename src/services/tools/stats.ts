// Call counters of the tool registry, per tool and in total. The schema pass rate
// is the share of calls whose arguments and result both conformed to the tool's
// schemas (the paper's target is ≥ 99 %); calls a policy refused never reach the
// schema check and are not counted here.

export interface ToolStats {
  /** Calls whose arguments were checked against the input schema. */
  calls: number;
  invalidInputs: number;
  invalidOutputs: number;
  /** (calls − invalid inputs − invalid outputs) / calls; null before the first call. */
  passRate: number | null;
  /** The tool threw (TOOL_FAILED or its own typed error). */
  failures: number;
  timeouts: number;
  /** Worker tools that hit a memory limit or died. */
  sandboxFailures: number;
  dryRuns: number;
  /** Refused because the tool was suspended or the caller's pinned version is missing. */
  refused: number;
}

export type StatKey = Exclude<keyof ToolStats, 'passRate'>;

const KEYS: readonly StatKey[] = ['calls', 'invalidInputs', 'invalidOutputs', 'failures', 'timeouts', 'sandboxFailures', 'dryRuns', 'refused'];

type Counters = Record<StatKey, number>;

const zero = (): Counters => ({ calls: 0, invalidInputs: 0, invalidOutputs: 0, failures: 0, timeouts: 0, sandboxFailures: 0, dryRuns: 0, refused: 0 });

export class ToolCounters {
  private readonly total = zero();
  private readonly perTool = new Map<string, Counters>();

  add(tool: string, key: StatKey): void {
    let c = this.perTool.get(tool);
    if (!c) this.perTool.set(tool, (c = zero()));
    c[key]++;
    this.total[key]++;
  }

  tool(name: string): ToolStats {
    return view(this.perTool.get(name) ?? zero());
  }

  totals(): ToolStats {
    return view(this.total);
  }

  names(): string[] {
    return [...this.perTool.keys()].sort();
  }
}

function view(c: Counters): ToolStats {
  const out = {} as ToolStats;
  for (const k of KEYS) out[k] = c[k];
  out.passRate = c.calls === 0 ? null : Math.max(0, c.calls - c.invalidInputs - c.invalidOutputs) / c.calls;
  return out;
}
