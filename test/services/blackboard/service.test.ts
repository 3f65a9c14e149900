// The blackboard service end to end on a real node and a real LMDB: agents post,
// read and query through the `blackboard` invoke; compare-and-set refuses stale
// writes with a typed, audited error and leaves the board as it was; topic
// schemas, capabilities (whole-board and per topic) and tenants bound who writes
// and sees what; subscriptions notify and are dropped with their actor; entries
// and versions survive a restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sha256Hex, canonicalJson } from '../../../src/base/canonical.js';
import type { AgentOsNode } from '../../../src/index.js';
import { BlackboardCodes, BOARD_ID } from '../../../src/services/blackboard/index.js';
import { tempDir } from '../../support/tmp.js';
import { caller } from '../../support/caller.js';
import { boardNode, client, ctx, until, type BoardNode } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let b: BoardNode;

beforeEach(async () => {
  tmp = tempDir();
  b = await boardNode(tmp.dir);
});
afterEach(async () => {
  await b.stop();
  tmp.cleanup();
});

const records = (n: AgentOsNode) => Array.from({ length: n.audit.size }, (_, i) => n.audit.record(i) as unknown as Record<string, any>);
const boardRecords = (n: AgentOsNode) => records(n).filter((r) => r.kind === 'blackboard');

/** Run one request as agent `id` and wait for its outcome. */
async function run(id: string, request: Record<string, unknown>): Promise<{ result?: unknown; error?: { code: string; field?: string; details?: Record<string, unknown> } }> {
  const before = ctx(b.node, id);
  const [r, e] = [before.results.length, before.errors.length];
  b.node.lookup(id)!.send({ type: 'do', request } as never);
  await until(() => ctx(b.node, id).results.length > r || ctx(b.node, id).errors.length > e);
  const after = ctx(b.node, id);
  return after.results.length > r ? { result: after.results[r] } : { error: after.errors[e]! };
}

const RW = ['blackboard.read', 'blackboard.write'];

describe('posting and reading', () => {
  it('versions start at 1 and grow by 1 per write; entries carry the writer and the node clock time', async () => {
    await b.node.spawn(client(RW), { id: 'a' });
    expect((await run('a', { op: 'post', topic: 'plan.goal', value: { text: 'sort' } })).result).toEqual({ topic: 'plan.goal', version: 1, value: { text: 'sort' }, by: 'a', at: 0 });
    b.clock.advance(25);
    expect((await run('a', { op: 'post', topic: 'plan.goal', value: { text: 'sort fast' } })).result).toMatchObject({ version: 2, at: 25 });
    await run('a', { op: 'post', topic: 'plan.step/1', value: [1, 2] });
    expect((await run('a', { op: 'read', topic: 'plan.goal' })).result).toMatchObject({ version: 2, value: { text: 'sort fast' } });
    expect((await run('a', { op: 'read', topic: 'nothing.here' })).result).toBeNull();
    const q = (await run('a', { op: 'query', pattern: 'plan.*' })).result as { topic: string }[];
    expect(q.map((e) => e.topic)).toEqual(['plan.goal']); // `*` stops at `/`
    const all = (await run('a', { op: 'query', pattern: 'plan.**' })).result as { topic: string }[];
    expect(all.map((e) => e.topic)).toEqual(['plan.goal', 'plan.step/1']);
  });

  it('a stale compare-and-set is BLACKBOARD_STALE_WRITE with expected and actual, audited, and changes nothing', async () => {
    await b.node.spawn(client(RW), { id: 'a' });
    await run('a', { op: 'post', topic: 'sum', value: 1, expectedVersion: 0 });
    await run('a', { op: 'post', topic: 'sum', value: 2, expectedVersion: 1 });
    const { error } = await run('a', { op: 'post', topic: 'sum', value: 99, expectedVersion: 1 });
    expect(error).toEqual({ code: BlackboardCodes.staleWrite, field: 'expectedVersion', details: { topic: 'sum', expected: 1, actual: 2 } });
    expect(await b.board.tenant().read('sum')).toMatchObject({ version: 2, value: 2 });
    const create = await run('a', { op: 'post', topic: 'sum', value: 5, expectedVersion: 0 });
    expect(create.error?.details).toEqual({ topic: 'sum', expected: 0, actual: 2 });
    const audit = boardRecords(b.node);
    expect(audit.map((r) => r.decision)).toEqual(['written', 'written', 'stale-write', 'stale-write']);
    expect(audit[2]).toMatchObject({ actor: 'a', tenant: 'default', subject: 'sum', data: { code: BlackboardCodes.staleWrite, expected: 1, actual: 2 } });
    expect(b.board.stats()).toMatchObject({ writes: 2, staleWrites: 2, topics: 1 });
  });

  it('every write is audited with topic, version and the value hash, never the value', async () => {
    await b.node.spawn(client(RW), { id: 'a' });
    const value = { secret: 'do not log me', n: [1, 2, 3] };
    await run('a', { op: 'post', topic: 'notes', value });
    const [rec] = boardRecords(b.node);
    expect(rec).toMatchObject({ kind: 'blackboard', decision: 'written', actor: 'a', tenant: 'default', subject: 'notes', data: { version: 1 } });
    expect(rec!.hashes).toEqual({ value: sha256Hex(canonicalJson(value)) });
    expect(JSON.stringify(records(b.node))).not.toContain('do not log me');
  });

  it('an entry handed out cannot change the board', async () => {
    const owner = b.board.tenant();
    const e = await owner.post('cfg', { list: [1] });
    expect(() => (e.value as { list: number[] }).list.push(2)).toThrow(TypeError);
    expect((await owner.read('cfg'))?.value).toEqual({ list: [1] });
  });
});

