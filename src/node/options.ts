// Validation of createNode's options, all of them, before anything touches the
// disk. A bad value fails here with INVALID_OPTIONS naming the option path
// (`scheduler.batchSize`, `capacity.cpu`, …) instead of spinning, starving or
// throwing a raw TypeError much later.

import { checkLineageOptions } from '../services/telemetry/lineage.js';
import { checkClusterOptions } from './cluster.js';
import { AgentOsError, ErrorCodes } from '../base/errors.js';
import { NODE_NAME_PATTERN } from '../base/names.js';
import { ID_PATTERN } from '../kernel/spawn-checks.js';
import { BINDING_CONDITIONS, staticRegistry } from '../kernel/binding/index.js';
import { cpuMillicores, memoryBytes } from '../kernel/contract/units.js';
import { Rbac } from '../kernel/policy/index.js';
import { MAX_PRIORITY_LEVELS } from '../mailboxes/priority.js';
import { checkTelemetryOptions } from '../services/telemetry/index.js';
import type { NodeOptions } from './node.js';

const OVERFLOW_POLICIES = ['reject', 'drop-oldest', 'drop-newest'] as const;
const HRT_POLICIES = ['edf', 'rm'] as const;

/** Option keys createNode knows, per object; anything else is a typo. */
const KNOWN = {
  '': ['name', 'dataDir', 'clock', 'inspect', 'maxPayloadBytes', 'validate', 'mailbox', 'scheduler', 'root', 'capacity', 'hrtPolicy', 'models', 'registry', 'conditions', 'rbac', 'consent', 'tenants', 'defer', 'agents', 'tools', 'modelGateway', 'secrets', 'toolSandbox', 'dryRun', 'memory', 'telemetry', 'hrt', 'hrtThreads', 'control', 'workflows', 'a2a', 'blackboard', 'cluster', 'lineage', 'inspector'],
  hrt: ['lanes', 'realtime', 'ringSlots', 'slotBytes', 'reportEveryMs', 'execArgv'],
  telemetry: ['exporter', 'otlp', 'spanProcessors', 'metricReaders', 'sampleRatio', 'metricIntervalMs'],
  toolSandbox: ['maxThreads', 'timeoutMs', 'memoryMb', 'idleTimeoutMs', 'execArgv'],
  mailbox: ['capacity', 'overflow'],
  scheduler: ['dtMinShare', 'batchSize', 'sliceMs', 'srtLevels', 'srtBurst'],
  root: ['intensity', 'periodMs'],
  capacity: ['cpu', 'mem'],
  consent: ['timeoutMs', 'escalateTo', 'escalationTimeoutMs', 'expiresInMs'],
} as const;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function fail(field: string, message: string, cause?: unknown): never {
  throw new AgentOsError(ErrorCodes.invalidOptions, `createNode: ${field} ${message}`, { field, ...(cause === undefined ? {} : { cause }) });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A plain options object (or absent); unknown keys are rejected. */
function section(value: unknown, field: keyof typeof KNOWN): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(field || 'options', `must be an object (got ${show(value)})`);
  const known: readonly string[] = KNOWN[field];
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(field ? `${field}.${key}` : key, `is not a createNode option (known: ${known.join(', ')})`);
  }
  return value;
}

function positiveInteger(value: unknown, field: string, allowInfinity = false): void {
  if (value === undefined) return;
  const ok = typeof value === 'number' && value >= 1 && (Number.isSafeInteger(value) || (allowInfinity && value === Infinity));
  if (!ok) fail(field, `must be a positive integer${allowInfinity ? ' or Infinity' : ''} (got ${show(value)})`);
}

function positiveMs(value: unknown, field: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(field, `must be a positive finite number of ms (got ${show(value)})`);
}

function nonEmptyString(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0) fail(field, `must be a non-empty string (got ${show(value)})`);
}

function oneOf(value: unknown, field: string, allowed: readonly string[]): void {
  if (value === undefined) return;
  if (!allowed.includes(value as string)) fail(field, `must be one of ${allowed.join(' | ')} (got ${show(value)})`);
}

function fn(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'function') fail(field, `must be a function (got ${show(value)})`);
}

function array(value: unknown, field: string): unknown[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail(field, `must be an array (got ${show(value)})`);
  return value;
}

