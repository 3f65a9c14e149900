// The city permit assistant's agents, tools and local models, used by `npm start`
// and examples/city-permit/. Every agent is a step agent (defineStepAgent): calls
// through the kernel (a model, a tool), then an answer — so each call is checked
// against the agent's contract and audited.
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { defineStepAgent, defineTool, type StepRequest } from '../index.js';
import type { CompletionRequest } from '../services/models/types.js';
import { readPage, type Page } from './permit-site.js';

const pageSchema = z.object({ url: z.string(), title: z.string(), text: z.string() });

/** Tools: search and read the city's site; send (and retract) an email, each invocation recorded in `outbox`. */
export function permitTools(base: string, outbox: string) {
  const search = defineTool({
    name: 'city.search',
    description: "search the city's website and read the best page for each query",
    input: z.object({ queries: z.array(z.string().max(200)).min(1).max(5) }),
    output: z.object({ pages: z.array(pageSchema) }),
    execute: async ({ queries }) => {
      const pages: Page[] = [];
      for (const q of queries) {
        const hits = (await (await fetch(`${base}/search?q=${encodeURIComponent(q)}`)).json()) as string[];
        // The best page not read yet for this query.
        const path = hits.find((h) => !pages.some((p) => p.url === `${base}${h}`));
        if (!path) continue;
        const html = await (await fetch(`${base}${path}`)).text();
        pages.push(readPage(`${base}${path}`, html));
      }
      return { pages };
    },
  });
  const send = defineTool({
    name: 'email.send',
    description: 'send an email (a mock: recorded in the outbox file)',
    input: z.object({ to: z.string().email(), subject: z.string(), body: z.string() }),
    output: z.object({ id: z.string() }),
    execute: async (mail) => {
      const id = `mail-${mail.to.length}-${mail.body.length}`;
      appendFileSync(outbox, `${JSON.stringify({ op: 'send', id, ...mail })}\n`);
      return { id };
    },
  });
  const retract = defineTool({
    name: 'email.retract',
    description: 'retract a sent email (the saga compensation of email.send)',
    input: z.object({ id: z.string() }),
    output: z.object({ retracted: z.boolean() }),
    execute: async ({ id }) => {
      appendFileSync(outbox, `${JSON.stringify({ op: 'retract', id })}\n`);
      return { retracted: true };
    },
  });
  return [search, send, retract];
}

const userText = (request: CompletionRequest): string => request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

/** Deterministic local models: a planner that turns a project into search queries, a writer that summarises numbered pages. */
export const permitModels = {
  'permit-planner': (request: CompletionRequest) => {
    const project = /Project:\s*([^.]+)\./.exec(userText(request))?.[1]?.trim().split(/\s+/)[0] ?? 'building';
    return { text: `queries: ${project} permit | ${project} setback | ${project} fee` };
  },
  'permit-writer': (request: CompletionRequest) => {
    const text = userText(request);
    const address = /Address:\s*([^\n]+)/.exec(text)?.[1]?.trim() ?? 'the site';
    const facts = [...text.matchAll(/^\[(\d+)\] [^:]+: (.*?\.)(?=\s|$)/gm)].map((m) => `${m[2]} [${m[1]}]`);
    return { text: `For the project at ${address}: ${facts.join(' ')}` };
  },
};

const modelCall = (model: string, content: string) => ({ kind: 'model' as const, name: `local/${model}`, args: { messages: [{ role: 'user' as const, content }] } });
const firstSentence = (text: string): string => /^.*?\.(?=\s|$)/.exec(text)?.[0] ?? text;
const textOf = (result: unknown): string => (result as { text: string }).text;

export const planner = defineStepAgent({
  name: 'planner',
  contract: { modelPolicy: { allow: ['local/permit-*'], max_context_tokens: 4000 } },
  handlers: {
    step: {
      calls: [(r: StepRequest) => modelCall('permit-planner', `Project: ${String(r.input.project)}. Address: ${String(r.input.address)}.`)],
      answer: (_r, [plan]) => ({ queries: textOf(plan).replace(/^queries:\s*/, '').split(' | ') }),
    },
  },
});

export const browser = defineStepAgent({
  name: 'browser',
  contract: { capabilities: ['city.search'] },
  handlers: {
    step: {
      calls: [(r) => ({ kind: 'tool', name: 'city.search', args: { queries: r.input.queries } })],
      answer: (_r, [found]) => found,
    },
  },
});

export const summariser = defineStepAgent({
  name: 'summariser',
  contract: { modelPolicy: { allow: ['local/permit-*'], max_context_tokens: 4000 } },
  handlers: {
    step: {
      calls: [
        (r) => {
          const pages = r.input.pages as Page[];
          const numbered = pages.map((p, i) => `[${i + 1}] ${p.title}: ${p.text}`).join('\n');
          return modelCall('permit-writer', `Summarise for the applicant, citing sources.\nAddress: ${String(r.input.address ?? '')}\n${numbered}`);
        },
      ],
      answer: (r, [summary]) => ({
        summary: textOf(summary),
        citations: (r.input.pages as Page[]).map((p) => ({ url: p.url, quote: firstSentence(p.text) })),
      }),
    },
  },
});

export const mailer = defineStepAgent({
  name: 'mailer',
  // email.send needs a person's consent: the workflow's approval gate gives it.
  contract: { capabilities: ['email.send', 'email.retract'], security: { consent_for: ['email.send'] } },
  handlers: {
    send: {
      calls: [
        (r) => {
          const citations = (r.input.citations as { url: string; quote: string }[]).map((c, i) => `[${i + 1}] ${c.url} — "${c.quote}"`).join('\n');
          return { kind: 'tool', name: 'email.send', args: { to: r.input.email, subject: 'Your permit questions', body: `${String(r.input.summary)}\n\nSources:\n${citations}` } };
        },
      ],
      answer: (_r, [sent]) => ({ messageId: (sent as { id: string }).id }),
    },
    retract: {
      calls: [(r) => ({ kind: 'tool', name: 'email.retract', args: { id: (r.output as { messageId: string }).messageId } })],
      answer: () => ({ retracted: true }),
    },
  },
});

export const permitAgents = [planner, browser, summariser, mailer];
