import { describe, expect, it } from 'vitest';
import { ContractError } from '../../../src/base/errors.js';
import { Rbac } from '../../../src/kernel/policy/index.js';

const roles = {
  viewer: { permissions: ['read:*'] },
  reviewer: { inherits: ['viewer'], permissions: ['approve:web.*'] },
  admin: { inherits: ['reviewer'], permissions: ['approve:*', 'admin:users'] },
  manager: {},
};

function caught(fn: () => unknown): ContractError {
  try {
    fn();
  } catch (e) {
    return e as ContractError;
  }
  throw new Error('expected a throw');
}

describe('Rbac', () => {
  it('a role holds the permissions of every role it inherits, transitively', () => {
    const rbac = new Rbac({ roles, bindings: [{ principal: 'alice', role: 'admin', tenant: 't1' }] });
    expect(rbac.can('alice', 'read:docs', { tenant: 't1' })).toBe(true);
    expect(rbac.can('alice', 'approve:web.fetch', { tenant: 't1' })).toBe(true);
    expect(rbac.can('alice', 'approve:db.write', { tenant: 't1' })).toBe(true);
    expect(rbac.permissionsOf('reviewer')).toEqual(['approve:web.*', 'read:*']);
    expect(rbac.hasRole('alice', 'viewer', { tenant: 't1' })).toBe(true);
  });

  it('inheritance does not flow upward: a reviewer lacks admin permissions', () => {
    const rbac = new Rbac({ roles, bindings: [{ principal: 'bob', role: 'reviewer', tenant: 't1' }] });
    expect(rbac.can('bob', 'approve:web.fetch', { tenant: 't1' })).toBe(true);
    expect(rbac.can('bob', 'approve:db.write', { tenant: 't1' })).toBe(false);
    expect(rbac.can('bob', 'admin:users', { tenant: 't1' })).toBe(false);
    expect(rbac.hasRole('bob', 'admin', { tenant: 't1' })).toBe(false);
  });

  it('a team scope sees the tenant bindings; a team binding stays within its team', () => {
    const rbac = new Rbac({ roles });
    rbac.bind('carol', 'viewer', { tenant: 't1' });
    rbac.bind('carol', 'reviewer', { tenant: 't1', team: 'red' });
    expect(rbac.can('carol', 'read:x', { tenant: 't1', team: 'red' })).toBe(true);
    expect(rbac.can('carol', 'read:x', { tenant: 't1', team: 'blue' })).toBe(true);
    expect(rbac.can('carol', 'approve:web.fetch', { tenant: 't1', team: 'red' })).toBe(true);
    expect(rbac.can('carol', 'approve:web.fetch', { tenant: 't1', team: 'blue' })).toBe(false);
    expect(rbac.can('carol', 'approve:web.fetch', { tenant: 't1' })).toBe(false);
    expect(rbac.rolesOf('carol', { tenant: 't1', team: 'red' }).sort()).toEqual(['reviewer', 'viewer']);
  });

  it('bindings do not cross tenants', () => {
    const rbac = new Rbac({ roles, bindings: [{ principal: 'alice', role: 'admin', tenant: 't1' }] });
    expect(rbac.can('alice', 'approve:web.fetch', { tenant: 't2' })).toBe(false);
    expect(rbac.can('alice', 'approve:web.fetch', { tenant: 't2', team: 'red' })).toBe(false);
  });

  it('acting under a subset of roles narrows the permissions to those roles', () => {
    const rbac = new Rbac({ roles, bindings: [{ principal: 'alice', role: 'admin', tenant: 't1' }] });
    expect(rbac.can('alice', 'approve:db.write', { tenant: 't1', roles: ['reviewer'] })).toBe(false);
    expect(rbac.can('alice', 'approve:web.fetch', { tenant: 't1', roles: ['reviewer'] })).toBe(true);
    // A role the principal does not hold grants nothing.
    expect(rbac.can('dave', 'read:x', { tenant: 't1', roles: ['admin'] })).toBe(false);
  });

  it('unbind removes exactly one binding', () => {
    const rbac = new Rbac({ roles, bindings: [{ principal: 'bob', role: 'reviewer', tenant: 't1' }] });
    expect(rbac.unbind('bob', 'reviewer', { tenant: 't1' })).toBe(true);
    expect(rbac.unbind('bob', 'reviewer', { tenant: 't1' })).toBe(false);
    expect(rbac.can('bob', 'read:x', { tenant: 't1' })).toBe(false);
  });

  it('rejects an inheritance cycle with ROLE_CYCLE and the cycle spelled out', () => {
    const err = caught(() => new Rbac({ roles: { a: { inherits: ['b'] }, b: { inherits: ['c'] }, c: { inherits: ['a'] } } }));
    expect(err).toBeInstanceOf(ContractError);
    expect(err.code).toBe('ROLE_CYCLE');
    expect(err.message).toContain('a → b → c → a');
    expect(err.details?.cycle).toEqual(['a', 'b', 'c', 'a']);
  });

  it('rejects a role inheriting itself', () => {
    expect(caught(() => new Rbac({ roles: { a: { inherits: ['a'] } } })).code).toBe('ROLE_CYCLE');
  });

  it('rejects an unknown inherited role and a binding to an unknown role with UNKNOWN_ROLE', () => {
    const err = caught(() => new Rbac({ roles: { a: { inherits: ['ghost'] } } }));
    expect(err.code).toBe('UNKNOWN_ROLE');
    expect(err.message).toContain('"a" inherits unknown role "ghost"');
    const rbac = new Rbac({ roles });
    expect(caught(() => rbac.bind('x', 'ghost', { tenant: 't1' })).code).toBe('UNKNOWN_ROLE');
  });

  it('rejects malformed permission patterns and scopes', () => {
    expect(caught(() => new Rbac({ roles: { a: { permissions: ['approve*'] } } })).code).toBe('INVALID_CAPABILITY');
    expect(caught(() => new Rbac({ roles }).bind('x', 'viewer', { tenant: '' })).code).toBe('INVALID_POLICY');
  });
});