/**
 * Checks every field of `NodeOptions`; throws an AgentOsError with code
 * INVALID_OPTIONS and `field` set to the option path at the first bad one.
 */
export function validateNodeOptions(options: unknown): asserts options is NodeOptions {
  const o = section(options, '');
  if (o === undefined) fail('options', 'must be an object (got undefined)');

  if (typeof o.name !== 'string' || !NODE_NAME_PATTERN.test(o.name)) {
    fail('name', `must be 1-64 characters of letters, digits, _ . - (got ${JSON.stringify(o.name)})`);
  }
  if (o.dataDir !== undefined) {
    nonEmptyString(o.dataDir, 'dataDir');
    if ((o.dataDir as string).includes('\0')) fail('dataDir', 'must not contain a NUL character');
  }

  if (o.clock !== undefined) {
    if (!isObject(o.clock)) fail('clock', `must be a Clock with now, setTimeout and clearTimeout methods (got ${show(o.clock)})`);
    const clock = o.clock;
    const missing = (['now', 'setTimeout', 'clearTimeout'] as const).filter((m) => typeof clock[m] !== 'function');
    if (missing.length > 0) fail('clock', `must be a Clock with now, setTimeout and clearTimeout methods (missing ${missing.join(', ')})`);
  }
  fn(o.inspect, 'inspect');
  fn(o.defer, 'defer');
  if (o.memory !== undefined && o.memory !== false && !isObject(o.memory)) fail('memory', `must be false or an object of memory options (got ${show(o.memory)})`);
  if (o.secrets !== undefined && !isObject(o.secrets)) fail('secrets', `must be a SecretStore or an object of name → value (got ${show(o.secrets)})`);
  const sandbox = section(o.toolSandbox, 'toolSandbox');
  for (const k of ['maxThreads', 'timeoutMs', 'memoryMb', 'idleTimeoutMs'] as const) {
    const v = sandbox?.[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v > 0)) fail(`toolSandbox.${k}`, `must be a positive integer (got ${show(v)})`);
  }
  const execArgv = sandbox?.execArgv;
  if (execArgv !== undefined && !(Array.isArray(execArgv) && execArgv.every((a) => typeof a === 'string'))) fail('toolSandbox.execArgv', `must be an array of strings (got ${show(execArgv)})`);
  if (o.control !== undefined && typeof o.control !== 'boolean') {
    if (!isObject(o.control) || Object.keys(o.control).some((k) => k !== 'port')) fail('control', `must be true, false or { port } (got ${show(o.control)})`);
    const port = (o.control as { port?: unknown }).port;
    if (port !== undefined && !(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535)) fail('control.port', `must be a port number 0-65535 (got ${show(port)})`);
  }
  const hrt = section(o.hrt, 'hrt');
  positiveInteger(hrt?.lanes, 'hrt.lanes');
  positiveInteger(o.hrtThreads, 'hrtThreads');
  if (o.hrtThreads !== undefined && hrt?.lanes !== undefined && o.hrtThreads !== hrt.lanes) fail('hrtThreads', `and hrt.lanes disagree (${show(o.hrtThreads)} vs ${show(hrt.lanes)}): give one`);
  positiveInteger(hrt?.reportEveryMs, 'hrt.reportEveryMs');
  positiveInteger(hrt?.slotBytes, 'hrt.slotBytes');
  if (hrt?.ringSlots !== undefined && !(Number.isSafeInteger(hrt.ringSlots) && (hrt.ringSlots as number) > 0 && ((hrt.ringSlots as number) & ((hrt.ringSlots as number) - 1)) === 0)) fail('hrt.ringSlots', `must be a power of two (got ${show(hrt.ringSlots)})`);
  if (hrt?.realtime !== undefined && typeof hrt.realtime !== 'boolean') fail('hrt.realtime', `must be true or false (got ${show(hrt.realtime)})`);
  if (hrt?.execArgv !== undefined && !(Array.isArray(hrt.execArgv) && hrt.execArgv.every((a) => typeof a === 'string'))) fail('hrt.execArgv', `must be an array of strings (got ${show(hrt.execArgv)})`);
  section(o.telemetry, 'telemetry');
  checkTelemetryOptions(o.telemetry);
  checkLineageOptions(o.lineage);
  if (o.modelGateway !== undefined && !isObject(o.modelGateway)) fail('modelGateway', `must be a ModelGateway or its options object (got ${show(o.modelGateway)})`);
  if (o.tools !== undefined) {
    if (!Array.isArray(o.tools)) fail('tools', `must be an array of defineTool(...) definitions (got ${show(o.tools)})`);
    o.tools.forEach((t: unknown, i: number) => {
      if (!isObject(t) || t.kind !== 'tool') fail(`tools[${i}]`, `must be a defineTool(...) definition (got ${show(t)})`);
    });
  }
  if (o.cluster !== undefined) checkClusterOptions(o.cluster);
  if (o.workflows !== undefined) {
    if (!Array.isArray(o.workflows)) fail('workflows', `must be an array of workflow definitions (loadWorkflow/defineWorkflow) or workflow file paths (got ${show(o.workflows)})`);
    o.workflows.forEach((w: unknown, i: number) => {
      if (typeof w === 'string' && w.length > 0) return;
      const d = w as { name?: unknown; hash?: unknown; steps?: unknown } | null;
      if (!isObject(d) || typeof d.name !== 'string' || typeof d.hash !== 'string' || !Array.isArray(d.steps)) {
        fail(`workflows[${i}]`, `must be a workflow definition (loadWorkflow/defineWorkflow) or a workflow file path (got ${show(w)})`);
      }
    });
  }
  if (o.agents !== undefined) {
    if (!Array.isArray(o.agents)) fail('agents', `must be an array of defineAgent(...) definitions (got ${show(o.agents)})`);
    o.agents.forEach((a: unknown, i: number) => {
      if (!isObject(a) || a.kind !== 'agent') fail(`agents[${i}]`, `must be a defineAgent(...) definition (got ${show(a)})`);
    });
  }

  positiveInteger(o.maxPayloadBytes, 'maxPayloadBytes', true);
  if (o.validate !== undefined && typeof o.validate !== 'boolean') fail('validate', `must be true or false (got ${show(o.validate)})`);

  const mailbox = section(o.mailbox, 'mailbox');
  if (mailbox) {
    positiveInteger(mailbox.capacity, 'mailbox.capacity', true);
    oneOf(mailbox.overflow, 'mailbox.overflow', OVERFLOW_POLICIES);
  }

  const scheduler = section(o.scheduler, 'scheduler');
  if (scheduler) {
    const share = scheduler.dtMinShare;
    if (share !== undefined && (typeof share !== 'number' || !(share >= 0 && share <= 1))) {
      fail('scheduler.dtMinShare', `must be a number from 0 to 1 (got ${show(share)})`);
    }
    positiveInteger(scheduler.batchSize, 'scheduler.batchSize');
    positiveMs(scheduler.sliceMs, 'scheduler.sliceMs');
    const levels = scheduler.srtLevels;
    if (levels !== undefined && (typeof levels !== 'number' || !Number.isInteger(levels) || levels < 1 || levels > MAX_PRIORITY_LEVELS)) {
      fail('scheduler.srtLevels', `must be an integer from 1 to ${MAX_PRIORITY_LEVELS} (got ${show(levels)})`);
    }
    positiveInteger(scheduler.srtBurst, 'scheduler.srtBurst', true);
  }

  const root = section(o.root, 'root');
  if (root) {
    const intensity = root.intensity;
    if (intensity !== undefined && (typeof intensity !== 'number' || !Number.isSafeInteger(intensity) || intensity < 0)) {
      fail('root.intensity', `must be a non-negative integer (got ${show(intensity)})`);
    }
    positiveMs(root.periodMs, 'root.periodMs');
  }

  const capacity = section(o.capacity, 'capacity');
  if (capacity) {
    if (capacity.cpu !== undefined) {
      const r = cpuMillicores(capacity.cpu);
      if (!r.ok) fail('capacity.cpu', `is not a CPU quantity: ${r.reason}`);
    }
    if (capacity.mem !== undefined) {
      const r = memoryBytes(capacity.mem);
      if (!r.ok) fail('capacity.mem', `is not a memory quantity: ${r.reason}`);
    }
  }

  oneOf(o.hrtPolicy, 'hrtPolicy', HRT_POLICIES);

  array(o.models, 'models')?.forEach((m, i) => {
    const field = `models[${i}]`;
    if (!isObject(m)) fail(field, `must be an object { id, contextTokens, placement, privacy } (got ${show(m)})`);
    nonEmptyString(m.id, `${field}.id`);
    if (m.contextTokens === undefined) fail(`${field}.contextTokens`, 'must be a positive integer (got undefined)');
    positiveInteger(m.contextTokens, `${field}.contextTokens`);
    nonEmptyString(m.placement, `${field}.placement`);
    const privacy = array(m.privacy, `${field}.privacy`);
    if (privacy === undefined) fail(`${field}.privacy`, 'must be an array of privacy tags (got undefined)');
    privacy.forEach((tag, j) => nonEmptyString(tag, `${field}.privacy[${j}]`));
  });

  const registry = array(o.registry, 'registry');
  if (registry) {
    registry.forEach((e, i) => {
      const field = `registry[${i}]`;
      if (!isObject(e)) fail(field, `must be an object { name, version, hash, attributes } (got ${show(e)})`);
      oneOf(e.kind, `${field}.kind`, ['model', 'tool']);
      if (!isObject(e.attributes)) fail(`${field}.attributes`, `must be an object (got ${show(e.attributes)})`);
      if (e.slo !== undefined) {
        if (!isObject(e.slo)) fail(`${field}.slo`, `must be an object of numbers (got ${show(e.slo)})`);
        for (const [k, v] of Object.entries(e.slo)) {
          if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${field}.slo.${k}`, `must be a finite number (got ${show(v)})`);
        }
      }
    });
    try {
      staticRegistry(registry as never); // names, hashes, versions and duplicate hashes
    } catch (err) {
      const inner = err as AgentOsError;
      const field = typeof inner.field === 'string' ? inner.field : 'registry';
      const message = (inner.message ?? String(err)).replace(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}:? ?`), '');
      fail(field, message, err);
    }
  }

  array(o.conditions, 'conditions')?.forEach((c, i) => oneOf(c, `conditions[${i}]`, BINDING_CONDITIONS));

  if (o.rbac !== undefined && !(o.rbac instanceof Rbac)) fail('rbac', `must be an Rbac (new Rbac({ roles, bindings })) (got ${show(o.rbac)})`);

  if (o.tenants !== undefined) {
    if (typeof o.tenants !== 'object' || o.tenants === null || Array.isArray(o.tenants)) fail('tenants', `must be an object of tenant → budgets (got ${show(o.tenants)})`);
    for (const [tenant, limits] of Object.entries(o.tenants as Record<string, unknown>)) {
      if (!ID_PATTERN.test(tenant)) fail(`tenants.${tenant}`, 'is not a valid tenant name (as in spawn: 1-128 letters, digits and _.:@-)');
      if (typeof limits !== 'object' || limits === null) fail(`tenants.${tenant}`, `must be { tokens_per_minute?, tokens_per_second?, tokens? } (got ${show(limits)})`);
      for (const [k, v] of Object.entries(limits as Record<string, unknown>)) {
        if (!['tokens_per_minute', 'tokens_per_second', 'tokens'].includes(k)) fail(`tenants.${tenant}.${k}`, 'is not a budget (tokens_per_minute, tokens_per_second, tokens)');
        positiveInteger(v, `tenants.${tenant}.${k}`);
      }
    }
  }

  const consent = section(o.consent, 'consent');
  if (consent) {
    positiveMs(consent.timeoutMs, 'consent.timeoutMs');
    positiveMs(consent.escalationTimeoutMs, 'consent.escalationTimeoutMs');
    positiveMs(consent.expiresInMs, 'consent.expiresInMs');
    if (consent.escalateTo !== undefined) {
      nonEmptyString(consent.escalateTo, 'consent.escalateTo');
      if (o.rbac instanceof Rbac && !o.rbac.roleNames().includes(consent.escalateTo as string)) {
        fail('consent.escalateTo', `names unknown role ${show(consent.escalateTo)} (roles: ${o.rbac.roleNames().join(', ') || 'none'})`);
      }
    }
  }
}
