// A remote A2A agent built with the SDK's own server (DefaultRequestHandler +
// express JSON-RPC handler) on 127.0.0.1, for the mount tests. What it does
// depends on the text it gets: echo, stream, fail, reject, huge, hang.
import { createServer, type Server } from 'node:http';
import express from 'express';
import { AGENT_CARD_PATH, Role, TaskState, type AgentCard, type Message, type Task } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';

export interface Remote {
  url: string;
  /** Texts received, in order. */
  received: string[];
  /** Authorization headers seen. */
  auth: (string | undefined)[];
  close(): Promise<void>;
}

const part = (value: string) => ({ content: { $case: 'text' as const, value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

export async function startRemote(options: { streaming?: boolean } = {}): Promise<Remote> {
  const received: string[] = [];
  const auth: (string | undefined)[] = [];
  const hanging: (() => void)[] = [];
  const executor: AgentExecutor = {
    async execute(ctx, bus) {
      const text = ctx.userMessage.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
      received.push(text);
      const ids = { contextId: ctx.contextId, taskId: ctx.taskId };
      const msg = (value: string): Message => ({ messageId: `r-${received.length}-${Math.random()}`, ...ids, role: Role.ROLE_AGENT, parts: [part(value)], metadata: undefined, extensions: [], referenceTaskIds: [] });
      const task = (state: TaskState, status?: string): Task => ({ id: ctx.taskId, contextId: ctx.contextId, status: { state, message: status === undefined ? undefined : msg(status), timestamp: new Date().toISOString() }, artifacts: [], history: [ctx.userMessage], metadata: undefined });
      if (text === 'hang') {
        await new Promise<void>((resolve) => hanging.push(resolve));
      } else if (text === 'stream') {
        bus.publish(AgentEvent.task(task(TaskState.TASK_STATE_WORKING)));
        for (const [i, chunk] of ['alpha ', 'beta'].entries()) {
          bus.publish(AgentEvent.artifactUpdate({ ...ids, artifact: { artifactId: 'out', name: 'report', description: '', parts: [part(chunk)], metadata: undefined, extensions: [] }, append: i > 0, lastChunk: i === 1, metadata: undefined }));
        }
        bus.publish(AgentEvent.statusUpdate({ ...ids, status: { state: TaskState.TASK_STATE_COMPLETED, message: msg('streamed'), timestamp: new Date().toISOString() }, metadata: undefined }));
      } else if (text === 'fail') {
        bus.publish(AgentEvent.task(task(TaskState.TASK_STATE_FAILED, 'the remote broke')));
      } else if (text === 'reject') {
        bus.publish(AgentEvent.task(task(TaskState.TASK_STATE_REJECTED, 'not allowed here')));
      } else if (text === 'huge') {
        bus.publish(AgentEvent.message(msg('z'.repeat(200_000))));
      } else {
        bus.publish(AgentEvent.message(msg(`echo ${text}`)));
      }
      bus.finished();
    },
    async cancelTask() {},
  };
  const app = express();
  app.use((req, _res, next) => {
    if (req.method === 'POST') auth.push(req.headers.authorization);
    next();
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const card: AgentCard = {
    name: 'Remote helper',
    description: 'Answers questions from afar.',
    version: '2.0.0',
    supportedInterfaces: [{ url: `${url}/rpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' }],
    provider: undefined,
    capabilities: { streaming: options.streaming ?? false, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [],
    signatures: [],
  };
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: handler }));
  app.use('/rpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return {
    url,
    received,
    auth,
    close: async () => {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
