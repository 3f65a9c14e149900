// mountA2AAgent: a remote A2A agent becomes a tool of the node's registry, so
// calling it is a kernel syscall like any tool — the caller's contract must list
// its name, `consent_for` gates it, budgets and dry runs apply, and every call is
// audited and traced. The agent card is read once, at mount (its hash audited);
// a changed card is not picked up until the agent is mounted again. Calls go
// over the SDK's client (JSON-RPC; v1.0, or v0.3 peers), blocking or streamed.

import { z } from 'zod';
import { TaskState, type AgentCard, type Message, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory, type Client } from '@a2a-js/sdk/client';
import { A2AError as SdkA2AError } from '@a2a-js/sdk/errors';
import { canonicalJson, sha256Hex } from '../../base/canonical.js';
import { AgentOsError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import { defineTool, type ToolContext, type ToolRisk } from '../tools/define.js';
import type { ToolManifest } from '../tools/manifest.js';
import type { ToolRegistry } from '../tools/registry.js';
import { A2ACodes, A2AError } from './errors.js';
import { a2aCause, boundedFetch } from './fetch.js';
import { readParts, userMessage } from './parts.js';

export interface MountA2AOptions {
  /** The remote agent's base URL (its card at `/.well-known/agent-card.json`). */
  url: string;
  /** The tool's name, which is also the capability callers need, e.g. `partners.planner`. */
  name: string;
  /** Default: the card's description. */
  description?: string;
  /** Use streaming (message/stream): progress reaches `@agentos.a2a.remote.update` events. Default: if the card offers it. */
  stream?: boolean;
  /** Time limit of one call, ms (default 60,000): the tool fails with TOOL_TIMEOUT. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest answer of one call, stream included (default 4 MiB). */
  maxResponseBytes?: number;
  /** Default 'medium'. */
  risk?: ToolRisk;
}

export interface A2AMount {
  readonly name: string;
  readonly url: string;
  /** The card read at mount. */
  readonly card: AgentCard;
  readonly manifest: ToolManifest;
  /** Unregister the tool. */
  close(): void;
}

/** A node (its kernel and tool registry). */
export interface MountHost {
  kernel: Kernel;
  tools: ToolRegistry;
}

const input = z.object({
  text: z.string().max(1_000_000).describe('What to ask the remote agent.'),
  data: z.unknown().optional().describe('Structured data sent as a data part.'),
  contextId: z.string().max(200).optional().describe('Continue a conversation (context) the remote agent started.'),
  taskId: z.string().max(200).optional().describe('Continue a task that asked for more input.'),
});

const output = z.object({
  state: z.enum(['completed', 'working', 'submitted']),
  text: z.string(),
  data: z.array(z.unknown()),
  artifacts: z.array(z.object({ name: z.string(), text: z.string(), data: z.array(z.unknown()) })),
  contextId: z.string().optional(),
  taskId: z.string().optional(),
});

type Output = z.infer<typeof output>;

export async function mountA2AAgent(host: MountHost, options: MountA2AOptions): Promise<A2AMount> {
  const { kernel, tools } = host ?? ({} as MountHost);
  if (typeof kernel?.emit !== 'function' || typeof tools?.register !== 'function') throw invalid('host', 'must be a node (its kernel and tools registry)');
  const o = checkOptions(options);
  if (tools.has(o.name)) throw invalid('name', `"${o.name}" is already a tool of this node`);
  const fetchImpl = boundedFetch({ maxResponseBytes: o.maxResponseBytes, ...(o.token === undefined ? {} : { token: o.token }) });
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl, legacyCompat: { enabled: true } }), new RestTransportFactory({ fetchImpl, legacyCompat: { enabled: true } })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl, legacyCompat: { enabled: true } }),
    }),
  );
  let client: Client;
  let card: AgentCard;
  try {
    client = await factory.createFromUrl(o.url);
    card = await client.getAgentCard();
  } catch (err) {
    throw remoteError(err, `reading the agent card of ${o.url}`);
  }
  const stream = o.stream ?? card.capabilities?.streaming === true;
  const tool = defineTool({
    name: o.name,
    description: o.description ?? `${card.name || 'A2A agent'}: ${card.description || o.url}`.slice(0, 4000),
    input,
    output,
    risk: o.risk,
    timeoutMs: o.timeoutMs,
    execute: (args, ctx) => call(kernel, client, o.name, stream, args, ctx),
  });
  const manifest = tools.register(tool);
  kernel.governance.record({
    kind: 'a2a',
    decision: 'mounted',
    subject: o.name,
    reason: `remote A2A agent ${o.url} (${card.name}), ${stream ? 'streaming' : 'blocking'}`,
    hashes: { agentCard: `sha256:${sha256Hex(canonicalJson(JSON.parse(JSON.stringify(card))))}`, toolManifest: manifest.hash },
  });
  let closed = false;
  return {
    name: o.name,
    url: o.url,
    card,
    manifest,
    close: () => {
      if (closed) return;
      closed = true;
      tools.unregister(o.name);
    },
  };
}

