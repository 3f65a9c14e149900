// The CLI's side of the control endpoint: find a running node through its
// `control.json` (port and token), call one route, and turn every way of not
// reaching it into NODE_NOT_RUNNING naming the node and the data dir. Also the
// options and help text every command that talks to a node shares.

import type { Command } from 'commander';
import { request } from 'node:http';
import { AgentOsError } from '../base/errors.js';
import { CONTROL_HOST, controlFilePath, readControlFile, type ControlFile } from '../node/control.js';
import { DEFAULT_DATA_DIR, DEFAULT_NODE, nodeName } from './options.js';

export const NODE_NOT_RUNNING = 'NODE_NOT_RUNNING';
const TIMEOUT_MS = 15_000;

export interface NodeTarget {
  dataDir: string;
  node: string;
}

function notRunning(target: NodeTarget, why: string): AgentOsError {
  return new AgentOsError(NODE_NOT_RUNNING, `no node "${target.node}" is running on data dir ${target.dataDir}: ${why}; start one with \`agentos serve --node ${target.node} --data-dir ${target.dataDir}\``, {
    field: 'node',
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The control file of a running node; NODE_NOT_RUNNING when there is none or its process is gone. */
export function findNode(target: NodeTarget): ControlFile {
  const path = controlFilePath(target.dataDir, target.node);
  const control = readControlFile(path);
  if (control === undefined) throw notRunning(target, `${path} does not exist`);
  if (control.node !== target.node) throw notRunning(target, `${path} belongs to node "${control.node}"`);
  if (!alive(control.pid)) throw notRunning(target, `process ${control.pid} named in ${path} is gone (a stale file from a node that did not stop cleanly)`);
  return control;
}

interface Reply {
  status: number;
  body: unknown;
}

interface CallOptions {
  method?: 'GET' | 'POST';
  /** A JSON body (POST): sent as given, so the node is the one to judge it. */
  body?: unknown;
  /** How long to wait for the answer beyond the usual margin (an ask waits for its reply). */
  waitMs?: number;
}

function call(control: ControlFile, path: string, options: CallOptions): Promise<Reply> {
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = { authorization: `Bearer ${control.token}`, accept: 'application/json' };
  if (text !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  const timeoutMs = TIMEOUT_MS + (options.waitMs ?? 0);
  return new Promise((resolve, reject) => {
    const req = request({ host: CONTROL_HOST, port: control.port, path, method: options.method ?? 'GET', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          reject(new Error(`answered HTTP ${res.statusCode ?? '?'} with a body that is not JSON`));
        }
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(text);
  });
}

/**
 * Call `path` on the running node's control endpoint (GET, or POST with a JSON body): its JSON on 200,
 * else its error as an AgentOsError with the node's code.
 */
export async function callNode<T>(target: NodeTarget, path: string, options: CallOptions = {}): Promise<T> {
  const control = findNode(target);
  let reply: Reply;
  try {
    reply = await call(control, path, options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') throw notRunning(target, `nothing answers on ${CONTROL_HOST}:${control.port} (${code})`);
    throw new AgentOsError('CONTROL_UNREACHABLE', `node "${target.node}" on ${CONTROL_HOST}:${control.port}: ${(err as Error).message}`, { field: 'node', cause: err });
  }
  if (reply.status === 200) return reply.body as T;
  const error = (reply.body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    throw new AgentOsError(error.code, `node "${target.node}": ${error.message}`, typeof error.field === 'string' ? { field: error.field } : {});
  }
  throw new AgentOsError('CONTROL_UNREACHABLE', `node "${target.node}" on ${CONTROL_HOST}:${control.port} answered HTTP ${reply.status} without an error`, { field: 'node' });
}

/** `--data-dir` and `--node`: which running node a command talks to. */
export function withNodeTarget(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'where the node keeps its data', DEFAULT_DATA_DIR)
    .option('--node <name>', 'the running node to talk to', nodeName, DEFAULT_NODE);
}

export const NOT_RUNNING_HELP = `
Needs a running node (\`agentos serve\`): the command finds its local control
endpoint through <data-dir>/<node>/control.json. Exit status: 0 ok, 1 when no
such node is running (NODE_NOT_RUNNING) or it refused, 2 on a usage error.`;

/** The `--help` text after the options: what the command needs, then examples. */
export function helpAfter(...examples: string[]): string {
  return `${NOT_RUNNING_HELP}\n\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`;
}
