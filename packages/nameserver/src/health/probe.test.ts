import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { HealthCheck } from '@dpns/protocol';
import { probe } from './probe.js';

const tcp: HealthCheck = { kind: 'tcp', intervalMs: 1000, timeoutMs: 500, threshold: 3 };
const http = (path: string, timeoutMs = 500): HealthCheck => ({ kind: 'http', path, intervalMs: 1000, timeoutMs, threshold: 3 });

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

test('tcp: a listening port passes; a closed one fails saying where and why', async (t) => {
  const server = createTcpServer((sock) => sock.destroy());
  t.after(() => server.close());
  const port = await listen(server);
  assert.deepEqual(await probe('127.0.0.1', port, tcp), { ok: true });
  const closed = await closedPort();
  assert.deepEqual(await probe('127.0.0.1', closed, tcp), { ok: false, reason: `tcp connect 127.0.0.1:${closed}: ECONNREFUSED` });
});

test('http: 2xx and 3xx pass, 4xx and 5xx fail with the status; the path is the one asked for', async (t) => {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    const status = Number((req.url ?? '').split('/')[2]);
    res.writeHead(status, status === 301 ? { location: 'http://127.0.0.1:1/elsewhere' } : {});
    res.end('body');
  });
  t.after(() => server.close());
  const port = await listen(server);
  for (const status of [200, 204, 301, 399]) assert.deepEqual(await probe('127.0.0.1', port, http(`/s/${status}`)), { ok: true }, String(status));
  for (const status of [400, 404, 500, 503]) {
    assert.deepEqual(await probe('127.0.0.1', port, http(`/s/${status}`)), { ok: false, reason: `http GET http://127.0.0.1:${port}/s/${status}: status ${status}` });
  }
  assert.deepEqual(paths, ['/s/200', '/s/204', '/s/301', '/s/399', '/s/400', '/s/404', '/s/500', '/s/503']);
});

test('http: a redirect is an answer, never followed', async (t) => {
  let elsewhere = 0;
  const target = createServer((_req, res) => {
    elsewhere++;
    res.end();
  });
  t.after(() => target.close());
  const targetPort = await listen(target);
  const server = createServer((_req, res) => {
    res.writeHead(302, { location: `http://127.0.0.1:${targetPort}/` });
    res.end();
  });
  t.after(() => server.close());
  const port = await listen(server);
  assert.deepEqual(await probe('127.0.0.1', port, http('/')), { ok: true });
  assert.equal(elsewhere, 0);
});

test('http: a server that accepts but never answers fails at the timeout', async (t) => {
  const held: Socket[] = [];
  const server = createTcpServer((sock) => held.push(sock));
  t.after(() => {
    for (const s of held) s.destroy();
    server.close();
  });
  const port = await listen(server);
  const started = performance.now();
  const r = await probe('127.0.0.1', port, http('/', 200));
  const took = performance.now() - started;
  assert.deepEqual(r, { ok: false, reason: `http GET http://127.0.0.1:${port}/: no answer within 200 ms` });
  assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
});

test('http: the body is not read, and an oversized head fails the probe', async (t) => {
  let bodyBytesSent = 0;
  const server = createServer((req, res) => {
    if (req.url === '/huge-head') {
      res.writeHead(200, { 'x-filler': 'a'.repeat(8000) });
      res.end();
      return;
    }
    // An endless body: the probe answers on the status and closes.
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = (): void => {
      while (res.writableLength < 1024 * 1024 && !res.destroyed) {
        bodyBytesSent += chunk.length;
        if (!res.write(chunk)) break;
      }
    };
    res.on('drain', pump);
    pump();
  });
  t.after(() => server.close());
  const port = await listen(server);
  assert.deepEqual(await probe('127.0.0.1', port, http('/endless')), { ok: true });
  assert.ok(bodyBytesSent < 8 * 1024 * 1024, `sent ${bodyBytesSent}`);
  const r = await probe('127.0.0.1', port, http('/huge-head'));
  assert.equal(r.ok, false);
  assert.match((r as { reason: string }).reason, /^http GET http:\/\/127\.0\.0\.1:\d+\/huge-head: HPE_HEADER_OVERFLOW$/);
  server.closeAllConnections();
});
