// Mutual TLS: nodes with certificates from the cluster CA link over wss://
// (and still run the HMAC handshake inside); a client with no certificate, or
// one from another CA, is turned away by the server, and a dialer refuses a
// server whose certificate the cluster CA did not sign. Certificates are made
// with the openssl CLI in a temporary directory.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TlsOptions } from '../../../src/cluster/transport/index.js';
import { closeAll, realNode, sleep, waitFor } from './support/real.js';

let dir = '';
const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
};
let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

function ca(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2');
}

function cert(name: string, signer: string): TlsOptions {
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return { key: read(`${name}.key`), cert: read(`${name}.crt`), ca: read('cluster-ca.crt') };
}

const certs: Record<string, TlsOptions> = {};

beforeAll(() => {
  if (!hasOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), 'agentos-tls-'));
  ca('cluster-ca');
  ca('rogue-ca');
  certs.a = cert('a', 'cluster-ca');
  certs.b = cert('b', 'cluster-ca');
  certs.rogue = cert('rogue', 'rogue-ca');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(closeAll);

describe.skipIf(!hasOpenssl)('cluster transport over mutual TLS', () => {
  it('two nodes with cluster certificates link over wss and exchange messages', async () => {
    const a = await realNode('a', { tls: certs.a });
    const b = await realNode('b', { tls: certs.b });
    expect(a.url).toMatch(/^wss:\/\//);
    b.t.connect('a', a.url);
    for (let i = 0; i < 100; i++) b.t.send('a', { i });
    await b.t.whenConnected('a');
    await waitFor(() => a.got.length === 100, 'messages over TLS');
    expect(a.got.map((g) => g.msg.i)).toEqual([...Array(100).keys()]);
    expect(() => b.t.connect('x', 'ws://127.0.0.1:1')).toThrow(/wss:\/\//);
  });

  it('a client without a certificate, or with one from another CA, is refused by the server', async () => {
    const a = await realNode('a', { tls: certs.a });
    // No client certificate at all (raw ws, trusting the cluster CA).
    const bare = new WebSocket(a.url, { ca: certs.a!.ca });
    const bareOutcome = await new Promise<string>((r) => {
      bare.on('open', () => r('open'));
      bare.on('error', (e) => r(`error: ${e.message}`));
      bare.on('close', (code) => r(`close ${code}`));
    });
    expect(bareOutcome).not.toBe('open');
    // A member that knows the secret but holds a certificate from another CA.
    const rogue = await realNode('rogue', { tls: { ...certs.rogue!, ca: certs.a!.ca }, listen: undefined });
    rogue.t.connect('a', a.url);
    await waitFor(() => rogue.events.filter((e) => e.type === 'reconnecting').length >= 2, 'the rogue to be refused twice');
    await sleep(20);
    expect(a.t.peers()).toEqual([]);
    expect(a.events.some((e) => e.type === 'rejected' && e.reason.startsWith('tls:'))).toBe(true);
  });

  it('a dialer refuses a server whose certificate the cluster CA did not sign', async () => {
    const rogueServer = await realNode('a', { tls: { ...certs.rogue!, ca: certs.a!.ca } });
    const b = await realNode('b', { tls: certs.b, listen: undefined });
    b.t.connect('a', rogueServer.url);
    await waitFor(() => b.events.filter((e) => e.type === 'reconnecting').length >= 2, 'b to give up on the rogue server twice');
    const reasons = b.events.filter((e) => e.type === 'reconnecting').map((e) => (e as { reason: string }).reason);
    expect(reasons[0]).toMatch(/certificate|self-signed|verify/i);
    expect(rogueServer.t.peers()).toEqual([]);
  });
});
