// `cluster.advertise`: the address the other nodes dial when it is not the listen
// address (a proxy, NAT or port forward in between). Membership gossips it, so
// every member reaches this node through it; a malformed one is refused at
// createNode, naming the field.
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, type AgentOsNode } from '../../src/index.js';
import { checkClusterOptions } from '../../src/node/cluster.js';
import { tempDir } from '../support/tmp.js';

const SECRET = 'advertise-test-secret-0123456789';
const open: Array<{ node: AgentOsNode; cleanup: () => void }> = [];
afterEach(async () => {
  for (const { node, cleanup } of open.splice(0)) {
    await node.stop();
    cleanup();
  }
});

describe('cluster.advertise', () => {
  it('is the address the node gives the cluster (its url and its member record), not the listen address', async () => {
    const tmp = tempDir('agentos-advertise-');
    const node = await createNode({ name: 'n1', dataDir: tmp.dir, memory: false, blackboard: false, cluster: { secret: SECRET, listen: { host: '127.0.0.1', port: 0 }, advertise: 'ws://gateway.example:7401' } });
    open.push({ node, cleanup: tmp.cleanup });
    expect(node.cluster!.url).toBe('ws://gateway.example:7401');
    expect(node.cluster!.members().map((m) => m.address)).toEqual(['ws://gateway.example:7401']);
  });

  it.each([
    ['not a string', 7401],
    ['an http URL', 'http://gateway.example:7401'],
    ['a bare host:port', 'gateway.example:7401'],
    ['with spaces', 'ws://gateway example:7401'],
  ])('refuses %s, naming cluster.advertise', (_why, advertise) => {
    let error: unknown;
    try {
      checkClusterOptions({ secret: SECRET, advertise });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'CLUSTER_INVALID_OPTIONS', field: 'cluster.advertise' });
  });

  it('accepts ws:// and wss:// addresses, with a path', () => {
    for (const advertise of ['ws://10.0.0.5:7401', 'wss://node1.lan:443', 'ws://[::1]:7401', 'ws://proxy:80/agentos']) {
      expect(() => checkClusterOptions({ secret: SECRET, advertise })).not.toThrow();
    }
  });
});
