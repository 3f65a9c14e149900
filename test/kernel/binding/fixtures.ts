// Shared registry and Ed25519 signer for the binding tests.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { staticRegistry, type RegistryEntry } from '../../../src/kernel/binding/index.js';

const keys = generateKeyPairSync('ed25519');
export const signer = (bytes: Uint8Array): string => sign(null, bytes, keys.privateKey).toString('hex');
export const verifier = (bytes: Uint8Array, hex: string): boolean => verify(null, bytes, keys.publicKey, Buffer.from(hex, 'hex'));

const entry = (name: string, version: string, attributes: RegistryEntry['attributes'], slo?: Record<string, number>): RegistryEntry =>
  ({ name, version, hash: `sha256:${name}-${version}`, kind: 'model', attributes, ...(slo && { slo }) });

export const entries: RegistryEntry[] = [
  entry('asr_local', 'v1', { placement: 'on_prem', privacy: ['phi'] }),
  entry('asr_local', 'v2', { placement: 'on_prem', privacy: ['phi'] }, { p95LatencyMs: 300 }),
  entry('asr_local', 'v2.1', { placement: 'on_prem', privacy: ['phi'] }, { p95LatencyMs: 280 }),
  entry('asr_local', 'v3', { placement: 'on_prem', privacy: ['phi'], accelerator: 'gpu' }, { p95LatencyMs: 200 }),
  entry('asr_local', 'v4', { placement: 'on_prem', privacy: [] }),
  entry('asr_cloud', 'v3', { placement: 'cloud', privacy: ['phi'] }),
  entry('asr_edge', 'v1', { placement: 'edge', privacy: ['phi'] }),
  entry('llm_local', 'v1', { placement: 'on_prem', privacy: ['phi'], context: 8_192 }),
  entry('llm_cloud', 'v5', { placement: 'cloud', privacy: [], context: 200_000 }),
];
export const registry = staticRegistry(entries);
