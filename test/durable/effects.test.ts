// Calls left in doubt: dispatched, outcome never journaled (the node went down
// while the tool ran). Whichever way the doubt arose, on the next start an
// idempotent-by-key tool is retried with the same key, a non-idempotent tool with
// `compensate` is compensated (the actor sees EFFECT_COMPENSATED), and one without
// waits for a person (listed, announced, audited) who resolves it; the tool
// never runs twice unless it said it may.
import { afterEach, describe, expect, it } from 'vitest';
import { EffectJournal } from '../../src/kernel/effects/index.js';
import { idempotencyKey, type AgentOsNode } from '../../src/index.js';
import { settle, until } from '../support/agents.js';
import { ChargeGate, payAgent } from './support/agents.js';
import { NodeHarness } from './support/harness.js';

let h: NodeHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const KEY = idempotencyKey({ actor: 'payer', turn: 1, call: 0 });
const ARGS = { order: 'a', amount: 5 };
type ToolOptions = Parameters<ChargeGate['tool']>[0];

/** Ways a call ends up in doubt; each leaves the node stopped with KEY dispatched and no outcome. */
const ways: Record<string, (gate: ChargeGate, tool: ToolOptions) => Promise<void>> = {
  'the node stopped while the tool hung (the call resumes from the checkpoint)': async (gate, tool) => {
    const n = await start(gate, tool, 'turn');
    gate.holding = true;
    await n.lookup('payer')!.post({ type: 'pay', id: 'a', amount: 5 });
    await until(() => gate.calls.length === 1);
    await h!.stop();
    gate.abandon();
  },
  'the node crashed while the tool hung (the turn runs again from the turn log)': async (gate, tool) => {
    const n = await start(gate, tool, 'manual');
    gate.holding = true;
    await n.lookup('payer')!.post({ type: 'pay', id: 'a', amount: 5 });
    await until(() => gate.calls.length === 1);
    await h!.crash();
    gate.abandon();
  },
  'a dispatched entry was written into the journal by another process': async (gate, tool) => {
    const n = await start(gate, tool, 'turn');
    n.lookup('payer')!.pause();
    await n.lookup('payer')!.post({ type: 'pay', id: 'a', amount: 5 });
    await h!.stop();
    await h!.offline(async (db) => {
      const journal = EffectJournal.open({ db, clock: h!.clock });
      let dispatched = false;
      void journal.run(KEY, { args: ARGS }, () => {
        dispatched = true;
        gate.calls.push({ ...ARGS, key: KEY, attempt: 1 }); // that process's real invocation
        return new Promise(() => undefined);
      });
      await until(() => dispatched);
      await journal.flushed();
    });
  },
};

async function start(gate: ChargeGate, tool: ToolOptions, checkpoint: 'turn' | 'manual'): Promise<AgentOsNode> {
  const def = payAgent({ checkpoint });
  h = new NodeHarness({ agents: [def], tools: [gate.tool(tool)] });
  const n = await h.start();
  await n.spawn(def, { id: 'payer' });
  return n;
}

async function restart(gate: ChargeGate, tool: ToolOptions): Promise<AgentOsNode> {
  return h!.start({ agents: [payAgent()], tools: [gate.tool(tool)] });
}

/** Until the actor has seen the outcome of `count` calls (a turn run again from the log starts idle). */
const settledCalls = (n: AgentOsNode, count: number): Promise<void> =>
  until(() => (n.lookup('payer')?.getSnapshot()?.context as { outcomes?: unknown[] } | undefined)?.outcomes?.length === count);

const outcomes = (n: AgentOsNode): Promise<unknown> => n.lookup('payer')!.ask({ type: 'get' });

function auditRecords(n: AgentOsNode): Array<{ kind: string; decision: string; subject?: string; actor?: string }> {
  return Array.from({ length: n.audit.size }, (_, i) => n.audit.record(i) as { kind: string; decision: string; subject?: string; actor?: string });
}

