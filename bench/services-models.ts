// Time to first token added by the model gateway, in one process and one run:
// - an OpenAI-compatible endpoint: a fake SSE server on 127.0.0.1 (its own
//   process, so it does not share the measuring event loop) streamed
//   (a) through `node.models.stream(actor, { model, messages })` (policy
//       precheck and audited check, request parsing, routing, context window,
//       metrics, events), (b) by the raw `OpenAiCompatibleProvider.stream`,
//   and (c) by a bare `fetch` reading the SSE body itself;
// - the local deterministic model: through the gateway vs `LocalProvider.stream`.
// TTFT is from the call until the first non-empty text delta reaches the caller;
// every stream is then read to its end (so the HTTP connection is reused).

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createNode, RealClock, type AgentOsNode } from './agentos.js';
import { counterAgent } from './machines.js';
import { fmt, now, scratchDir, type BenchOptions, type Row } from './lib.js';
import { ModelCatalog, ModelGateway, OpenAiCompatibleProvider, type CompletionRequest, type ModelChunk } from './services-api.js';
import { fmtU, p, percentileRows, SUITE, timeSeries } from './services-common.js';

/** Tokens the fake endpoint streams per answer (one SSE event each). */
const PIECES = 'The quarterly report shows revenue up four percent , with costs flat and churn down again .'.split(' ').map((w, i) => (i === 0 ? w : ` ${w}`));

/** The fake endpoint: plain JS run with `node -e`; prints its port. First token at once, the rest one per event-loop turn. */
const SERVER = `
const http = require('node:http');
const PIECES = ${JSON.stringify(PIECES)};
const delta = (d, finish = null) => ({ id: 'chatcmpl-b', object: 'chat.completion.chunk', choices: [{ index: 0, delta: d, finish_reason: finish }] });
const server = http.createServer((req, res) => {
  const body = [];
  req.on('data', (c) => body.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(body).toString('utf8'));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const ev = (d) => res.write('data: ' + (typeof d === 'string' ? d : JSON.stringify(d)) + '\\n\\n');
    ev(delta({ role: 'assistant', content: PIECES[0] }));
    let i = 1;
    const next = () => {
      if (i < PIECES.length) {
        ev(delta({ content: PIECES[i++] }));
        setImmediate(next);
        return;
      }
      ev(delta({}, 'stop'));
      ev({ id: 'chatcmpl-b', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 20, completion_tokens: PIECES.length } });
      ev('[DONE]');
      res.end();
    };
    setImmediate(next);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('disconnect', () => process.exit(0));
`;

async function startServer(): Promise<{ child: ChildProcess; baseUrl: string }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`bench: the fake OpenAI server exited (${code})`)));
  });
  return { child, baseUrl: `http://127.0.0.1:${Number(line)}/v1` };
}

const USER = 'Summarise the quarterly report for the board in two sentences, please, with the revenue figure first.';
const REQUEST: CompletionRequest = { messages: [{ role: 'user', content: USER }], maxTokens: 64 };

/** Reads a stream of chunks to its end; returns ms to the first non-empty text chunk (and the text, for the sanity check). */
async function drain(t0: number, chunks: AsyncIterable<ModelChunk>, out: { text: string }): Promise<number> {
  let ttft = NaN;
  out.text = '';
  for await (const c of chunks) {
    if (c.type === 'text' && c.text.length > 0) {
      if (Number.isNaN(ttft)) ttft = now() - t0;
      out.text += c.text;
    }
  }
  return ttft;
}

