// Air-gapped: a site with no way out. The gateway runs in `air-gapped` mode:
// only models whose provider stays on this machine may serve a call — the
// in-process local models and OpenAI-compatible servers on a loopback address
// (here an Ollama on 127.0.0.1). A cloud model, or any provider on the
// network (another host of the LAN included), is refused by routing
// (MODEL_NO_ROUTE, audited) before a connection is tried.
//
//   ollama serve &  ollama pull llama3.2
//   agentos start --config examples/topologies/air-gapped.config.ts
//   agentos ask analyst '{"type":"ask","content":"Summarise the incident log"}' --node vault-1
import { ModelCatalog, OpenAiCompatibleProvider } from '../../src/index.js';
import { assistant } from './assistant.js';

/** The on-site model: its catalog id is the provider's name, then the server's model name. */
export const ONSITE_MODEL = 'ollama/llama3.2';

const ollama = new OpenAiCompatibleProvider({
  name: 'ollama',
  baseUrl: process.env.AGENTOS_LOCAL_URL ?? 'http://127.0.0.1:11434/v1', // loopback: allowed when air-gapped
  timeoutMs: 60_000,
});

/** Works on classified material: the on-site model, the deterministic local ones as fallbacks. */
export const analyst = assistant('analyst', ONSITE_MODEL, {
  modelPolicy: { allow: ['ollama/*', 'local/*'], max_context_tokens: 8000, privacy: 'confidential' },
});

export default {
  node: {
    name: 'vault-1',
    modelGateway: {
      mode: 'air-gapped' as const,
      providers: [ollama],
      catalog: [
        ...new ModelCatalog().list(),
        { id: ONSITE_MODEL, contextTokens: 8192, placement: 'on_prem' as const, privacy: ['public', 'internal', 'confidential', 'pii', 'phi'] as const },
      ],
    },
  },
  agents: [analyst],
};
