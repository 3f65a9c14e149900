import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNode, VirtualClock, type AgentOsError, type NodeOptions } from '../../src/index.js';
import { Rbac } from '../../src/kernel/policy/index.js';
import { validateNodeOptions } from '../../src/node/options.js';
import { tempDir } from '../support/tmp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const model = { id: 'local/x', contextTokens: 1024, placement: 'edge', privacy: ['public'] };
const entry = { name: 'm', version: 'v1', hash: 'sha256:aa', attributes: {} };

// Cluster options (placement, replicas and migration timings included) keep the cluster's own code.
const clusterCases: [string, Record<string, unknown>, string][] = [
  ['cluster a string', { cluster: 'ws://x' }, 'cluster'],
  ['cluster.secret short', { cluster: { secret: 'short' } }, 'cluster.secret'],
  ['cluster.seeds not addresses', { cluster: { secret: 's'.repeat(16), seeds: ['http://x'] } }, 'cluster.seeds'],
  ['cluster.listen.port 70000', { cluster: { secret: 's'.repeat(16), listen: { port: 70_000 } } }, 'cluster.listen.port'],
  ['cluster.replicas -1', { cluster: { secret: 's'.repeat(16), replicas: -1 } }, 'cluster.replicas'],
  ['cluster.placement unknown', { cluster: { secret: 's'.repeat(16), placement: 'moon' } }, 'cluster.placement'],
  ['cluster.migration.drainMs 0', { cluster: { secret: 's'.repeat(16), migration: { drainMs: 0 } } }, 'cluster.migration.drainMs'],
  ['cluster.membership a number', { cluster: { secret: 's'.repeat(16), membership: 5 } }, 'cluster.membership'],
];

// [label, bad options (merged over a valid base), field named]
const cases: [string, Record<string, unknown>, string][] = [
  ['name missing', { name: undefined }, 'name'],
  ['name with a slash', { name: 'a/b' }, 'name'],
  ['dataDir a number', { dataDir: 5 }, 'dataDir'],
  ['dataDir empty', { dataDir: '' }, 'dataDir'],
  ['clock {}', { clock: {} }, 'clock'],
  ['clock null', { clock: null }, 'clock'],
  ['clock without clearTimeout', { clock: { now: () => 0, setTimeout: () => 0 } }, 'clock'],
  ['inspect a string', { inspect: 'log' }, 'inspect'],
  ['defer a string', { defer: 'x' }, 'defer'],
  ['maxPayloadBytes NaN', { maxPayloadBytes: NaN }, 'maxPayloadBytes'],
  ['maxPayloadBytes 0', { maxPayloadBytes: 0 }, 'maxPayloadBytes'],
  ['maxPayloadBytes a string', { maxPayloadBytes: '1MB' }, 'maxPayloadBytes'],
  ['validate a string', { validate: 'yes' }, 'validate'],
  ['mailbox a number', { mailbox: 5 }, 'mailbox'],
  ['mailbox.capacity 0', { mailbox: { capacity: 0 } }, 'mailbox.capacity'],
  ['mailbox.capacity 1.5', { mailbox: { capacity: 1.5 } }, 'mailbox.capacity'],
  ['mailbox.overflow unknown', { mailbox: { overflow: 'drop' } }, 'mailbox.overflow'],
  ['mailbox unknown key', { mailbox: { capcity: 10 } }, 'mailbox.capcity'],
  ['scheduler.batchSize NaN', { scheduler: { batchSize: NaN } }, 'scheduler.batchSize'],
  ['scheduler.batchSize 0', { scheduler: { batchSize: 0 } }, 'scheduler.batchSize'],
  ['scheduler.dtMinShare NaN', { scheduler: { dtMinShare: NaN } }, 'scheduler.dtMinShare'],
  ['scheduler.dtMinShare 2', { scheduler: { dtMinShare: 2 } }, 'scheduler.dtMinShare'],
  ['scheduler.sliceMs -1', { scheduler: { sliceMs: -1 } }, 'scheduler.sliceMs'],
  ['scheduler.srtLevels 0', { scheduler: { srtLevels: 0 } }, 'scheduler.srtLevels'],
  ['scheduler.srtLevels 33', { scheduler: { srtLevels: 33 } }, 'scheduler.srtLevels'],
  ['scheduler.srtBurst 0.5', { scheduler: { srtBurst: 0.5 } }, 'scheduler.srtBurst'],
  ['root.intensity -1', { root: { intensity: -1 } }, 'root.intensity'],
  ['root.intensity NaN', { root: { intensity: NaN } }, 'root.intensity'],
  ['root.periodMs 0', { root: { periodMs: 0 } }, 'root.periodMs'],
  ['capacity.cpu garbage', { capacity: { cpu: 'lots' } }, 'capacity.cpu'],
  ['capacity.cpu 0', { capacity: { cpu: 0 } }, 'capacity.cpu'],
  ['capacity.mem garbage', { capacity: { mem: '1 elephant' } }, 'capacity.mem'],
  ['capacity.mem fractional bytes', { capacity: { mem: 1.5 } }, 'capacity.mem'],
  ['hrtPolicy unknown', { hrtPolicy: 'fifo' }, 'hrtPolicy'],
  ['models not an array', { models: model }, 'models'],
  ['models[0].id missing', { models: [{ ...model, id: undefined }] }, 'models[0].id'],
  ['models[0].contextTokens NaN', { models: [{ ...model, contextTokens: NaN }] }, 'models[0].contextTokens'],
  ['models[0].placement a number', { models: [{ ...model, placement: 1 }] }, 'models[0].placement'],
  ['models[1].privacy a string', { models: [model, { ...model, privacy: 'public' }] }, 'models[1].privacy'],
  ['registry not an array', { registry: {} }, 'registry'],
  ['registry[0].version garbage', { registry: [{ ...entry, version: 'latest' }] }, 'registry[0].version'],
  ['registry[0].attributes missing', { registry: [{ ...entry, attributes: undefined }] }, 'registry[0].attributes'],
  ['registry[1].hash repeated', { registry: [entry, { ...entry, version: 'v2' }] }, 'registry[1].hash'],
  ['conditions unknown', { conditions: ['bandwidth_low', 'raining'] }, 'conditions[1]'],
  ['rbac a plain object', { rbac: { roles: {} } }, 'rbac'],
  ['consent.timeoutMs NaN', { consent: { timeoutMs: NaN } }, 'consent.timeoutMs'],
  ['consent.expiresInMs 0', { consent: { expiresInMs: 0 } }, 'consent.expiresInMs'],
  ['consent.escalationTimeoutMs Infinity', { consent: { escalationTimeoutMs: Infinity } }, 'consent.escalationTimeoutMs'],
  ['consent.escalateTo unknown role', { rbac: new Rbac({ roles: { ops: { permissions: [] } } }), consent: { escalateTo: 'boss' } }, 'consent.escalateTo'],
  ['unknown top-level option', { schedular: { batchSize: 1 } }, 'schedular'],
];

