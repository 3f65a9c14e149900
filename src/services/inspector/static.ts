// The page's files: `index.html` and its scripts, styles and images from the
// inspector's `ui/` folder, and the ELK layout library from the installed
// `elkjs` package (no CDN). A path is decoded, normalised and must resolve —
// symlinks followed — inside the folder; dot files, NULs and backslashes are
// refused, so nothing outside `ui/` can be read through the server.

import { readFile, realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, posix, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export const ELK_PATH = '/vendor/elk.js';

export type StaticResult = { status: 200; body: Buffer; type: string } | { status: 400 | 403 | 404; message: string };

/** The default UI folder: `ui/` beside this module. */
export const DEFAULT_UI_ROOT = new URL('./ui/', import.meta.url);

let elkFile: string | undefined;
function elkPath(): string {
  return (elkFile ??= createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js'));
}

/** The file for a URL path, read from `root`, or why not. */
export async function staticFile(root: URL | string, pathname: string): Promise<StaticResult> {
  if (pathname === ELK_PATH) return read(elkPath());
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, message: 'malformed path' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400, message: 'malformed path' };
  const normal = posix.normalize(decoded === '/' ? '/index.html' : decoded);
  const parts = normal.split('/').filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === '..' || p.startsWith('.'))) return { status: 403, message: 'forbidden path' };
  const rootDir = typeof root === 'string' ? resolve(root) : fileURLToPath(root);
  const base = rootDir.endsWith(sep) ? rootDir.slice(0, -1) : rootDir;
  const file = resolve(base, ...parts);
  if (!file.startsWith(base + sep)) return { status: 403, message: 'forbidden path' };
  try {
    // Symlinks are followed only if they stay inside the folder.
    const [real, realBase] = await Promise.all([realpath(file), realpath(base)]);
    if (!real.startsWith(realBase + sep)) return { status: 403, message: 'forbidden path' };
    if (!(await stat(real)).isFile()) return { status: 404, message: 'not found' };
    return read(real);
  } catch {
    return { status: 404, message: 'not found' };
  }
}

async function read(file: string): Promise<StaticResult> {
  try {
    const body = await readFile(file);
    return { status: 200, body, type: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' };
  } catch {
    return { status: 404, message: 'not found' };
  }
}