async function call(kernel: Kernel, client: Client, name: string, stream: boolean, args: z.output<typeof input>, ctx: ToolContext): Promise<Output> {
  const request = {
    tenant: '',
    message: userMessage({ text: args.text, ...(args.data === undefined ? {} : { data: args.data }) }, { ...(args.contextId ? { contextId: args.contextId } : {}), ...(args.taskId ? { taskId: args.taskId } : {}) }),
    configuration: undefined,
    metadata: undefined,
  };
  const options = ctx.signal ? { signal: ctx.signal } : {};
  try {
    if (!stream) return outcome(await client.sendMessage(request, options), name);
    const acc = new StreamAccumulator();
    for await (const ev of client.sendMessageStream(request, options)) {
      acc.add(ev);
      kernel.emit('@agentos.a2a.remote.update', { tool: name, actor: ctx.actor, kind: ev.payload?.$case ?? 'unknown', ...(acc.state === undefined ? {} : { state: stateName(acc.state) }) });
    }
    return acc.result(name);
  } catch (err) {
    throw remoteError(err, `calling A2A agent "${name}"`);
  }
}

/** What a blocking call returned: a message, or a task in its last state. */
function outcome(result: Message | Task, name: string): Output {
  if ('parts' in result) {
    const { text, data } = readParts(result.parts);
    return { state: 'completed', text, data, artifacts: [], contextId: result.contextId, taskId: result.taskId };
  }
  return taskOutcome(result.status?.state, result.status?.message, result.artifacts ?? [], { contextId: result.contextId, taskId: result.id }, name);
}

function taskOutcome(state: TaskState | undefined, message: Message | undefined, artifacts: Task['artifacts'], ids: { contextId: string; taskId: string }, name: string): Output {
  const { text, data } = readParts(message?.parts);
  const errorCode = (message?.metadata?.['agentos/error'] as { code?: string } | undefined)?.code;
  const details = { state: stateName(state), taskId: ids.taskId, ...(errorCode === undefined ? {} : { remoteCode: errorCode }) };
  if (state === TaskState.TASK_STATE_FAILED || state === TaskState.TASK_STATE_CANCELED) {
    throw new A2AError(A2ACodes.remoteFailed, `A2A agent "${name}" ended the task ${stateName(state)}: ${text.slice(0, 500)}`, { field: 'name', details });
  }
  if (state === TaskState.TASK_STATE_REJECTED || state === TaskState.TASK_STATE_INPUT_REQUIRED || state === TaskState.TASK_STATE_AUTH_REQUIRED) {
    throw new A2AError(A2ACodes.remoteRejected, `A2A agent "${name}" ended the task ${stateName(state)}: ${text.slice(0, 500)}`, { field: 'name', details });
  }
  const done = state === TaskState.TASK_STATE_COMPLETED ? 'completed' : state === TaskState.TASK_STATE_WORKING ? 'working' : 'submitted';
  return { state: done, text, data, artifacts: artifacts.map((a) => ({ name: a.name || a.artifactId, ...readParts(a.parts, '') })), ...ids };
}

/** Folds a stream into the same result a blocking call gives: the last message or task state, artifacts appended by id. */
class StreamAccumulator {
  state: TaskState | undefined;
  private message: Message | undefined;
  private statusMessage: Message | undefined;
  private ids = { contextId: '', taskId: '' };
  private readonly artifacts = new Map<string, Task['artifacts'][number]>();