describe('createNode option validation', () => {
  it.each(clusterCases)('rejects %s with CLUSTER_INVALID_OPTIONS naming the field, before anything starts', async (_label, bad, field) => {
    const options = { name: 'opt', dataDir: tmp.dir, clock: new VirtualClock(0), ...bad } as unknown as NodeOptions;
    const err = (await createNode(options).catch((e: unknown) => e)) as AgentOsError;
    expect(err).toMatchObject({ code: 'CLUSTER_INVALID_OPTIONS', field });
    expect(existsSync(join(tmp.dir, 'opt', 'LOCK'))).toBe(false);
  });

  it.each(cases)('rejects %s with INVALID_OPTIONS naming the field', async (_label, bad, field) => {
    const options = { name: 'opt', dataDir: tmp.dir, clock: new VirtualClock(0), ...bad } as unknown as NodeOptions;
    const err = (await createNode(options).catch((e: unknown) => e)) as AgentOsError;
    expect(err).toMatchObject({ code: 'INVALID_OPTIONS', field });
    expect(err.message).toMatch(new RegExp(`^createNode: ${field.replace(/[[\].]/g, '\\$&')} `));
    // Nothing was left locked (or even created): a valid node on the same dataDir starts.
    expect(existsSync(join(tmp.dir, 'opt', 'LOCK'))).toBe(false);
    const node = await createNode({ name: 'opt', dataDir: tmp.dir, clock: new VirtualClock(0) });
    await node.stop();
  });

  it('says what it got, in words a person reads', () => {
    expect(() => validateNodeOptions({ name: 'n', scheduler: { batchSize: NaN } })).toThrow('createNode: scheduler.batchSize must be a positive integer (got NaN)');
    expect(() => validateNodeOptions({ name: 'n', clock: {} })).toThrow(/clock must be a Clock .*missing now, setTimeout, clearTimeout/);
    expect(() => validateNodeOptions({ name: 'n', capacity: { cpu: 'x' } })).toThrow(/^createNode: capacity\.cpu is not a CPU quantity/);
    expect(() => validateNodeOptions(undefined)).toThrow(/options must be an object/);
  });

  it('accepts every option when well-formed', async () => {
    const rbac = new Rbac({ roles: { ops: { permissions: [] } } });
    const node = await createNode({
      name: 'full',
      dataDir: tmp.dir,
      clock: new VirtualClock(0),
      inspect: () => {},
      defer: (fn) => setImmediate(fn),
      maxPayloadBytes: 2048,
      validate: false,
      mailbox: { capacity: Infinity, overflow: 'drop-oldest' },
      scheduler: { dtMinShare: 0, batchSize: 64, sliceMs: 2, srtLevels: 4, srtBurst: Infinity },
      root: { intensity: 0, periodMs: 1000 },
      capacity: { cpu: '500m', mem: '512Mi' },
      hrtPolicy: 'rm',
      models: [model],
      registry: [{ ...entry, kind: 'model', slo: { p95LatencyMs: 300 } }],
      conditions: ['bandwidth_low'],
      rbac,
      consent: { timeoutMs: 1000, escalateTo: 'ops', escalationTimeoutMs: 2000, expiresInMs: 500 },
    });
    await node.stop();
  });
});
