// The monitor page's file server, against a real HTTP server on port 0 and a temporary bundle.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesInDir, serveWebAsset, WebAssets } from './assets.js';

const tmp = mkdtempSync(join(tmpdir(), 'dpns-web-'));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A server that answers with `assets`, and 418 for what it leaves to other routes. */
async function serve(assets: WebAssets): Promise<string> {
  const srv = createServer((req, res) => {
    if (assets.serve(req, res)) return;
    res.writeHead(418);
    res.end();
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(host: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function bundle(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'app.js'), 'void 0;');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  writeFileSync(join(dir, 'secret.txt'), 'not an asset');
  mkdirSync(join(dir, 'types'));
  return dir;
}

test('serves the page and its assets with their types and a strict policy', async () => {
  const host = await serve(new WebAssets(filesInDir(() => bundle('a'))));
  for (const [path, type] of [['/', 'text/html'], ['/index.html', 'text/html'], ['/app.js', 'text/javascript'], ['/app.css', 'text/css'], ['/app.js?v=2', 'text/javascript']] as const) {
    const r = await get(host, path);
    assert.equal(r.status, 200, path);
    assert.match(String(r.headers['content-type']), new RegExp(`^${type}`), path);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://${host} wss://${host}(;|$)`));
  }
  const head = await get(host, '/app.js', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], '7');
  const etag = String((await get(host, '/app.css')).headers.etag);
  assert.equal((await get(host, '/app.css', 'GET', { 'if-none-match': etag })).status, 304);
  assert.equal((await get(host, '/', 'POST')).status, 405);
});

test('leaves every other path to the other routes: no traversal, no other files', async () => {
  const host = await serve(new WebAssets(filesInDir(() => bundle('b'))));
  for (const path of ['/secret.txt', '/types', '/../package.json', '/%2e%2e/package.json', '/app.js/', '//app.js', '/metrics', '/healthz', '/types/x.d.ts']) {
    assert.equal((await get(host, path)).status, 418, path);
  }
});

test('answers 503 saying to build while the bundle is missing, and serves it once built', async () => {
  const dir = join(tmp, 'c');
  const host = await serve(new WebAssets(filesInDir(() => dir)));
  const r = await get(host, '/');
  assert.equal(r.status, 503);
  assert.match(r.body, /not built; run `pnpm build`/);
  assert.equal((await get(host, '/app.js')).status, 418);
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  assert.equal((await get(host, '/')).status, 200);
});

test('finds the real bundle of @dpns/web by module resolution', async () => {
  const srv = createServer((req, res) => {
    if (serveWebAsset(req, res)) return;
    res.writeHead(418);
    res.end();
  });
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const r = await get(host, '/');
  // 503 when the build has not bundled the page; either way the route is the page's.
  assert.ok(r.status === 200 || r.status === 503, `status ${r.status}`);
  if (r.status === 200) assert.match(r.body, /<script src="app\.js"/);
});
