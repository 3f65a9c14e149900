// Secrets come from an injected TokenSource (default: the OS CSPRNG), as time
// comes from the Clock: ask correlation ids and grant tokens use it.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/base/clock.js';
import { cryptoTokens } from '../../src/base/tokens.js';
import { AskRegistry } from '../../src/kernel/asks.js';
import { GrantRegistry } from '../../src/kernel/policy/grants.js';

describe('token source', () => {
  it('ask correlation ids take their unguessable part from the injected source', async () => {
    const asked: number[] = [];
    const asks = new AskRegistry(new VirtualClock(0), 'n1:ask:', (bytes) => {
      asked.push(bytes);
      return `T${asked.length}`;
    });
    const { correlationId } = asks.open('a', 'get', 1000);
    expect(correlationId).toBe('n1:ask:1.T1');
    expect(asked).toEqual([8]);
  });

  it('the default is the OS CSPRNG: hex of the requested size, never repeating in practice', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => cryptoTokens(18)));
    expect(seen.size).toBe(1000);
    for (const t of seen) expect(t).toMatch(/^[0-9a-f]{36}$/);
    const grants = new GrantRegistry({ clock: new VirtualClock(0) });
    const g = grants.issue({ approvalId: 'apr-1', tenant: 't', capability: 'mail.send', argsHash: 'h', approvedBy: 'alice', expiresInMs: 1000 });
    expect(g.token).toMatch(/^[0-9a-f]{36}$/);
  });
});
