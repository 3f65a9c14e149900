// A local fixture of a city's website (the fictional city of Riverton): a few
// pages about permits, zoning and fees, and a search endpoint, served over HTTP
// on 127.0.0.1 so the example's browser agent fetches real pages over a socket.
import { createServer, type Server } from 'node:http';

export interface Page {
  url: string;
  title: string;
  text: string;
}

const PAGES: Record<string, { title: string; text: string }> = {
  '/permits/deck': {
    title: 'Deck permits',
    text: 'A building permit is required for any deck more than 30 inches above grade or attached to the house. Apply online with a site plan showing the deck, the house and the property lines. Inspections are required at footing and at final.',
  },
  '/zoning/setbacks': {
    title: 'Residential setbacks',
    text: 'Decks and porches must stay at least 5 feet from side property lines and 10 feet from the rear line. Corner lots keep a 15 foot setback on the street side.',
  },
  '/fees/building': {
    title: 'Building permit fees',
    text: 'The residential deck permit fee is $150 plus $0.50 per square foot of deck area. Plan review is included; re-inspections cost $75 each.',
  },
  '/permits/fence': {
    title: 'Fence permits',
    text: 'Fences up to 6 feet tall need no permit. Taller fences need a building permit and an engineered footing detail.',
  },
};

/** Lower-case words, a plural `s` trimmed (so "decks" finds "deck"). */
function words(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).map((w) => (w.length > 3 && w.endsWith('s') ? w.slice(0, -1) : w));
}

export async function startSite(): Promise<{ base: string; server: Server; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/search') {
      // Rank pages by the query words they contain, a word in the title counting twice.
      const q = words(url.searchParams.get('q') ?? '');
      const ranked = Object.entries(PAGES)
        .map(([path, p]) => ({ path, score: q.filter((w) => words(p.text).includes(w)).length + 2 * q.filter((w) => words(p.title).includes(w)).length }))
        .filter((r) => r.score > 0)
        .sort((a, b) => b.score - a.score || a.path.localeCompare(b.path));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ranked.map((r) => r.path)));
      return;
    }
    const page = PAGES[url.pathname];
    if (!page) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><head><title>${page.title}</title></head><body><p>${page.text}</p></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { base: `http://127.0.0.1:${port}`, server, hits: () => hits };
}

/** Title and text of one of the fixture's HTML pages. */
export function readPage(url: string, html: string): Page {
  const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? url;
  const text = (/<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '').trim();
  return { url, title, text };
}
