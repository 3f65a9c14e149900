// The deployment topologies in examples/topologies/, each loaded with `agentos
// start`'s loader and booted the way `agentos start` boots it (real LMDB in a
// temp dir), then checked for the property its comment claims. The "cloud" and
// the on-site Ollama are fake OpenAI-compatible servers on 127.0.0.1 that
// record what they are sent, so "nothing went to the cloud" is observed, not assumed.
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssistantReply } from '../../examples/topologies/assistant.js';
import { assistant } from '../../examples/topologies/assistant.js';
import { loadConfig } from '../../src/cli/config.js';
import type { AgentOsConfig } from '../../src/cli/define-config.js';
import type airGapped from '../../examples/topologies/air-gapped.config.js';
import type edgeOnly from '../../examples/topologies/edge-only.config.js';
import type hybrid from '../../examples/topologies/hybrid.config.js';
import { bootNode } from '../../src/cli/start.js';
import type { AgentOsNode } from '../../src/node/node.js';
import { ModelCodes, OpenAiCompatibleProvider } from '../../src/services/models/index.js';
import { fakeOpenAi, streamText, type FakeEndpoint } from '../services/models/support/fake-openai.js';
import { tempDir } from '../support/tmp.js';
import { repoRoot } from '../cli/run.js';

// Compile time (npx tsc): each example's default export is an AgentOsConfig. Types only, so nothing is imported
// before the tests set the endpoints' environment variables.
type Config<C extends AgentOsConfig> = C;
export type TopologyConfigs = [Config<typeof edgeOnly>, Config<typeof hybrid>, Config<typeof airGapped>];

const tmp = tempDir('agentos-topologies-');
let cloud: FakeEndpoint;
let onsite: FakeEndpoint;

beforeAll(async () => {
  [cloud, onsite] = await Promise.all([fakeOpenAi(), fakeOpenAi()]);
  cloud.handle((_req, res) => streamText(res, ['Hello from ', 'the cloud.'], { prompt_tokens: 12, completion_tokens: 4 }));
  onsite.handle((_req, res) => streamText(res, ['On-site ', 'answer.'], { prompt_tokens: 12, completion_tokens: 2 }));
  // Read by the configs when they load.
  process.env.AGENTOS_CLOUD_URL = cloud.baseUrl;
  process.env.AGENTOS_LOCAL_URL = onsite.baseUrl;
});

afterAll(async () => {
  await Promise.all([cloud?.close(), onsite?.close()]);
  tmp.cleanup();
});

/** A topology's node, as `agentos start --config examples/topologies/<file>` starts it. */
async function boot(file: string): Promise<AgentOsNode> {
  const loaded = await loadConfig(join(repoRoot, 'examples/topologies', file));
  const { node, started } = await bootNode(loaded, { dataDir: join(tmp.dir, file) });
  expect(started.length).toBeGreaterThan(0);
  return node;
}

const ask = (node: AgentOsNode, id: string, content: string, model?: string): Promise<AssistantReply> =>
  node.lookup(id)!.ask({ type: 'ask', content, ...(model === undefined ? {} : { model }) }, { timeoutMs: 10_000 }) as Promise<AssistantReply>;

