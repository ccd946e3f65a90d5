// The monitor page's files, served on the protocol's port (GET / and its assets). They are the
// bundle of @dpns/web (packages/web/dist), found by module resolution and read from disk once;
// inside the single binary `pnpm package` builds, the same files embedded in it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { embeddedFile, isSingleExecutable } from '@dpns/node-kit';

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

/** A file of the bundle that may be served (and so is embedded in the binary): a plain name of a known type. */
export function isServedFile(name: string): boolean {
  return FILE_NAME.test(name) && TYPES[extname(name)] !== undefined;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** A bundle's files by name, or undefined while there is none (not built, not found). */
export type BundleFiles = () => ReadonlyMap<string, Buffer> | undefined;

/** Where the binary keeps the bundle: the list of file names, and each file under its name. */
export const EMBEDDED_WEB = {
  list: 'web/files.json',
  file: (name: string): string => `web/${name}`,
} as const;

/** Serves one bundle; `serveWebAsset` is the one for @dpns/web's. */
export class WebAssets {
  /** URL path → file, filled on the first request that finds the bundle, then kept. */
  private assets: Map<string, Asset> | undefined;

  constructor(private readonly files: BundleFiles) {}

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
    const files = this.files();
    if (files === undefined || !files.has('index.html')) return undefined; // asked again on the next request
    const assets = new Map<string, Asset>();
    for (const [name, body] of files) {
      const type = TYPES[extname(name)];
      if (type === undefined || !FILE_NAME.test(name)) continue;
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

/** The plain files of directory `dir()`; undefined while it cannot be read. */
export function filesInDir(dir: () => string | undefined): BundleFiles {
  return () => {
    const d = dir();
    if (d === undefined) return undefined;
    try {
      const files = new Map<string, Buffer>();
      for (const name of readdirSync(d)) {
        const file = join(d, name);
        if (isServedFile(name) && statSync(file).isFile()) files.set(name, readFileSync(file));
      }
      return files;
    } catch {
      return undefined; // not built yet
    }
  };
}

/** The files embedded in the binary under EMBEDDED_WEB. */
function embeddedFiles(): ReadonlyMap<string, Buffer> | undefined {
  const list = embeddedFile(EMBEDDED_WEB.list);
  if (list === undefined) return undefined;
  const files = new Map<string, Buffer>();
  for (const name of JSON.parse(list.toString('utf8')) as string[]) {
    const body = embeddedFile(EMBEDDED_WEB.file(name));
    if (body !== undefined) files.set(name, body);
  }
  return files;
}

/** The bundle directory of @dpns/web, by module resolution from this package. */
function webDistDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@dpns/web/package.json')), 'dist');
  } catch {
    return undefined;
  }
}

const webAssets = new WebAssets(isSingleExecutable() ? embeddedFiles : filesInDir(webDistDir));

/** Answers `req` when it asks for a page asset; false leaves it to the other HTTP routes. */
export function serveWebAsset(req: IncomingMessage, res: ServerResponse): boolean {
  return webAssets.serve(req, res);
}