describe.each(Object.entries(ways))('a call in doubt: %s', (_, leaveInDoubt) => {
  it("a tool with idempotent: 'key' is retried with the same key (attempt 2)", async () => {
    const gate = new ChargeGate();
    await leaveInDoubt(gate, { idempotent: 'key' });
    const n = await restart(gate, { idempotent: 'key' });
    await settledCalls(n, 1);
    expect(gate.calls).toEqual([
      { ...ARGS, key: KEY, attempt: 1 },
      { ...ARGS, key: KEY, attempt: 2 },
    ]);
    expect(await outcomes(n)).toEqual([{ id: 'a', ok: true, result: { ok: true, order: 'a' } }]);
    expect(n.durability.inDoubt()).toEqual([]);
  });

  it('a non-idempotent tool with compensate is compensated, and the actor sees EFFECT_COMPENSATED', async () => {
    const gate = new ChargeGate();
    await leaveInDoubt(gate, { compensate: true });
    const n = await restart(gate, { compensate: true });
    await settledCalls(n, 1);
    expect(gate.compensated).toEqual([{ key: KEY, args: ARGS }]);
    expect(gate.calls).toHaveLength(1);
    expect(await outcomes(n)).toEqual([{ id: 'a', ok: false, code: 'EFFECT_COMPENSATED' }]);
    expect(n.kernel.durability!.journal.lookup(KEY)).toEqual({ state: 'compensated', attempt: 1 });
  });

  it('a non-idempotent tool without compensate waits: listed, announced, audited; resolve() wakes the actor with the result', async () => {
    const gate = new ChargeGate();
    await leaveInDoubt(gate, {});
    const n = await restart(gate, {});
    await until(() => n.durability.inDoubt().length === 1 && h!.events.some((e) => e.type === '@agentos.effect.in-doubt'));
    await settle(10);
    expect(n.durability.inDoubt()).toEqual([expect.objectContaining({ key: KEY, actor: 'payer', turn: 1, call: 0, attempt: 1, idempotent: false })]);
    expect(h!.events.filter((e) => e.type === '@agentos.effect.in-doubt')).toEqual([expect.objectContaining({ id: 'payer', key: KEY, attempt: 1 })]);
    await n.audit.flushed();
    expect(auditRecords(n)).toContainEqual(expect.objectContaining({ kind: 'effect', decision: 'in-doubt', actor: 'payer', subject: KEY }));
    expect(n.lookup('payer')!.getSnapshot()?.value).toBe('paying');
    expect(gate.calls).toHaveLength(1);

    await n.durability.resolve(KEY, { result: { ok: true, order: 'a', settledBy: 'ops' } }, 'ops');
    await settledCalls(n, 1);
    expect(await outcomes(n)).toEqual([{ id: 'a', ok: true, result: { ok: true, order: 'a', settledBy: 'ops' } }]);
    expect(n.durability.inDoubt()).toEqual([]);
    expect(gate.calls).toHaveLength(1);
    await n.audit.flushed();
    expect(auditRecords(n)).toContainEqual(expect.objectContaining({ kind: 'effect', decision: 'resolved', subject: KEY }));
    // the resolution is the call's outcome from now on
    const n2 = await h!.restart();
    expect(await outcomes(n2)).toEqual([{ id: 'a', ok: true, result: { ok: true, order: 'a', settledBy: 'ops' } }]);
    expect(gate.calls).toHaveLength(1);
  });
});

describe('resolving in-doubt calls by hand', () => {
  it('a failure resolution reaches the actor as EFFECT_FAILED; resolving a settled call is EFFECT_NOT_IN_DOUBT', async () => {
    const gate = new ChargeGate();
    await ways['the node stopped while the tool hung (the call resumes from the checkpoint)']!(gate, {});
    const n = await restart(gate, {});
    await until(() => n.durability.inDoubt().length === 1);
    await n.durability.resolve(KEY, { failure: { name: 'Declined', message: 'card declined', code: 'DECLINED' } }, 'ops');
    await settledCalls(n, 1);
    expect(await outcomes(n)).toEqual([{ id: 'a', ok: false, code: 'EFFECT_FAILED' }]);
    await expect(n.durability.resolve(KEY, { result: 1 }, 'ops')).rejects.toMatchObject({ name: 'EffectError', code: 'EFFECT_NOT_IN_DOUBT' });
    expect(gate.calls).toHaveLength(1);
  });

  it('a call in doubt whose actor is stopped for good can still be resolved, and stays resolved', async () => {
    const gate = new ChargeGate();
    await ways['the node stopped while the tool hung (the call resumes from the checkpoint)']!(gate, {});
    const n = await restart(gate, {});
    await until(() => n.durability.inDoubt().length === 1);
    await n.lookup('payer')!.stop();
    expect(n.durability.inDoubt()).toEqual([expect.objectContaining({ key: KEY })]);
    await n.durability.resolve(KEY, { compensated: true }, 'ops');
    expect(n.durability.inDoubt()).toEqual([]);
  });
});
