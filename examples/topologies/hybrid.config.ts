// Hybrid: local models for what must stay on site, a cloud model through an
// OpenAI-compatible endpoint for the rest. PHI stays local: the cloud model's
// catalog entry takes only public and internal data, so the router never
// sends a call of a `phi` contract (nor a confidential or pii one) to it — not
// even when the agent asks for it by name: the call falls back to a local
// model, and the route audit record says why. (List `confidential` or `pii`
// in the cloud entry's privacy and such prompts go to it de-identified, by the
// gateway's `redactCloud: 'sensitive'` default.) The local models here are
// the built-in deterministic ones; an on-prem server would be one more
// OpenAI-compatible provider (see air-gapped.config.ts).
//
//   AGENTOS_CLOUD_URL=https://api.openai.com/v1 AGENTOS_CLOUD_KEY=sk-… \
//     agentos start --config examples/topologies/hybrid.config.ts
//   agentos ask helpdesk '{"type":"ask","content":"When are you open?"}' --node hybrid-1
//   agentos ask intake '{"type":"ask","content":"Patient reports chest pain"}' --node hybrid-1
import { ModelCatalog, OpenAiCompatibleProvider, type ModelEntry } from '../../src/index.js';
import { assistant } from './assistant.js';

const cloudModel = process.env.AGENTOS_CLOUD_MODEL ?? 'gpt-4o-mini';
/** The cloud model's catalog id: provider `cloud`, then the endpoint's own model name. */
export const CLOUD_MODEL = `cloud/${cloudModel}`;

const cloud = new OpenAiCompatibleProvider({
  name: 'cloud',
  baseUrl: process.env.AGENTOS_CLOUD_URL ?? 'https://api.openai.com/v1',
  ...(process.env.AGENTOS_CLOUD_KEY ? { apiKey: process.env.AGENTOS_CLOUD_KEY } : {}),
  timeoutMs: 20_000,
});

const cloudEntry: ModelEntry = {
  id: CLOUD_MODEL,
  contextTokens: 128_000,
  placement: 'cloud',
  privacy: ['public', 'internal'], // never confidential, pii or phi data
  cost: { inputPer1k: 0.00015, outputPer1k: 0.0006 }, // illustrative: set your provider's prices
};

/** Handles patient intake notes: PHI, so only models whose catalog entry takes `phi` may see its prompts. */
export const intake = assistant('intake', 'local/rules', {
  modelPolicy: { allow: ['local/*', 'cloud/*'], max_context_tokens: 4000, privacy: 'phi' },
});

/** Answers public questions: the cloud model first, the local ones as fallbacks. */
export const helpdesk = assistant('helpdesk', CLOUD_MODEL, {
  modelPolicy: { allow: ['cloud/*', 'local/*'], max_context_tokens: 4000, privacy: 'public' },
});

export default {
  node: {
    name: 'hybrid-1',
    modelGateway: {
      mode: 'hybrid' as const, // any placement; on-site models are preferred, cloud ones come last
      providers: [cloud],
      catalog: [...new ModelCatalog().list(), cloudEntry],
    },
  },
  agents: [intake, helpdesk],
};
