// The Origin rule at the WebSocket upgrade, against a real server on port 0: a page of another
// origin gets 403 and no hello; the server's own page, listed origins and non-browsers connect.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ConfigError } from '@dpns/node-kit';
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { normalizeOrigin, OriginPolicy } from './origin-policy.js';
import { startNameServer, type RunningNameServer } from './start.js';

let ns: RunningNameServer;
let dir: string;
const logs: Record<string, unknown>[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpns-origin-'));
  ns = await startNameServer({
    listen: '127.0.0.1:0', dataDir: dir, allowedOrigins: ['http://ops.example:8080', 'https://dash.example'],
    logger: createLogger({ level: 'warn', format: 'json', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
  });
});
after(async () => {
  await ns.close();
  await rm(dir, { recursive: true, force: true });
});

type Outcome = { hello: true } | { status: number; body: string };

/** Opens a WebSocket as a browser page of `origin` would (no Origin: as a program would). */
function open(origin: string | undefined, headers: Record<string, string> = {}): Promise<Outcome> {
  const ws = new WebSocket(ns.url, { ...(origin === undefined ? {} : { origin }), headers });
  return new Promise((resolve, reject) => {
    ws.on('error', () => undefined);
    ws.once('message', (data) => {
      assert.equal((JSON.parse(String(data)) as { method: string }).method, 'hello');
      ws.close();
      resolve({ hello: true });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('close', () => reject(new Error('closed without a hello or a refusal')));
  });
}

test('a page of another origin is refused with 403 and a body that says why, and it is logged', async () => {
  const r = await open('http://evil.example');
  assert.ok('status' in r, JSON.stringify(r));
  assert.equal(r.status, 403);
  assert.match(r.body, /origin "http:\/\/evil\.example" may not open a WebSocket to this name server/);
  assert.match(r.body, /--allowed-origins/);
  assert.ok(logs.some((l) => l.msg === 'websocket upgrade refused' && l.origin === 'http://evil.example'));
  // Look-alikes: another port, another scheme's port, a sandboxed frame ("null").
  for (const origin of [`http://127.0.0.1:${ns.port + 1}`, 'http://127.0.0.1', 'null', 'http://ops.example:8081', 'http://dash.example', `http://127.0.0.1:${ns.port}.evil.example`]) {
    const x = await open(origin);
    assert.ok('status' in x && x.status === 403, `${origin}: ${JSON.stringify(x)}`);
  }
});

test('the server\'s own origin (its monitor page), listed origins and clients without Origin connect', async () => {
  assert.deepEqual(await open(`http://127.0.0.1:${ns.port}`), { hello: true });
  // Behind a TLS proxy that keeps Host, the page's origin is https on the same host.
  assert.deepEqual(await open(`https://127.0.0.1:${ns.port}`), { hello: true });
  assert.deepEqual(await open('http://ops.example:8080'), { hello: true });
  assert.deepEqual(await open('https://dash.example'), { hello: true });
  assert.deepEqual(await open(undefined), { hello: true });
  // The Host the browser sent decides what "own" is: a page of http://localhost:PORT on localhost:PORT.
  assert.deepEqual(await open(`http://localhost:${ns.port}`, { host: `localhost:${ns.port}` }), { hello: true });
});

test('allowedOrigins: flag, env DPNS_ALLOWED_ORIGINS (comma list) and config; origins normalised, anything else refused', () => {
  assert.deepEqual(loadConfig({ allowedOrigins: ['HTTP://Ops.Example:80', 'https://a.example:443/'] }, {}).allowedOrigins, ['http://ops.example', 'https://a.example']);
  assert.deepEqual(loadConfig({}, { DPNS_ALLOWED_ORIGINS: 'http://a.example:8080, http://b.example' }).allowedOrigins, ['http://a.example:8080', 'http://b.example']);
  assert.deepEqual(loadConfig({}, {}).allowedOrigins, []);
  for (const bad of ['null', '*', 'ops.example', 'http://ops.example/path', 'ftp://ops.example', 'http://u:p@ops.example', 'http://ops.example?x=1']) {
    assert.throws(() => normalizeOrigin(bad, 'allowedOrigins[0]'), (e: unknown) => e instanceof ConfigError && /allowedOrigins\[0\]: expected an origin/.test(e.message), bad);
  }
  const p = new OriginPolicy(['http://a.example']);
  assert.equal(p.refusal({ headers: {} }), undefined);
  assert.equal(p.refusal({ headers: { origin: 'http://a.example', host: 'x:1' } }), undefined);
  assert.match(p.refusal({ headers: { origin: 'http://b.example', host: 'x:1' } }) ?? '', /may not open/);
  assert.match(p.refusal({ headers: { origin: 'http://x:1' } }) ?? '', /may not open/, 'no Host, no own origin');
});
