// Edge only: a node on a device (a kiosk, a robot, a gateway box) that must
// work offline and send nothing to a cloud model. The gateway runs in `edge`
// mode: routing refuses every model placed in the cloud — even one added to
// the catalog later, and even for an agent whose contract would allow it
// (MODEL_NO_ROUTE, audited). The models are the built-in deterministic local
// ones; an on-device server (llama.cpp, Ollama) would be added as an
// OpenAI-compatible provider with placement 'edge' (see air-gapped.config.ts).
//
//   agentos start --config examples/topologies/edge-only.config.ts
//   agentos ask kiosk '{"type":"ask","content":"hello"}' --node edge-1
import { assistant } from './assistant.js';

export const kiosk = assistant('kiosk', 'local/rules', {
  class: { latency: 'SRT', slo: { onset_ms: 300, turn_ms: 1200 } },
  modelPolicy: { allow: ['local/*'], max_context_tokens: 4000, placement: 'edge' },
});

export default {
  node: {
    name: 'edge-1',
    modelGateway: { mode: 'edge' as const }, // the catalog: the local models (local/echo, local/rules, local/seeded)
  },
  agents: [kiosk],
};
