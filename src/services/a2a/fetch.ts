// The fetch a mounted remote agent's client uses: a bearer token if given, no
// redirects (a remote answer cannot send the node elsewhere), and a bound on
// the bytes of one answer — a stream included — so a hostile remote cannot
// exhaust memory.

import { A2ACodes, A2AError } from './errors.js';

export interface BoundedFetchOptions {
  maxResponseBytes: number;
  token?: string;
  headers?: Record<string, string>;
}

export function boundedFetch(options: BoundedFetchOptions): typeof fetch {
  const { maxResponseBytes: max } = options;
  const tooLarge = (): A2AError => new A2AError(A2ACodes.responseTooLarge, `the remote A2A agent's answer is larger than ${max} bytes`, { field: 'maxResponseBytes' });
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(options.headers ?? {})) headers.set(k, v);
    if (options.token !== undefined) headers.set('authorization', `Bearer ${options.token}`);
    const res = await fetch(input, { ...init, headers, redirect: 'error' });
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > max) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    if (!res.body) return res;
    let seen = 0;
    const limited = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > max) controller.error(tooLarge());
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(limited, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** The A2AError somewhere in `err`'s cause chain, if any (the SDK wraps what fetch throws). */
export function a2aCause(err: unknown): A2AError | undefined {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof A2AError) return e;
  }
  return undefined;
}
