// `agentos/lane`: what a module an HRT lane loads needs, and nothing else.
// A lane thread imports its actor's module; importing the whole runtime there
// (`agentos`) puts it all in the lane's heap and lengthens the lane's own GC
// pauses (measured: 40–47 MiB and 10–100 ms pauses, against 15–24 MiB and
// 1–4 ms with this entry). Lane modules import `defineAgent` from here.

export { defineAgent, type AgentConfig, type AgentDefinition, type LaneOptions } from './actors/define.js';