describe('values and topics', () => {
  it('a value failing its topic schema (zod or JSON Schema) is refused naming the field, and audited', async () => {
    b.board.defineTopic('sorted', z.object({ values: z.array(z.number().int()) }));
    b.board.defineTopic('point.*', { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x', 'y'] });
    await b.node.spawn(client(RW), { id: 'a' });
    expect((await run('a', { op: 'post', topic: 'sorted', value: { values: [1, 2.5] } })).error).toMatchObject({ code: BlackboardCodes.invalidValue, field: 'value.values.1' });
    expect((await run('a', { op: 'post', topic: 'point.a', value: { x: 1 } })).error).toMatchObject({ code: BlackboardCodes.invalidValue, field: 'value.y' });
    expect((await run('a', { op: 'post', topic: 'point.b', value: { x: 1, y: 'north' } })).error).toMatchObject({ code: BlackboardCodes.invalidValue, field: 'value.y' });
    expect((await run('a', { op: 'post', topic: 'sorted', value: { values: [1, 2] } })).result).toMatchObject({ version: 1 });
    expect(boardRecords(b.node).map((r) => r.decision)).toEqual(['refused', 'refused', 'refused', 'written']);
    expect(b.board.stats()).toMatchObject({ topics: 1, refused: 3 });
  });

  it('values must be JSON data within maxValueBytes; topics and patterns must be well formed', async () => {
    const owner = b.board.tenant();
    await expect(owner.post('x', { a: [1, Number.NaN] })).rejects.toMatchObject({ code: BlackboardCodes.invalidValue, field: 'value.a[1]' });
    await expect(owner.post('x', { big: 'x'.repeat(70_000) })).rejects.toMatchObject({ code: BlackboardCodes.valueTooLarge, field: 'value' });
    await expect(owner.post('has space', 1)).rejects.toMatchObject({ code: BlackboardCodes.invalidTopic, field: 'topic' });
    await expect(owner.post('a..b', 1)).rejects.toMatchObject({ code: BlackboardCodes.invalidTopic });
    await expect(owner.query('a b')).rejects.toMatchObject({ code: BlackboardCodes.invalidTopic, field: 'pattern' });
    expect(b.board.stats().topics).toBe(0);
  });

  it('a malformed agent request is BLACKBOARD_INVALID_REQUEST naming the field', async () => {
    await b.node.spawn(client(RW), { id: 'a' });
    expect((await run('a', { op: 'delete', topic: 'x' })).error).toMatchObject({ code: BlackboardCodes.invalidRequest, field: 'op' });
    expect((await run('a', { op: 'post', topic: 'x', value: 1, expectedVersion: -1 })).error).toMatchObject({ code: BlackboardCodes.invalidRequest, field: 'expectedVersion' });
  });

  it('a tenant holds at most maxTopicsPerTenant topics', async () => {
    const small = await boardNode(`${tmp.dir}/small`, { maxTopicsPerTenant: 2 });
    try {
      const owner = small.board.tenant('t');
      await owner.post('a', 1);
      await owner.post('b', 1);
      await owner.post('a', 2); // an existing topic is fine
      await expect(owner.post('c', 1)).rejects.toMatchObject({ code: BlackboardCodes.full });
    } finally {
      await small.stop();
    }
  });
});

describe('capabilities', () => {
  it('no blackboard capability: CAPABILITY_DENIED, audited, nothing written', async () => {
    await b.node.spawn(client([]), { id: 'nobody' });
    expect((await run('nobody', { op: 'post', topic: 'x', value: 1 })).error).toMatchObject({ code: 'CAPABILITY_DENIED', field: 'topic' });
    expect((await run('nobody', { op: 'read', topic: 'x' })).error).toMatchObject({ code: 'CAPABILITY_DENIED' });
    expect((await run('nobody', { op: 'query', pattern: '*' })).error).toMatchObject({ code: 'CAPABILITY_DENIED', field: 'pattern' });
    expect((await run('nobody', { op: 'subscribe', pattern: '*' })).error).toMatchObject({ code: 'CAPABILITY_DENIED' });
    const denied = boardRecords(b.node).filter((r) => r.decision === 'denied');
    expect(denied).toHaveLength(4);
    expect(denied[0]).toMatchObject({ actor: 'nobody', tenant: 'default', subject: 'x', data: { op: 'post', capability: 'blackboard.write.x' } });
    expect(b.board.stats()).toMatchObject({ topics: 0, denied: 4 });
  });

  it('per-topic grants: blackboard.write.<topic> (with capability wildcards) and blackboard.read.<topic>', async () => {
    await b.board.tenant().post('secret.plan', 'hidden');
    await b.node.spawn(client(['blackboard.write.plan.*', 'blackboard.read.plan.a']), { id: 'narrow' });
    expect((await run('narrow', { op: 'post', topic: 'plan.a', value: 1 })).result).toMatchObject({ version: 1 });
    expect((await run('narrow', { op: 'post', topic: 'plan.b', value: 2 })).result).toMatchObject({ version: 1 });
    expect((await run('narrow', { op: 'post', topic: 'goal', value: 3 })).error).toMatchObject({ code: 'CAPABILITY_DENIED', details: { capability: 'blackboard.write.goal' } });
    expect((await run('narrow', { op: 'read', topic: 'plan.a' })).result).toMatchObject({ value: 1 });
    expect((await run('narrow', { op: 'read', topic: 'plan.b' })).error).toMatchObject({ code: 'CAPABILITY_DENIED' });
    // A query returns only what the caller may read.
    const q = (await run('narrow', { op: 'query', pattern: '**' })).result as { topic: string }[];
    expect(q.map((e) => e.topic)).toEqual(['plan.a']);
    await b.node.spawn(client(['blackboard.*']), { id: 'wide' });
    expect(((await run('wide', { op: 'query', pattern: '**' })).result as unknown[]).length).toBe(3);
  });

  it('agents cannot message the board actor directly: the router refuses another tenant, the board refuses any actor', async () => {
    const post = { type: 'board.post', tenant: 'default', by: 'forged', topic: 'x', value: 1 };
    await b.node.spawn(caller({}), { id: 'plain' });
    await b.node.spawn(caller({}, 'caller2'), { id: 'insider', tenant: 'system' });
    b.node.lookup('plain')!.send({ type: 'relay', to: BOARD_ID, message: post });
    b.node.lookup('insider')!.send({ type: 'relay', to: BOARD_ID, message: post });
    await until(() => b.node.deadLetters().some((d) => d.reason === 'CROSS_TENANT'));
    await until(() => (b.node.lookup(BOARD_ID)!.getSnapshot()!.context as { handled: number }).handled === 1);
    await b.board.settled();
    expect(await b.board.tenant().read('x')).toBeNull();
  });
});