/** Any of the in-process local models (a fallback takes the first eligible one in catalog order). */
const LOCAL = expect.stringMatching(/^local\//);

const question = [{ role: 'user' as const, content: 'Where is the patient record kept?' }];

/** An agent whose contract allows every model, to show the node refuses what its mode forbids. */
const probe = assistant('probe', 'local/rules', { modelPolicy: { allow: ['cloud/*', 'lan/*', 'local/*'], max_context_tokens: 4000 } });

describe('edge-only topology', () => {
  let node: AgentOsNode;
  beforeAll(async () => {
    node = await boot('edge-only.config.ts');
  });
  afterAll(() => node?.stop());

  it('runs its agent on the local models', async () => {
    expect(node.models.mode).toBe('edge');
    expect(await ask(node, 'kiosk', 'hello')).toEqual({ model: 'local/rules', text: 'Hello! I am the local rules model.' });
  });

  it('refuses a cloud model even once one is in the catalog and a contract allows it (MODEL_NO_ROUTE); the endpoint is never called', async () => {
    const before = cloud.requests.length;
    node.models.addProvider(new OpenAiCompatibleProvider({ name: 'cloud', baseUrl: cloud.baseUrl }));
    node.models.addModel({ id: 'cloud/gpt-test', contextTokens: 128_000, placement: 'cloud', privacy: ['public', 'internal'] });
    await node.spawn(probe, { id: 'probe' });
    const refused = node.models.complete('probe', { model: 'cloud/gpt-test', messages: question, fallbacks: false });
    await expect(refused).rejects.toMatchObject({ code: ModelCodes.noRoute, message: expect.stringContaining('edge node: no cloud models') });
    // Asked through the kernel with fallbacks allowed, it is served locally instead.
    expect(await ask(node, 'probe', 'hello', 'cloud/gpt-test')).toMatchObject({ model: LOCAL });
    expect(cloud.requests.length).toBe(before);
  });
});

describe('hybrid topology', () => {
  let node: AgentOsNode;
  let cloudModel: string;
  beforeAll(async () => {
    node = await boot('hybrid.config.ts');
    ({ CLOUD_MODEL: cloudModel } = await import('../../examples/topologies/hybrid.config.js'));
  });
  afterAll(() => node?.stop());

  it("a public agent's call goes to the cloud model through the OpenAI-compatible endpoint", async () => {
    const before = cloud.requests.length;
    expect(await ask(node, 'helpdesk', 'When are you open on Sundays?')).toEqual({ model: cloudModel, text: 'Hello from the cloud.' });
    expect(cloud.requests.length).toBe(before + 1);
    const sent = cloud.requests.at(-1)!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.body).toMatchObject({ model: cloudModel.slice('cloud/'.length), stream: true });
    expect(JSON.stringify(sent.body.messages)).toContain('When are you open on Sundays?');
  });

  it("a phi agent's call is answered by a local model, even when it names the cloud model; the router says why", async () => {
    const before = cloud.requests.length;
    expect(await ask(node, 'intake', 'hello, patient reports chest pain')).toEqual({ model: 'local/rules', text: 'Hello! I am the local rules model.' });
    expect(await ask(node, 'intake', 'hello, patient reports chest pain', cloudModel)).toMatchObject({ model: LOCAL });
    expect(cloud.requests.length).toBe(before);
    // The audit log has the routing decision, with the reason the cloud model was passed over.
    const records = Array.from({ length: node.audit.size }, (_, i) => node.audit.record(i) as Record<string, any>);
    const routed = records.filter((r) => r.kind === 'route' && r.actor === 'intake' && r.subject === cloudModel);
    expect(routed).toHaveLength(1);
    expect(routed[0]).toMatchObject({ decision: 'routed', data: { mode: 'hybrid', privacy: 'phi', model: expect.stringMatching(/^local\//), placement: 'edge' } });
    expect(routed[0]!.reason).toContain(`skipped ${cloudModel} (does not take phi data)`);
    const decision = node.models.explain('intake', cloudModel, { messages: question });
    expect(decision.candidates.map((c) => c.id)).not.toContain(cloudModel);
    expect(decision.rejected).toContainEqual({ id: cloudModel, reasons: ['does not take phi data'] });
    await expect(node.models.complete('intake', { model: cloudModel, messages: question, fallbacks: false })).rejects.toMatchObject({ code: ModelCodes.noRoute });
    expect(cloud.requests.length).toBe(before);
  });

  it('property: whatever a phi call says and whichever model it names, the cloud endpoint never sees it', async () => {
    const before = cloud.requests.length;
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200 }), fc.constantFrom(undefined, cloudModel, 'local/echo', 'local/rules'), async (content, model) => {
        const reply = await ask(node, 'intake', content, model);
        expect('model' in reply && reply.model.startsWith('local/')).toBe(true);
      }),
      { numRuns: 30 },
    );
    expect(cloud.requests.length).toBe(before);
  });
});

describe('air-gapped topology', () => {
  let node: AgentOsNode;
  beforeAll(async () => {
    node = await boot('air-gapped.config.ts');
  });
  afterAll(() => node?.stop());

  it('serves its agent from the on-site model on a loopback address', async () => {
    const before = onsite.requests.length;
    expect(node.models.mode).toBe('air-gapped');
    expect(await ask(node, 'analyst', 'Summarise the incident log')).toEqual({ model: 'ollama/llama3.2', text: 'On-site answer.' });
    expect(onsite.requests.length).toBe(before + 1);
  });

  it('refuses a cloud model and a model whose provider is on the network (MODEL_NO_ROUTE), before any connection', async () => {
    const before = cloud.requests.length;
    node.models.addProvider(new OpenAiCompatibleProvider({ name: 'cloud', baseUrl: cloud.baseUrl }));
    node.models.addModel({ id: 'cloud/gpt-test', contextTokens: 128_000, placement: 'cloud', privacy: ['public', 'internal', 'confidential'] });
    // A LAN server (192.0.2.0/24 is TEST-NET-1: nothing answers there, so a connection attempt would time out, not be refused).
    node.models.addProvider(new OpenAiCompatibleProvider({ name: 'lan', baseUrl: 'http://192.0.2.10:8000/v1', timeoutMs: 60_000 }));
    node.models.addModel({ id: 'lan/big', contextTokens: 32_000, placement: 'on_prem', privacy: ['public', 'internal', 'confidential'] });
    await node.spawn(probe, { id: 'probe' });
    await expect(node.models.complete('probe', { model: 'cloud/gpt-test', messages: question, fallbacks: false })).rejects.toMatchObject({
      code: ModelCodes.noRoute,
      message: expect.stringContaining('air-gapped node: a cloud model'),
    });
    await expect(node.models.complete('probe', { model: 'lan/big', messages: question, fallbacks: false })).rejects.toMatchObject({
      code: ModelCodes.noRoute,
      message: expect.stringContaining('air-gapped node: its provider is on the network'),
    });
    expect(await ask(node, 'probe', 'hello', 'lan/big')).toMatchObject({ model: LOCAL });
    expect(cloud.requests.length).toBe(before);
  });
});
