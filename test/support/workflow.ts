// Workflow test kit: a compact builder for the engine's IR (so engine tests do
// not depend on the YAML front end), and step agents whose answers a test scripts.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { defineAgent, reply, replyHandle, respond, type ReplyHandle, type RuntimeContractView, type StepRequest } from '../../src/index.js';
import { digest } from '../../src/services/workflow/data.js';
import type { Condition, JsonSchema, Source, Step, WorkflowDefinition } from '../../src/services/workflow/types.js';

const obj = (fields: string[] = [], required = fields): JsonSchema => ({
  type: 'object',
  properties: Object.fromEntries(fields.map((f) => [f, {}])),
  required,
});

export interface StepSpec {
  id: string;
  type?: Step['type'];
  agent?: string;
  needs?: string[];
  in?: string[];
  out?: string[];
  /** Field → "input.x" | "step.field" | { value }. Default: same name from the nearest upstream step that outputs it, else input. */
  from?: Record<string, string | { value: unknown }>;
  when?: Condition;
  idempotent?: boolean;
  attempts?: number;
  backoffMs?: number;
  compensate?: string;
  mode?: 'service' | 'instance';
  message?: string;
  timeoutMs?: number;
  contract?: Record<string, unknown>;
  binding?: 'strict' | 'smooth' | 'flexible';
  consentFor?: string[];
  escalateTo?: string;
  escalationTimeoutMs?: number;
  workflow?: string;
  body?: WorkflowDefinition;
  until?: Condition;
  maxIterations?: number;
}

export function cond(text: string): Condition {
  const m = /^(\w+)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(text)!;
  return { field: m[1]!, op: m[2] as Condition['op'], value: JSON.parse(m[3]!.replace(/'/g, '"')) as Condition['value'], text };
}

export function ir(spec: { name: string; input?: string[]; output?: Record<string, string>; steps: StepSpec[]; version?: string }): WorkflowDefinition {
  const steps: Step[] = [];
  const outs = new Map<string, string[]>();
  spec.steps.forEach((s, i) => {
    const needs = s.needs ?? (i === 0 ? [] : [spec.steps[i - 1]!.id]);
    const bind: Record<string, Source> = {};
    for (const f of s.in ?? []) {
      const given = s.from?.[f];
      if (given && typeof given === 'object') bind[f] = { from: 'value', value: given.value };
      else if (given) {
        const [a, b] = given.split('.');
        bind[f] = a === 'input' ? { from: 'input', field: b! } : { from: 'step', step: a!, field: b! };
      } else {
        const up = upstream(needs, spec.steps).find((u) => outs.get(u)?.includes(f));
        bind[f] = up ? { from: 'step', step: up, field: f } : { from: 'input', field: f };
      }
    }
    outs.set(s.id, s.out ?? []);
    const base = { id: s.id, needs, in: obj(s.in), out: obj(s.out), bind, timeoutMs: s.timeoutMs ?? 5000, ...(s.when ? { when: s.when } : {}) };
    const type = s.type ?? 'agent';
    if (type === 'agent') {
      steps.push({
        ...base, type, agent: s.agent ?? 'worker', binding: s.binding ?? 'strict', mode: s.mode ?? 'service', message: s.message ?? 'step',
        idempotent: s.idempotent ?? false, retry: { attempts: s.attempts ?? 1, backoffMs: s.backoffMs ?? 100, factor: 2, maxBackoffMs: 10_000 },
        ...(s.contract ? { contract: s.contract } : {}), ...(s.compensate ? { compensate: s.compensate } : {}),
      });
    } else if (type === 'HITL_approval') {
      steps.push({ ...base, out: obj(), type, policy: { consentFor: s.consentFor ?? ['email.send'], roles: [], timeoutMs: s.timeoutMs ?? 60_000, ...(s.escalateTo ? { escalateTo: s.escalateTo } : {}), ...(s.escalationTimeoutMs ? { escalationTimeoutMs: s.escalationTimeoutMs } : {}) } });
    } else if (type === 'workflow') {
      steps.push({ ...base, type, workflow: s.workflow! });
    } else {
      steps.push({ ...base, type: 'loop', body: s.body!, until: s.until!, maxIterations: s.maxIterations ?? 5 });
    }
  });
  const output: Record<string, Source> = {};
  for (const [k, v] of Object.entries(spec.output ?? {})) {
    const [a, b] = v.split('.');
    output[k] = a === 'input' ? { from: 'input', field: b! } : { from: 'step', step: a!, field: b! };
  }
  const def = { name: spec.name, version: spec.version ?? '1', input: obj(spec.input), output, types: {}, steps };
  return { ...def, hash: digest(def) };
}

function upstream(needs: string[], all: StepSpec[]): string[] {
  const out: string[] = [];
  const queue = [...needs];
  while (queue.length) {
    const id = queue.shift()!;
    if (out.includes(id)) continue;
    out.push(id);
    const i = all.findIndex((s) => s.id === id);
    queue.push(...(all[i]!.needs ?? (i === 0 ? [] : [all[i - 1]!.id])));
  }
  return out;
}

/** The message a step's agent receives. */
export type StepCall = StepRequest;

const stepMessages = z.object({ type: z.string(), input: z.record(z.string(), z.unknown()).optional(), key: z.string().optional(), run: z.string().optional(), step: z.string().optional(), attempt: z.number().optional(), output: z.unknown().optional() });

/** An agent answering every message with `behave(call)`; throwing crashes it (the step fails). */
export function stepAgent(name: string, behave: (call: StepCall) => unknown, contract?: RuntimeContractView) {
  const machine = setup({
    types: { context: {} as { n: number }, events: {} as StepCall },
    actions: { answer: reply(({ event }) => behave(event as StepCall)) },
  }).createMachine({
    context: { n: 0 },
    initial: 'up',
    // Explicit shutdown first: a wildcard alone would also catch the graceful-stop event and delay every stop.
    states: { up: { on: { 'agentos.shutdown': 'down', '*': { actions: ['answer', assign({ n: ({ context }) => context.n + 1 })] } } }, down: { type: 'final' } },
  });
  return defineAgent({ name, machine, messages: stepMessages, ...(contract ? { contract } : {}) });
}

/** An agent that holds its answer until it gets `{ type: 'release' }` (to observe steps running at once). */
export function heldAgent(name: string, behave: (call: StepCall) => unknown) {
  type Ctx = { h: ReplyHandle | undefined; value: unknown };
  const machine = setup({ types: { context: {} as Ctx, events: {} as StepCall } }).createMachine({
    context: { h: undefined, value: undefined },
    initial: 'up',
    states: {
      up: {
        on: {
          'agentos.shutdown': 'down',
          release: { actions: respond(({ context }) => (context as Ctx).h, ({ context }) => (context as Ctx).value) },
          '*': { actions: assign({ h: (args) => replyHandle(args), value: (args) => behave(args.event as StepCall) }) },
        },
      },
      down: { type: 'final' },
    },
  });
  return defineAgent({ name, machine, messages: stepMessages });
}
