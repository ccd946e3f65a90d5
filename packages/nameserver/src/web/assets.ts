// The monitor page's files, served on the protocol's port (GET / and its assets). They are the
// bundle of @dpns/web (packages/web/dist), found by module resolution and read from disk once.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';

/** The content types of the files a bundle may hold; anything else in dist is never served. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** A plain file name: no "/", no "..", nothing hidden. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
/** What may appear in the Host header we echo into the CSP; anything else is left out. */
const HOST_HEADER = /^[A-Za-z0-9.:[\]-]{1,300}$/;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Serves one bundle directory; `serveWebAsset` is the one for @dpns/web's. */
export class WebAssets {
  /** URL path → file, filled on the first request that finds the bundle, then kept. */
  private assets: Map<string, Asset> | undefined;

  /** `dir()` gives the bundle directory, or undefined when @dpns/web cannot be found. */
  constructor(private readonly dir: () => string | undefined) {}

  /** Answers `req` when it asks for a page asset; false leaves it to the other HTTP routes. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const isPage = path === '/' || path === '/index.html';
    const assets = this.load();
    const asset = assets?.get(path);
    if (asset === undefined && !isPage) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${req.method ?? 'this method'} is not allowed here: the monitor page takes GET and HEAD\n`);
      return true;
    }
    if (asset === undefined) {
      // Only the page itself can be missing here: the bundle was not built.
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
      res.end('dpns name server: the monitor page is not built; run `pnpm build` (or `node packages/web/scripts/bundle.mjs`) and reload\n');
      return true;
    }
    const headers = {
      'content-type': asset.type,
      'cache-control': 'no-cache',
      etag: asset.etag,
      'content-security-policy': contentSecurityPolicy(req.headers.host),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  }

  private load(): Map<string, Asset> | undefined {
    if (this.assets !== undefined) return this.assets;
    const dir = this.dir();
    if (dir === undefined) return undefined;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return undefined; // not built yet: asked again on the next request
    }
    if (!names.includes('index.html')) return undefined;
    const assets = new Map<string, Asset>();
    for (const name of names) {
      const type = TYPES[extname(name)];
      const file = join(dir, name);
      if (type === undefined || !FILE_NAME.test(name) || !statSync(file).isFile()) continue;
      const body = readFileSync(file);
      assets.set(`/${name}`, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    }
    const index = assets.get('/index.html');
    if (index !== undefined) assets.set('/', index);
    this.assets = assets;
    return assets;
  }
}

/**
 * Scripts, styles and images only from this server, no inline code, and connections only back
 * to it: 'self' covers ws: for the same host in current browsers; the explicit ws:/wss: source
 * is for those that read CSP level 2, where it does not.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const ws = host !== undefined && HOST_HEADER.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self'${ws}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The bundle directory of @dpns/web, by module resolution from this package. */
function webDistDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@dpns/web/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

const webAssets = new WebAssets(webDistDir);

/** Answers `req` when it asks for a page asset; false leaves it to the other HTTP routes. */
export function serveWebAsset(req: IncomingMessage, res: ServerResponse): boolean {
  return webAssets.serve(req, res);
}
