// The contract's `modelPolicy.deidentify` and `modelPolicy.redact_pii`, honoured
// by the gateway: what each model is actually sent, asserted at the provider.
import { afterEach, describe, expect, it } from 'vitest';
import { ModelGateway } from '../../../src/services/models/index.js';
import { route, type RoutableModel } from '../../../src/services/models/router.js';
import { asker, entry, RecordingProvider, startNode, type Started } from './support/books.js';

const PROMPT = 'Reach Jane at jane@example.org or 555-123-4567 about her results.';
const REDACTED = 'Reach Jane at [EMAIL] or [PHONE] about her results.';

let s: Started | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function setUp(modelPolicy: Record<string, unknown>): Promise<{ gateway: ModelGateway; cloud: RecordingProvider; edge: RecordingProvider }> {
  const cloud = new RecordingProvider('cloud', 'remote');
  const edge = new RecordingProvider('edge', 'none');
  const gateway = new ModelGateway({ providers: [cloud, edge], catalog: [entry('cloud/gpt', 'cloud'), entry('edge/small', 'edge')] });
  s = await startNode(gateway);
  await s.node.spawn(asker({ allow: ['cloud/*', 'edge/*'], max_context_tokens: 8000, ...modelPolicy }), { id: 'd1' });
  return { gateway, cloud, edge };
}

const ask = (gateway: ModelGateway, model: string) => gateway.complete('d1', { model, messages: [{ role: 'user', content: PROMPT }], fallbacks: false });
const lastSent = (p: RecordingProvider) => p.requests.at(-1)!.messages.at(-1)!.content;

describe('modelPolicy.deidentify and redact_pii', () => {
  it('deidentify: cloud — a cloud model gets the de-identified prompt, a local model the original', async () => {
    const { gateway, cloud, edge } = await setUp({ deidentify: 'cloud' });
    const toCloud = await ask(gateway, 'cloud/gpt');
    const toEdge = await ask(gateway, 'edge/small');
    expect(lastSent(cloud)).toBe(REDACTED);
    expect(lastSent(edge)).toBe(PROMPT);
    expect(toCloud.route.redacted).toEqual({ email: 1, phone: 1 });
    expect(toEdge.route.redacted).toEqual({});
    const routes = s!.records().filter((r) => r.kind === 'route');
    expect(routes.map((r) => [r.data.model, r.data.deidentify, r.data.deidentifyBy ?? null])).toEqual([
      ['cloud/gpt', true, 'modelPolicy.deidentify: cloud'],
      ['edge/small', false, null],
    ]);
  });

  it('without it (and with non-sensitive data) the cloud model gets the original: the field is what changes it', async () => {
    const { gateway, cloud } = await setUp({ privacy: 'internal' });
    await ask(gateway, 'cloud/gpt');
    expect(lastSent(cloud)).toBe(PROMPT);
  });

  it.each([[{ deidentify: 'always' }], [{ redact_pii: true }]])('%j — every model, local included, gets the redacted prompt', async (policy) => {
    const { gateway, cloud, edge } = await setUp(policy);
    await ask(gateway, 'cloud/gpt');
    await ask(gateway, 'edge/small');
    expect(lastSent(cloud)).toBe(REDACTED);
    expect(lastSent(edge)).toBe(REDACTED);
  });

  it("deidentify: none does not loosen the node's rule: pii data is still de-identified for a cloud model", async () => {
    const { gateway, cloud, edge } = await setUp({ deidentify: 'none', redact_pii: false, privacy: 'pii' });
    await ask(gateway, 'cloud/gpt');
    await ask(gateway, 'edge/small');
    expect(lastSent(cloud)).toBe(REDACTED);
    expect(lastSent(edge)).toBe(PROMPT);
  });

  it('a delegated call is de-identified when either contract asks', async () => {
    const { gateway, cloud } = await setUp({});
    await s!.node.spawn(asker({ allow: ['cloud/*'], max_context_tokens: 8000, deidentify: 'cloud' }, { name: 'principal' }), { id: 'p1' });
    await gateway.complete('d1', { model: 'cloud/gpt', messages: [{ role: 'user', content: PROMPT }] });
    expect(lastSent(cloud)).toBe(PROMPT);
    await gateway.complete('d1', { model: 'cloud/gpt', messages: [{ role: 'user', content: PROMPT }], onBehalfOf: 'p1' });
    expect(lastSent(cloud)).toBe(REDACTED);
  });
});

describe('router: de-identification rules', () => {
  const models: RoutableModel[] = [
    { ...entry('edge/a', 'edge'), network: 'none' },
    { ...entry('onprem/b', 'on_prem'), network: 'loopback' },
    { ...entry('cloud/c', 'cloud'), network: 'remote' },
  ];
  const base = { requested: 'edge/a', wantTokens: 10, minTokens: 10, mode: 'hybrid' as const };
  const rules = (policy: Record<string, unknown>, redactCloud?: 'sensitive' | 'always' | 'never') =>
    Object.fromEntries(route(models, { ...base, policy: { allow: ['**'], ...policy }, ...(redactCloud ? { redactCloud } : {}) }).candidates.map((c) => [c.id, c.redactBy ?? null]));

  it.each([
    [{}, undefined, { 'edge/a': null, 'onprem/b': null, 'cloud/c': null }],
    [{ privacy: 'phi' }, undefined, { 'edge/a': null, 'onprem/b': null, 'cloud/c': 'phi data for a cloud model' }],
    [{ privacy: 'phi' }, 'never', { 'edge/a': null, 'onprem/b': null, 'cloud/c': null }],
    [{ deidentify: 'cloud' }, 'never', { 'edge/a': null, 'onprem/b': null, 'cloud/c': 'modelPolicy.deidentify: cloud' }],
    [{ deidentify: 'none' }, 'always', { 'edge/a': null, 'onprem/b': null, 'cloud/c': 'node redactCloud: always' }],
    [{ deidentify: 'always' }, undefined, { 'edge/a': 'modelPolicy.deidentify: always', 'onprem/b': 'modelPolicy.deidentify: always', 'cloud/c': 'modelPolicy.deidentify: always' }],
    [{ redactPii: true, deidentify: 'cloud' }, undefined, { 'edge/a': 'modelPolicy.redact_pii', 'onprem/b': 'modelPolicy.redact_pii', 'cloud/c': 'modelPolicy.redact_pii' }],
  ])('policy %j with node rule %s → %j', (policy, redactCloud, expected) => {
    expect(rules(policy, redactCloud as 'sensitive' | 'always' | 'never' | undefined)).toEqual(expected);
  });
});