/** The same request with a bare fetch and a hand-rolled SSE read. */
async function bareFetch(url: string, out: { text: string }): Promise<number> {
  const t0 = now();
  const body = JSON.stringify({ model: 'm', messages: REQUEST.messages, stream: true, stream_options: { include_usage: true }, max_tokens: REQUEST.maxTokens });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream, application/json' }, body });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let ttft = NaN;
  out.text = '';
  for (;;) {
    const step = await reader.read();
    if (step.done) break;
    buf += decoder.decode(step.value, { stream: true });
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const content = (JSON.parse(event.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content;
      if (content) {
        if (Number.isNaN(ttft)) ttft = now() - t0;
        out.text += content;
      }
    }
  }
  return ttft;
}

export async function runServiceModels(opts: BenchOptions, log: (s: string) => void): Promise<Row[]> {
  const segments = opts.quick ? 3 : 10;
  const perHttp = opts.quick ? 100 : 300;
  const perLocal = opts.quick ? 300 : 1_000;
  const warmHttp = opts.quick ? 100 : 300;
  const warmLocal = opts.quick ? 300 : 1_000;

  const server = await startServer();
  const clock = new RealClock();
  const provider = new OpenAiCompatibleProvider({ name: 'fake', baseUrl: server.baseUrl });
  const gateway = new ModelGateway({
    providers: [provider],
    catalog: [...new ModelCatalog().list(), { id: 'fake/m', contextTokens: 32_000, placement: 'on_prem', privacy: ['public', 'internal'] }],
  });
  const node: AgentOsNode = await createNode({ name: 'bench-services-models', dataDir: scratchDir(), modelGateway: gateway });
  try {
    await node.spawn(counterAgent({ modelPolicy: { allow: ['fake/*', 'local/*'], max_context_tokens: 8_000 } }), { id: 'model-caller' });
    const url = `${server.baseUrl}/chat/completions`;
    const totals: Record<string, number[]> = { fetch: [], provider: [], checked: [], gateway: [], localProvider: [], localGateway: [] };
    const got: Record<string, { text: string }> = Object.fromEntries(Object.keys(totals).map((k) => [k, { text: '' }]));
    const timed = (k: string, fn: () => Promise<number>) => async (): Promise<number> => {
      const t0 = now();
      const ttft = await fn();
      totals[k]!.push((now() - t0) * 1000);
      return ttft;
    };
    const fns = {
      fetch: timed('fetch', () => bareFetch(url, got.fetch!)),
      provider: timed('provider', () => {
        const t0 = now();
        return drain(t0, provider.stream(REQUEST, { model: 'm', clock }), got.provider!);
      }),
      // Decomposition: the kernel's audited policy check alone (what the gateway does first), then the raw provider.
      checked: timed('checked', async () => {
        const t0 = now();
        await node.kernel.governance.check('model-caller', { kind: 'model', name: 'fake/m', tokens: 100 });
        return drain(t0, provider.stream(REQUEST, { model: 'm', clock }), got.checked!);
      }),
      gateway: timed('gateway', async () => {
        const t0 = now();
        return drain(t0, await node.models.stream('model-caller', { model: 'fake/m', ...REQUEST }), got.gateway!);
      }),
      localProvider: timed('localProvider', () => {
        const t0 = now();
        // What the gateway sends the local model: the request with its maxTokens (the gateway's default 512 when absent).
        return drain(t0, gateway.local.stream({ messages: REQUEST.messages, maxTokens: 512 }, { model: 'echo', clock }), got.localProvider!);
      }),
      localGateway: timed('localGateway', async () => {
        const t0 = now();
        return drain(t0, await node.models.stream('model-caller', { model: 'local/echo', messages: REQUEST.messages }), got.localGateway!);
      }),
    };
    for (const [k, fn] of Object.entries(fns)) {
      const ttft = await fn();
      const want = k.startsWith('local') ? USER : PIECES.join('');
      if (!(ttft >= 0) || got[k]!.text !== want) throw new Error(`bench: ${k} streamed ${JSON.stringify(got[k]!.text)} (ttft ${ttft})`);
    }
    for (const k of Object.keys(totals)) totals[k]!.length = 0;
    const auditBefore = node.audit.size;
    log(`services/models: ${segments} interleaved segments × ${perHttp} streams per HTTP series (fetch, provider, check + provider, gateway) and ${perLocal} per local series, each timed to its first token`);
    const per = { fetch: perHttp, provider: perHttp, checked: perHttp, gateway: perHttp, localProvider: perLocal, localGateway: perLocal };
    const warm = { fetch: warmHttp, provider: warmHttp, checked: warmHttp, gateway: warmHttp, localProvider: warmLocal, localGateway: warmLocal };
    const { samples: s, gcPauses, gcMs } = await timeSeries(fns, { segments, perSegment: per, warmup: warm, unit: 'ms', figure: 'returned' });
    // A policy check alone is one record; a gateway stream three: the policy decision, the route, the budget settlement.
    const audited = 4 * warmHttp + 3 * warmLocal + segments * (4 * perHttp + 3 * perLocal);
    if (node.audit.size - auditBefore !== audited) throw new Error(`bench: ${node.audit.size - auditBefore} audit records for ${audited} gateway streams and policy checks`);
    const m = node.models.metrics()['fake/m'];

    const usTot = (k: string, q: number): string => fmtU(p(totals[k]!, q) / 1000, 'ms');
    const added = (a: readonly number[], b: readonly number[], q: number): string => fmtU(p(a, q) - p(b, q), 'ms');
    const rows: Row[] = [
      ...percentileRows('TTFT openai-compatible via gateway, vs raw provider', s.gateway, s.provider, 'ms', [0.5, 0.99], {
        0.5:
          `fake SSE endpoint on 127.0.0.1 (own process, keep-alive, ${PIECES.length} tokens, first one written with the headers); gateway: \`node.models.stream(actor, { model: "fake/m", messages, maxTokens: 64 })\` read to the end; raw: \`OpenAiCompatibleProvider.stream\` of the same request; ` +
          `${(segments * perHttp).toLocaleString('en')} streams per series in ${segments} interleaved segments after ${warmHttp} warm-up; added at p50 ${added(s.gateway, s.provider, 0.5)}, ` +
          `of which the audited policy check alone (\`governance.check\`, then the raw provider) ${added(s.checked, s.provider, 0.5)}; whole stream p50 ${usTot('gateway', 0.5)} vs ${usTot('provider', 0.5)}`,
        0.99: `added at p99 ${added(s.gateway, s.provider, 0.99)} (the policy check alone: ${added(s.checked, s.provider, 0.99)}); whole stream p99 ${usTot('gateway', 0.99)} vs ${usTot('provider', 0.99)}; the gateway's own metric (routing done, from the provider's first chunk): mean TTFT ${fmt(m?.meanTtftMs ?? NaN, 'ms')} over ${m?.calls ?? 0} calls`,
      }),
      ...percentileRows('TTFT openai-compatible raw provider, vs bare fetch', s.provider, s.fetch, 'ms', [0.5, 0.99], {
        0.5: `bare: \`fetch\` of the same JSON body, SSE split on blank lines and JSON-parsed by hand; added by the provider at p50 ${added(s.provider, s.fetch, 0.5)} (its Deadline timers, SseParser, chunk assembler); gateway over bare fetch at p50 ${added(s.gateway, s.fetch, 0.5)}`,
        0.99: `added at p99 ${added(s.provider, s.fetch, 0.99)}; gateway over bare fetch at p99 ${added(s.gateway, s.fetch, 0.99)}`,
      }),
      ...percentileRows('TTFT local/echo via gateway, vs LocalProvider', s.localGateway, s.localProvider, 'ms', [0.5, 0.99], {
        0.5: `unpaced local model (tokensPerSecond 0) echoing a ${USER.split(' ').length}-word prompt; gateway: \`node.models.stream(actor, { model: "local/echo", messages })\`; raw: \`gateway.local.stream(request, { model: "echo", clock })\`; ${(segments * perLocal).toLocaleString('en')} streams per series; added at p50 ${added(s.localGateway, s.localProvider, 0.5)}`,
        0.99: `added at p99 ${added(s.localGateway, s.localProvider, 0.99)}; whole stream p50 ${usTot('localGateway', 0.5)} vs ${usTot('localProvider', 0.5)}; ${gcPauses} GC pauses (${gcMs.toFixed(0)} ms) during all TTFT series, counting the forced one before each segment`,
      }),
    ];
    log(`services/models: TTFT p50 gateway ${fmt(p(s.gateway, 0.5), 'ms')}, provider ${fmt(p(s.provider, 0.5), 'ms')}, fetch ${fmt(p(s.fetch, 0.5), 'ms')}; local ${fmt(p(s.localGateway, 0.5), 'ms')} vs ${fmt(p(s.localProvider, 0.5), 'ms')}`);
    return rows.map((r) => ({ ...r, suite: SUITE }));
  } finally {
    await node.stop();
    server.child.kill();
  }
}
