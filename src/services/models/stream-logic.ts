// A streamed completion as XState child logic: `invoke: { src: streamCompletion,
// input }` in an agent's machine sends the machine `model.chunk` events as the
// tokens come and `model.done` (or `model.error`) at the end, so a statechart
// shows where the agent waits and what it has heard so far. It takes the
// gateway's policy path (modelPolicy.allow, token budgets, audit), its
// `agentos.model` span hangs under the agent's current turn, and leaving the
// invoking state (barge-in) aborts the stream: the call is settled as cancelled.

import { fromCallback, type AnyEventObject, type CallbackActorLogic, type EventObject } from 'xstate';
import { cellOfSystem } from '../../actors/cell.js';
import { AgentOsError } from '../../base/errors.js';
import { TraceSpan } from '../../kernel/trace.js';
import { ModelCodes, ModelError } from './errors.js';
import { ModelGateway, type ModelCall } from './gateway.js';
import type { Completion } from './run.js';
import type { ToolCall } from './types.js';

/** What `streamCompletion` takes as `input`: the model's catalog id and the request (plus `tokens`, `fallbacks`, `onBehalfOf` as for `node.models.stream`). */
export type StreamCompletionInput = ModelCall;

/** What `streamCompletion` sends its parent machine. */
export type StreamCompletionEvent =
  /** A piece of text, in order; `index` counts the text chunks of this call from 0. */
  | { type: 'model.chunk'; text: string; index: number; at: number }
  /** A tool call the model made (the request offered the tool). */
  | { type: 'model.tool_call'; call: ToolCall; at: number }
  /** The stream ended: `text` is the whole answer (the chunks' text joined). */
  | { type: 'model.done'; text: string; completion: Completion }
  /** Refused (policy, budget, bad request, a persistent caller) or failed; nothing more follows. */
  | { type: 'model.error'; code: string; message: string; field?: string; error: AgentOsError };

/** Why a stream is cut short when the agent leaves the state that invoked it. */
const bargeIn = (): ModelError => new ModelError(ModelCodes.aborted, 'streamCompletion: the agent left the state that invoked the stream (barge-in)', { field: 'signal' });

function errorEvent(err: unknown): Extract<StreamCompletionEvent, { type: 'model.error' }> {
  const error = err instanceof AgentOsError ? err : new ModelError(ModelCodes.unavailable, `streamCompletion: ${(err as Error)?.message ?? String(err)}`, { field: 'model', cause: err });
  return { type: 'model.error', code: error.code, message: error.message, ...(error.field === undefined ? {} : { field: error.field }), error };
}

/**
 * Stream a completion to the invoking machine. Handle `model.chunk`,
 * `model.tool_call`, `model.done` and `model.error` in the invoking state;
 * leave the state to cancel. A persistent actor is refused with
 * MODEL_STREAM_NOT_JOURNALED: its calls are journaled, a stream is not — use
 * `syscall` with `kind: 'model'` there.
 */
export const streamCompletion: CallbackActorLogic<EventObject, StreamCompletionInput> = fromCallback<EventObject, StreamCompletionInput>(({ input, system, sendBack }) => {
  const controller = new AbortController();
  let stopped = false;
  const send = (event: StreamCompletionEvent): void => {
    if (!stopped) sendBack(event as AnyEventObject);
  };

  const run = async (): Promise<void> => {
    const cell = cellOfSystem(system);
    if (!cell) throw new AgentOsError('NOT_AN_AGENT', 'streamCompletion: this machine is not running as an agentos actor');
    const model = (input as { model?: unknown } | undefined)?.model;
    if (cell.durable) {
      throw new ModelError(
        ModelCodes.streamNotJournaled,
        `streamCompletion: actor "${cell.id}" is persistent and a streamed completion is not journaled (a replay could not give its chunks back); ` +
          `use syscall with { kind: 'model', name: ${JSON.stringify(model ?? 'local/echo')}, args: { messages } }, whose whole completion is journaled`,
        { field: 'persistence' },
      );
    }
    const gateway = ModelGateway.of(cell.host);
    if (!gateway) throw new ModelError(ModelCodes.notRegistered, 'streamCompletion: this node has no model gateway registered with its kernel', { field: 'kernel' });
    const parent = cell.trace instanceof TraceSpan ? cell.trace : undefined;
    const stream = await gateway.stream(cell.id, input, cell.callSignal(controller.signal), parent);
    // Read even when cut short already: the first read settles the call's books (cancelled) and ends its span.
    let index = 0;
    for await (const chunk of stream) {
      if (stopped) break;
      if (chunk.type === 'text') send({ type: 'model.chunk', text: chunk.text, index: index++, at: chunk.at });
      else if (chunk.type === 'tool_call') send({ type: 'model.tool_call', call: chunk.call, at: chunk.at });
    }
    const completion = stream.completion;
    if (completion) send({ type: 'model.done', text: completion.text, completion });
  };

  run().catch((err: unknown) => send(errorEvent(err)));
  return () => {
    stopped = true;
    controller.abort(bargeIn());
  };
});
