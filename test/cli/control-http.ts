// A raw HTTP request to a control endpoint over a real socket, for the
// in-process endpoint tests: any method, headers, body (whole or streamed).
import { request } from 'node:http';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface CallOptions {
  method?: string;
  token?: string | undefined;
  headers?: Record<string, string>;
  body?: string;
  chunks?: string[];
  host?: string;
}

export function call(port: number, path: string, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }), ...options.headers };
    const req = request({ host: options.host ?? '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) });
      });
    });
    req.on('error', reject);
    if (options.chunks === undefined) return void req.end(options.body);
    // A streamed body: chunk by chunk, each after the previous one was flushed and a tick passed.
    const rest = [...options.chunks];
    const next = (): void => {
      const chunk = rest.shift();
      if (chunk === undefined) return void req.end();
      req.write(chunk, () => setTimeout(next, 2));
    };
    next();
  });
}
