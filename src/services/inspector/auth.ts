// Who may see the inspector. On a loopback address and without a token, anyone
// on this machine may (as with `agentos ps`); any other interface needs a token,
// given as `?token=`, `Authorization: Bearer`, or the cookie the page gets when
// it is opened with `?token=`. Tokens are compared in constant time. Two browser
// attacks are refused whatever the token: a page of another site opening our
// WebSocket (its Origin is not ours), and a DNS-rebound name reaching the
// token-less loopback server (its Host is not a loopback name).

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { InspectorCodes, InspectorError } from './source.js';

export const TOKEN_COOKIE = 'agentos_inspector';
const MIN_TOKEN_LENGTH = 16;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The token a server needs: none on loopback (unless given), required elsewhere. Throws INSPECTOR_TOKEN_REQUIRED / INSPECTOR_INVALID_OPTIONS. */
export function checkBinding(host: string, token: string | undefined): Buffer | undefined {
  if (typeof host !== 'string' || host.length === 0) throw new InspectorError(InspectorCodes.invalidOptions, 'inspector host must be a host name or address', { field: 'host' });
  if (token === undefined) {
    if (isLoopback(host)) return undefined;
    throw new InspectorError(
      InspectorCodes.tokenRequired,
      `the inspector may listen on ${host} (not a loopback address) only with a token: pass token (at least ${MIN_TOKEN_LENGTH} characters), or listen on 127.0.0.1`,
      { field: 'token' },
    );
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new InspectorError(InspectorCodes.invalidOptions, `inspector token must be a string of at least ${MIN_TOKEN_LENGTH} characters without spaces`, { field: 'token' });
  }
  return Buffer.from(token);
}

/** Constant-time comparison of a candidate against the token. */
export function tokenMatches(candidate: string | undefined, token: Buffer): boolean {
  const given = Buffer.from(candidate ?? '');
  const same = timingSafeEqual(given.length === token.length ? given : token, token);
  return same && given.length === token.length;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Does the request carry the token (query, bearer header or cookie)? `viaQuery`: it came in the URL (set the cookie). */
export function authorized(req: IncomingMessage, url: URL, token: Buffer | undefined): { ok: boolean; viaQuery: boolean } {
  if (token === undefined) return { ok: true, viaQuery: false };
  const query = url.searchParams.get('token');
  if (query !== null && tokenMatches(query, token)) return { ok: true, viaQuery: true };
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ') && tokenMatches(header.slice(7).trim(), token)) return { ok: true, viaQuery: false };
  const c = cookie(req, TOKEN_COOKIE);
  if (c !== undefined && tokenMatches(decodeURIComponent(c), token)) return { ok: true, viaQuery: false };
  return { ok: false, viaQuery: false };
}

/** The host name of a Host header (`[::1]:4200` → `[::1]`, `localhost:4200` → `localhost`). */
function hostName(host: string | undefined): string {
  if (!host) return '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

/** Without a token only loopback names may address the server (a DNS-rebound name is refused). */
export function hostAllowed(req: IncomingMessage, token: Buffer | undefined): boolean {
  return token !== undefined || isLoopback(hostName(req.headers.host));
}

/** A browser's WebSocket must come from our own page (same host), or from an origin allowed by name. Non-browser clients send no Origin. */
export function originAllowed(req: IncomingMessage, allow: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allow.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** The Set-Cookie header that lets the page's own assets and WebSocket in after `?token=`. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
