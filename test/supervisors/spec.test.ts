import { describe, expect, it } from 'vitest';
import { AgentOsError, SupervisorSpecError } from '../../src/base/errors.js';
import { isSupervisorSpec, supervisor, type SupervisorInput } from '../../src/supervisors/index.js';

const catchSpecError = (input: unknown): SupervisorSpecError => {
  try {
    supervisor(input as SupervisorInput);
  } catch (error) {
    expect(error).toBeInstanceOf(SupervisorSpecError);
    return error as SupervisorSpecError;
  }
  throw new Error('expected supervisor() to throw');
};

const w = (id: string, extra: Record<string, unknown> = {}) => ({ id, start: `agent:${id}`, ...extra });

describe('supervisor() spec builder', () => {
  it('fills the OTP defaults: one_for_one, intensity 1 in 5000 ms, permanent children, 5000 ms worker shutdown', () => {
    const spec = supervisor({ id: 'sup', children: [w('a')] });
    expect(spec).toEqual({
      kind: 'supervisor',
      id: 'sup',
      strategy: 'one_for_one',
      intensity: 1,
      periodMs: 5000,
      children: [{ id: 'a', start: 'agent:a', restart: 'permanent', shutdownMs: 5000 }],
    });
  });

  it("gives nested supervisors an 'infinity' shutdown and normalizes them too", () => {
    const spec = supervisor({ id: 'root', children: [{ id: 'inner', start: supervisor({ id: 'inner', children: [] }) }] });
    expect(spec.children[0]!.shutdownMs).toBe('infinity');
    const raw = supervisor({
      id: 'root',
      children: [{ id: 'inner', start: { kind: 'supervisor', id: 'inner', children: [w('x')] } as never }],
    });
    const inner = raw.children[0]!.start;
    expect(isSupervisorSpec(inner)).toBe(true);
    expect(inner).toMatchObject({ strategy: 'one_for_one', intensity: 1, periodMs: 5000 });
  });

  it('keeps explicit values and is idempotent', () => {
    const input = {
      id: 's',
      strategy: 'rest_for_one' as const,
      intensity: 0,
      periodMs: 10,
      children: [w('a', { restart: 'temporary', shutdownMs: 0 }), w('b', { restart: 'transient', shutdownMs: 'infinity' })],
    };
    const once = supervisor(input);
    expect(once).toMatchObject(input);
    expect(supervisor(once)).toEqual(once);
  });

  it('defaults missing children to an empty list', () => {
    expect(supervisor({ id: 'empty' }).children).toEqual([]);
  });

  it('isSupervisorSpec recognises specs by their kind tag only', () => {
    expect(isSupervisorSpec(supervisor({ id: 's' }))).toBe(true);
    expect(isSupervisorSpec({ id: 's', children: [] })).toBe(false);
    expect(isSupervisorSpec(null)).toBe(false);
    expect(isSupervisorSpec('supervisor')).toBe(false);
  });

  const bad: Array<[string, unknown, string, string]> = [
    ['missing id', { children: [] }, 'id', 'supervisor: id must be a non-empty string without "/" (got undefined)'],
    ['empty id', { id: '' }, 'id', 'id must be a non-empty string'],
    ['id with a slash', { id: 'a/b' }, 'id', 'without "/"'],
    [
      'unknown strategy',
      { id: 'sup', strategy: 'round_robin' },
      'strategy',
      'supervisor "sup": strategy must be one of one_for_one, one_for_all, rest_for_one, simple_one_for_one (got "round_robin")',
    ],
    ['negative intensity', { id: 'sup', intensity: -1 }, 'intensity', 'supervisor "sup": intensity must be a non-negative integer (got -1)'],
    ['fractional intensity', { id: 'sup', intensity: 1.5 }, 'intensity', '(got 1.5)'],
    ['string intensity', { id: 'sup', intensity: '3' }, 'intensity', '(got "3")'],
    ['zero periodMs', { id: 'sup', periodMs: 0 }, 'periodMs', 'supervisor "sup": periodMs must be a positive finite number (got 0)'],
    ['negative periodMs', { id: 'sup', periodMs: -5 }, 'periodMs', '(got -5)'],
    ['infinite periodMs', { id: 'sup', periodMs: Infinity }, 'periodMs', '(got Infinity)'],
    ['children not an array', { id: 'sup', children: { a: 1 } }, 'children', 'supervisor "sup": children must be an array (got {"a":1})'],
    ['child not an object', { id: 'sup', children: [42] }, 'children[0]', 'children[0] must be a child spec object (got 42)'],
    ['child without id', { id: 'sup', children: [{ start: 'x' }] }, 'children[0].id', 'children[0].id must be a non-empty string'],
    ['child with empty id', { id: 'sup', children: [w('a'), { id: '', start: 'x' }] }, 'children[1].id', 'children[1].id'],
    ['child without start', { id: 'sup', children: [{ id: 'a' }] }, 'children[0].start', 'children[0].start is required (child "a")'],
    [
      'duplicate child ids',
      { id: 'sup', children: [w('a'), w('b'), w('a')] },
      'children[2].id',
      'supervisor "sup": children[2].id "a" duplicates children[0].id',
    ],
    [
      'bad restart type',
      { id: 'sup', children: [w('a', { restart: 'sometimes' })] },
      'children[0].restart',
      'supervisor "sup": children[0].restart must be one of permanent, transient, temporary (got "sometimes")',
    ],
    [
      'negative shutdownMs',
      { id: 'sup', children: [w('a', { shutdownMs: -1 })] },
      'children[0].shutdownMs',
      "children[0].shutdownMs must be a non-negative finite number or 'infinity' (got -1)",
    ],
    ['NaN shutdownMs', { id: 'sup', children: [w('a', { shutdownMs: NaN })] }, 'children[0].shutdownMs', '(got NaN)'],
    ['string shutdownMs', { id: 'sup', children: [w('a', { shutdownMs: 'forever' })] }, 'children[0].shutdownMs', '(got "forever")'],
    [
      'simple_one_for_one without a template',
      { id: 'pool', strategy: 'simple_one_for_one', children: [] },
      'children',
      'supervisor "pool": simple_one_for_one needs exactly one child template in children (got 0)',
    ],
    [
      'simple_one_for_one with two templates',
      { id: 'pool', strategy: 'simple_one_for_one', children: [w('a'), w('b')] },
      'children',
      '(got 2)',
    ],
    ['a spec that is not an object', 'sup', 'spec', 'supervisor: spec must be an object'],
  ];

  it.each(bad)('rejects %s with INVALID_SUPERVISOR_SPEC naming the field', (_name, input, field, message) => {
    const error = catchSpecError(input);
    expect(error).toBeInstanceOf(AgentOsError);
    expect(error.code).toBe('INVALID_SUPERVISOR_SPEC');
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('reports errors inside a nested supervisor spec with the nested supervisor named', () => {
    const error = catchSpecError({
      id: 'root',
      children: [{ id: 'inner', start: { kind: 'supervisor', id: 'inner', strategy: 'nope', children: [] } }],
    });
    expect(error.message).toContain('supervisor "inner": strategy must be one of');
  });
});