  add(ev: StreamResponse): void {
    const p = ev.payload;
    if (p?.$case === 'message') this.message = p.value;
    else if (p?.$case === 'task') {
      this.ids = { contextId: p.value.contextId, taskId: p.value.id };
      this.setStatus(p.value.status);
      for (const a of p.value.artifacts ?? []) this.artifacts.set(a.artifactId, a);
    } else if (p?.$case === 'statusUpdate') {
      this.ids = { contextId: p.value.contextId, taskId: p.value.taskId };
      this.setStatus(p.value.status);
    } else if (p?.$case === 'artifactUpdate' && p.value.artifact) {
      const a = p.value.artifact;
      const prev = this.artifacts.get(a.artifactId);
      this.artifacts.set(a.artifactId, prev && p.value.append ? { ...prev, parts: [...prev.parts, ...a.parts] } : a);
    }
  }

  private setStatus(status: Task['status']): void {
    this.state = status?.state ?? this.state;
    if (status?.message) this.statusMessage = status.message;
  }

  result(name: string): Output {
    if (this.message) return outcome(this.message, name);
    if (this.state === undefined) throw new A2AError(A2ACodes.remoteError, `A2A agent "${name}" ended its stream without a message or a task`, { field: 'name' });
    return taskOutcome(this.state, this.statusMessage, [...this.artifacts.values()], this.ids, name);
  }
}

function stateName(state: TaskState | undefined): string {
  return state === undefined ? 'unknown' : (TaskState[state] ?? String(state)).replace(/^TASK_STATE_/, '').toLowerCase();
}

/** What the SDK or fetch threw, as an A2AError with a stable code. */
function remoteError(err: unknown, what: string): AgentOsError {
  if (err instanceof AgentOsError) return err;
  const own = a2aCause(err);
  if (own) return own;
  const e = err as { name?: string; message?: string; code?: unknown; envelopeCode?: unknown; cause?: { code?: string } } | null;
  const message = typeof e?.message === 'string' ? e.message.slice(0, 500) : String(err);
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return new A2AError(A2ACodes.timeout, `${what}: aborted before the remote agent answered`, { field: 'timeoutMs', cause: err });
  if (err instanceof SdkA2AError) {
    return new A2AError(A2ACodes.remoteError, `${what}: the remote agent answered with an error: ${message}`, {
      field: 'name',
      cause: err,
      details: { ...(typeof e?.envelopeCode === 'number' ? { rpcCode: e.envelopeCode } : {}) },
    });
  }
  return new A2AError(A2ACodes.unavailable, `${what}: the remote agent is unavailable (${message}${e?.cause?.code ? `, ${e.cause.code}` : ''})`, { field: 'url', cause: err });
}

/** The registry's tool-name rule (checked here too, so a bad name fails before any network). */
const TOOL_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

function invalid(field: string, why: string): A2AError {
  return new A2AError(A2ACodes.invalidOptions, `mountA2AAgent: ${field} ${why}`, { field });
}

function checkOptions(options: MountA2AOptions) {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object { url, name }');
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw invalid('url', `must be an http(s) URL (got ${JSON.stringify(options.url)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('url', `must be an http(s) URL (got ${JSON.stringify(options.url)})`);
  if (typeof options.name !== 'string' || !TOOL_NAME.test(options.name)) throw invalid('name', `must be a tool name like "partners.planner" (got ${JSON.stringify(options.name)})`);
  const num = (field: 'timeoutMs' | 'maxResponseBytes', fallback: number): number => {
    const v = options[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw invalid(field, `must be a positive whole number (got ${String(v)})`);
    return v;
  };
  if (options.token !== undefined && typeof options.token !== 'string') throw invalid('token', 'must be a string');
  if (options.stream !== undefined && typeof options.stream !== 'boolean') throw invalid('stream', 'must be true or false');
  return {
    url: url.href,
    name: options.name,
    description: options.description,
    stream: options.stream,
    timeoutMs: num('timeoutMs', 60_000),
    maxResponseBytes: num('maxResponseBytes', 4 * 1024 * 1024),
    token: options.token,
    risk: options.risk ?? ('medium' as ToolRisk),
  };
}
