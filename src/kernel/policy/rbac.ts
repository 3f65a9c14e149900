// Role-based access control: a role catalogue with inheritance (validated
// once: unknown roles and cycles are refused) and principals bound to roles
// at tenant scope or team scope; a team sees its tenant's bindings too.

import { ContractError } from '../../base/errors.js';
import { CapabilitySet } from './capabilities.js';
import { PolicyCodes } from './codes.js';

export interface RoleSpec {
  /** Roles whose permissions (transitively) this role also holds. */
  inherits?: readonly string[];
  /** Permission patterns, e.g. `approve:web.fetch`, `approve:*`, `*`. */
  permissions?: readonly string[];
}

export interface RbacScope {
  tenant: string;
  team?: string;
}

export interface RoleBinding extends RbacScope {
  principal: string;
  role: string;
}

export interface RbacOptions {
  roles: Readonly<Record<string, RoleSpec>>;
  bindings?: readonly RoleBinding[];
}

export interface CanOptions extends RbacScope {
  /** Act under these roles only (each must be held, directly or by inheritance). */
  roles?: readonly string[];
}

interface CompiledRole {
  /** This role and every role it inherits, transitively. */
  closure: ReadonlySet<string>;
  permissions: CapabilitySet;
}

export class Rbac {
  private readonly roles = new Map<string, CompiledRole>();
  /** scope key → principal → directly bound roles. */
  private readonly bindings = new Map<string, Map<string, Set<string>>>();

  constructor(options: RbacOptions) {
    const specs = options?.roles;
    if (specs === null || typeof specs !== 'object') {
      throw new ContractError(PolicyCodes.invalidPolicy, 'Rbac: options.roles must be an object of role specs', { field: 'roles' });
    }
    for (const name of Object.keys(specs)) this.compile(name, specs, []);
    for (const b of options.bindings ?? []) this.bind(b.principal, b.role, b);
  }

  /** The role names of the catalogue. */
  roleNames(): string[] {
    return [...this.roles.keys()];
  }

  /** Effective permission patterns of a role, inherited ones included. */
  permissionsOf(role: string): readonly string[] {
    return this.role(role, 'role').permissions.patterns;
  }

  bind(principal: string, role: string, scope: RbacScope): void {
    checkId(principal, 'principal');
    this.role(role, 'role');
    const key = scopeKey(scope);
    let byPrincipal = this.bindings.get(key);
    if (byPrincipal === undefined) this.bindings.set(key, (byPrincipal = new Map()));
    let set = byPrincipal.get(principal);
    if (set === undefined) byPrincipal.set(principal, (set = new Set()));
    set.add(role);
  }

  /** Removes one binding; true if it existed. */
  unbind(principal: string, role: string, scope: RbacScope): boolean {
    const byPrincipal = this.bindings.get(scopeKey(scope));
    const set = byPrincipal?.get(principal);
    if (set === undefined || !set.delete(role)) return false;
    if (set.size === 0) byPrincipal!.delete(principal);
    return true;
  }

  /** Roles bound directly: at the tenant, plus at the team when one is given. */
  rolesOf(principal: string, scope: RbacScope): string[] {
    const out = new Set(this.bindings.get(scopeKey({ tenant: scope.tenant }))?.get(principal));
    if (scope.team !== undefined) {
      for (const r of this.bindings.get(scopeKey(scope))?.get(principal) ?? []) out.add(r);
    }
    return [...out];
  }

  /** Bound roles and every role they inherit. */
  effectiveRoles(principal: string, scope: RbacScope): string[] {
    const out = new Set<string>();
    for (const r of this.rolesOf(principal, scope)) for (const c of this.roles.get(r)!.closure) out.add(c);
    return [...out];
  }

  /** Does `principal` hold `role`, directly or by inheritance (restricted to `options.roles` if given)? */
  hasRole(principal: string, role: string, options: CanOptions): boolean {
    return this.acting(principal, options).some((r) => this.roles.get(r)!.closure.has(role));
  }

  /** Does `principal` hold `permission` (a concrete name) in this scope? */
  can(principal: string, permission: string, options: CanOptions): boolean {
    return this.acting(principal, options).some((r) => this.roles.get(r)!.permissions.allows(permission));
  }

  /** The roles a principal acts under: its bound roles, or the held subset of `options.roles`. */
  private acting(principal: string, options: CanOptions): string[] {
    if (options.roles === undefined) return this.rolesOf(principal, options);
    const effective = new Set(this.effectiveRoles(principal, options));
    return options.roles.filter((r) => effective.has(r));
  }

  private role(name: string, field: string): CompiledRole {
    const r = this.roles.get(name);
    if (r === undefined) {
      throw new ContractError(PolicyCodes.unknownRole, `Unknown role "${name}" (known: ${this.roleNames().join(', ') || 'none'})`, { field });
    }
    return r;
  }

  /** Depth-first, memoised; `path` is the inheritance chain being resolved. */
  private compile(name: string, specs: Readonly<Record<string, RoleSpec>>, path: string[]): CompiledRole {
    const done = this.roles.get(name);
    if (done !== undefined) return done;
    if (path.includes(name)) {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' → ');
      throw new ContractError(PolicyCodes.roleCycle, `Role inheritance has a cycle: ${cycle}`, {
        field: `roles.${name}.inherits`,
        details: { cycle: [...path.slice(path.indexOf(name)), name] },
      });
    }
    const spec = Object.prototype.hasOwnProperty.call(specs, name) ? specs[name] : undefined;
    if (spec === undefined) {
      const from = path[path.length - 1];
      throw new ContractError(PolicyCodes.unknownRole, `Role "${from}" inherits unknown role "${name}"`, {
        field: `roles.${from}.inherits`,
      });
    }
    if (typeof spec !== 'object' || spec === null) {
      throw new ContractError(PolicyCodes.invalidPolicy, `Role "${name}" must be an object`, { field: `roles.${name}` });
    }
    const closure = new Set([name]);
    const patterns = [...(spec.permissions ?? [])];
    for (const parent of spec.inherits ?? []) {
      const p = this.compile(parent, specs, [...path, name]);
      for (const r of p.closure) closure.add(r);
      patterns.push(...p.permissions.patterns);
    }
    const compiled = { closure, permissions: CapabilitySet.of(patterns, `roles.${name}.permissions`) };
    this.roles.set(name, compiled);
    return compiled;
  }
}

function checkId(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ContractError(PolicyCodes.invalidPolicy, `${field} must be a non-empty string, got ${JSON.stringify(value)}`, { field });
  }
}

function scopeKey(scope: RbacScope): string {
  checkId(scope?.tenant, 'tenant');
  if (scope.team !== undefined) checkId(scope.team, 'team');
  return scope.team === undefined ? scope.tenant : `${scope.tenant}\u0000${scope.team}`;
}
