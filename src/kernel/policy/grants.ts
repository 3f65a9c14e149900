// Single-use consent grants. A grant is bound to (argsHash, tenant,
// capability, expiry) as recorded when issued; the presented token is only a
// key, so editing its fields gains nothing. Used grants stay known until expiry.

import { cryptoTokens } from '../../base/tokens.js';
import type { Clock, TimerHandle } from '../../base/clock.js';
import { PolicyDenied } from '../../base/errors.js';
import { hashArgs } from './canonical.js';
import { PolicyCodes } from './codes.js';

export interface GrantToken {
  /** Unguessable key of the grant. */
  readonly token: string;
  readonly approvalId: string;
  readonly tenant: string;
  readonly capability: string;
  readonly argsHash: string;
  /** Clock time from which the grant is no longer valid. */
  readonly expiresAt: number;
  readonly approvedBy: string;
}

export interface ConsumeRequest {
  /** The exact arguments of the call about to be made. */
  args: unknown;
  tenant: string;
  capability: string;
}

interface GrantRecord {
  grant: GrantToken;
  used: boolean;
  timer: TimerHandle;
}

export class GrantRegistry {
  private readonly clock: Clock;
  private readonly newToken: () => string;
  private readonly records = new Map<string, GrantRecord>();

  constructor(options: { clock: Clock; newToken?: () => string }) {
    this.clock = options.clock;
    this.newToken = options.newToken ?? (() => cryptoTokens(18));
  }

  issue(fields: Omit<GrantToken, 'token' | 'expiresAt'> & { expiresInMs: number }): GrantToken {
    const { expiresInMs, ...bound } = fields;
    const grant: GrantToken = Object.freeze({ ...bound, token: this.newToken(), expiresAt: this.clock.now() + expiresInMs });
    const timer = this.clock.setTimeout(() => this.records.delete(grant.token), expiresInMs);
    this.records.set(grant.token, { grant, used: false, timer });
    return grant;
  }

  /**
   * Succeeds once. Throws PolicyDenied `CONSENT_REUSED` on a second use,
   * `CONSENT_EXPIRED` at or after `expiresAt`, `CONSENT_MISMATCH` when the
   * arguments' hash, tenant or capability differ from what was approved.
   * A mismatch does not burn the grant.
   */
  consume(grant: GrantToken, req: ConsumeRequest): void {
    const record = typeof grant?.token === 'string' ? this.records.get(grant.token) : undefined;
    const now = this.clock.now();
    if (record === undefined) {
      if (typeof grant?.expiresAt === 'number' && now >= grant.expiresAt) throw expired(grant, now);
      throw mismatch(grant, 'the grant was not issued by this approval queue');
    }
    const g = record.grant;
    if (record.used) {
      throw new PolicyDenied(PolicyCodes.consentReused, `Consent grant for "${g.capability}" (approval ${g.approvalId}) was already used`, {
        field: 'grant',
        details: { approvalId: g.approvalId },
      });
    }
    if (now >= g.expiresAt) throw expired(g, now);
    if (req.tenant !== g.tenant) throw mismatch(g, `it was approved for tenant "${g.tenant}", not "${req.tenant}"`);
    if (req.capability !== g.capability) {
      throw mismatch(g, `it was approved for capability "${g.capability}", not "${req.capability}"`);
    }
    const argsHash = hashArgs(req.args);
    if (argsHash !== g.argsHash) throw mismatch(g, `the arguments differ from those approved (hash ${argsHash} ≠ ${g.argsHash})`);
    record.used = true;
  }

  /** Grants issued and not yet expired (used or not). */
  size(): number {
    return this.records.size;
  }

  close(): void {
    for (const r of this.records.values()) this.clock.clearTimeout(r.timer);
    this.records.clear();
  }
}

function expired(g: GrantToken, now: number): PolicyDenied {
  return new PolicyDenied(
    PolicyCodes.consentExpired,
    `Consent grant for "${g.capability}" (approval ${g.approvalId}) expired at ${g.expiresAt} (now ${now})`,
    { field: 'grant', details: { approvalId: g.approvalId, expiresAt: g.expiresAt } },
  );
}

function mismatch(g: GrantToken | undefined, why: string): PolicyDenied {
  return new PolicyDenied(
    PolicyCodes.consentMismatch,
    `Consent grant for "${String(g?.capability)}" (approval ${String(g?.approvalId)}) does not apply: ${why}`,
    { field: 'grant', details: { approvalId: g?.approvalId } },
  );
}
