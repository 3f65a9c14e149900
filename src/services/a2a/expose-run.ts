// One A2A call served by an agentos agent: the caller's message becomes an A2A
// `request` from the principal to the agent through the bus (an ask with a
// deadline), and what the agent answers becomes A2A events — a direct answer a
// Message; `agree` and partial `inform`s a task with status and artifact
// updates; the final inform, a failure, a refusal, a policy denial or a timeout
// the task's last status (completed | failed | rejected | canceled).

import { AgentEvent, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { TaskState, type Message } from '@a2a-js/sdk';
import { AgentOsError } from '../../base/errors.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { A2ABus } from './bus.js';
import { A2ACodes } from './errors.js';
import { looksLikeA2A, newConversationId, type A2AMessage } from './message.js';
import { agentMessage, contentOf, isPlainObject, partsOf } from './parts.js';
import type { ConversationView } from './protocol.js';

export interface RunDeps {
  kernel: Kernel;
  bus: A2ABus;
  agent: string;
  as: string;
  capability: string;
  timeoutMs: number;
}

/** How a call ends: the state, what the status message says, and metadata (`agentos/error` for refusals). */
interface Outcome {
  state: TaskState;
  content: unknown;
  metadata?: Record<string, unknown>;
}

export const ERROR_META = 'agentos/error';
const ARTIFACT = 'agentos-output';

export class ExposedRun {
  readonly conversationId = newConversationId('a2a');
  private taskStarted = false;
  private chunks = 0;
  private settled = false;
  private done!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.done = resolve));

  constructor(
    private readonly d: RunDeps,
    private readonly ctx: RequestContext,
    private readonly events: ExecutionEventBus,
  ) {}

  async run(): Promise<void> {
    const { kernel, bus, as, agent, capability, timeoutMs } = this.d;
    const content = contentOf(this.ctx.userMessage);
    const reason = `A2A client message ${content.messageId.slice(0, 64)} to "${agent}" (task ${this.ctx.taskId})`;
    try {
      // The principal's contract decides whether callers may reach this agent (capability, consent; audited).
      await kernel.governance.check(as, { kind: 'tool', name: capability, reason });
    } catch (err) {
      this.settle(failure(TaskState.TASK_STATE_REJECTED, err));
      return this.finished;
    }
    const detach = bus.attach(this.conversationId, { actor: as, message: (m) => this.onMessage(m), closed: (v) => this.onClosed(v) });
    const request: A2AMessage = {
      type: 'a2a',
      performative: 'request',
      conversationId: this.conversationId,
      replyWith: `a2a-msg-${content.messageId.slice(0, 180) || 'x'}`.replace(/[^\x21-\x7e]/g, '_'),
      from: as,
      to: agent,
      content,
      protocol: 'a2a',
      deadline: kernel.clock.now() + timeoutMs,
    };
    bus.ask(as, request, { timeoutMs }).then(
      (value) => (looksLikeA2A(value) ? this.onMessage(value as A2AMessage) : this.settle({ state: TaskState.TASK_STATE_COMPLETED, content: value })),
      (err: unknown) => this.settle(failure(TaskState.TASK_STATE_FAILED, err)),
    );
    try {
      await this.finished;
    } finally {
      detach();
    }
  }

  /** The caller cancelled the task: tell the agent (the initiator may cancel), end the task. */
  cancel(): void {
    if (this.settled) return;
    try {
      this.d.bus.send(this.d.as, { type: 'a2a', performative: 'cancel', conversationId: this.conversationId, from: this.d.as, to: this.d.agent, content: null, protocol: 'a2a' });
    } catch {
      // Already closed, or the agent is gone: the task ends cancelled all the same.
    }
    this.settle({ state: TaskState.TASK_STATE_CANCELED, content: 'cancelled by the caller' });
  }

  /** Serving stopped: the call ends failed with `err`. */
  abort(err: unknown): void {
    this.settle(failure(TaskState.TASK_STATE_FAILED, err));
  }

  /** An A2A message from the agent in this conversation (through the bus, or as the ask's answer). */
  private onMessage(m: A2AMessage): void {
    if (this.settled) return;
    switch (m.performative) {
      case 'agree':
        this.working();
        return;
      case 'inform':
        if (!m.partial) return this.settle({ state: TaskState.TASK_STATE_COMPLETED, content: m.content });
        this.working();
        this.events.publish(
          AgentEvent.artifactUpdate({
            taskId: this.ctx.taskId,
            contextId: this.ctx.contextId,
            artifact: { artifactId: ARTIFACT, name: 'output', description: '', parts: partsOf(m.content), metadata: undefined, extensions: [] },
            append: this.chunks++ > 0,
            lastChunk: false,
            metadata: undefined,
          }),
        );
        return;
      case 'failure':
        return this.settle({ state: TaskState.TASK_STATE_FAILED, content: m.content, metadata: answerMeta('failure', m.content) });
      case 'refuse':
        return this.settle({ state: TaskState.TASK_STATE_REJECTED, content: m.content, metadata: answerMeta('refuse', m.content) });
      default:
        return; // the bus allows nothing else from the agent in a request
    }
  }

  /** The conversation closed without an answer to the caller: expired (no answer in time), or cancelled or ended by another party. */
  private onClosed(v: ConversationView): void {
    if (v.status === 'expired') {
      return this.settle({
        state: TaskState.TASK_STATE_FAILED,
        content: `${A2ACodes.deadlinePassed}: "${this.d.agent}" did not answer within ${this.d.timeoutMs} ms`,
        metadata: { [ERROR_META]: { code: A2ACodes.deadlinePassed } },
      });
    }
    if (v.status === 'cancelled') return this.settle({ state: TaskState.TASK_STATE_CANCELED, content: 'cancelled' });
    // done / failed / refused reached us as a message first; anything else ends the task failed.
    this.settle({ state: TaskState.TASK_STATE_FAILED, content: `conversation ${v.status}`, metadata: { 'agentos/status': v.status } });
  }

  /** The task exists and is working (published once). */
  private working(): void {
    if (this.taskStarted) return;
    this.taskStarted = true;
    this.events.publish(
      AgentEvent.task({
        id: this.ctx.taskId,
        contextId: this.ctx.contextId,
        status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: this.timestamp() },
        artifacts: [],
        history: [this.ctx.userMessage],
        metadata: undefined,
      }),
    );
  }

  private settle(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    const ids = { contextId: this.ctx.contextId, taskId: this.ctx.taskId };
    if (outcome.state === TaskState.TASK_STATE_COMPLETED && !this.taskStarted) {
      this.events.publish(AgentEvent.message(agentMessage(partsOf(outcome.content), ids)));
    } else {
      const message: Message = agentMessage(partsOf(statusContent(outcome.content)), ids, outcome.metadata);
      const status = { state: outcome.state, message, timestamp: this.timestamp() };
      if (!this.taskStarted) {
        this.taskStarted = true;
        this.events.publish(AgentEvent.task({ id: ids.taskId, contextId: ids.contextId, status, artifacts: [], history: [this.ctx.userMessage], metadata: outcome.metadata }));
      } else {
        this.events.publish(AgentEvent.statusUpdate({ taskId: ids.taskId, contextId: ids.contextId, status, metadata: outcome.metadata }));
      }
    }
    this.events.finished();
    this.done();
  }

  private timestamp(): string {
    return new Date(this.d.kernel.clock.now()).toISOString();
  }
}

/** A failure from a thrown error: `CODE: message` as text, the code (and field) in `agentos/error`. */
function failure(state: TaskState, err: unknown): Outcome {
  const e = err instanceof AgentOsError ? err : undefined;
  const code = e?.code ?? 'A2A_SERVE_FAILED';
  const message = err instanceof Error ? err.message : String(err);
  return { state, content: `${code}: ${message}`, metadata: { [ERROR_META]: { code, ...(e?.field === undefined ? {} : { field: e.field }) } } };
}

/** The agent's failure or refusal, with its `code` (when its content has one) as `agentos/error`. */
function answerMeta(performative: string, content: unknown): Record<string, unknown> {
  const code = isPlainObject(content) && typeof content.code === 'string' ? content.code : undefined;
  return { 'agentos/performative': performative, ...(code === undefined ? {} : { [ERROR_META]: { code } }) };
}

/** A failure's `{ code, message }` content reads as `CODE: message`. */
function statusContent(content: unknown): unknown {
  if (isPlainObject(content) && typeof content.code === 'string' && typeof content.message === 'string') return `${content.code}: ${content.message}`;
  return content;
}
