// Attack 5 in a real browser: a page of another origin (a tiny HTTP server on another port of
// 127.0.0.1, as any web site the operator visits could be) cannot open a WebSocket to the name
// server, so it can neither read the registry nor write to it; a page of an origin listed with
// --allowed-origins can; and the monitor page the server serves itself keeps working.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { freePort, startServerProcess, teardown, type ServerProcess } from './harness/index.js';
import { launchChromium } from './web/browser.js';

let browser: Browser;
let ns: ServerProcess;
let evil: Server;
let listed: Server;
let listedPort: number;

/** A page whose script opens a WebSocket to the name server and records what happened. */
function probePage(nsPort: number): string {
  return `<!doctype html><title>probe</title><script>
window.result = 'pending';
const ws = new WebSocket('ws://127.0.0.1:${nsPort}/');
ws.onmessage = (e) => { window.result = 'hello:' + JSON.parse(e.data).method; ws.close(); };
ws.onerror = () => { if (window.result === 'pending') window.result = 'error'; };
ws.onclose = (e) => { if (window.result === 'pending') window.result = 'closed:' + e.code; };
</script>`;
}

async function serveProbe(port: number, nsPort: number): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(probePage(nsPort));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function result(page: Page): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = String(await page.evaluate('window.result'));
    if (r !== 'pending') return r;
    if (Date.now() > deadline) assert.fail('the probe page neither connected nor failed within 10 s');
    await new Promise((res) => setTimeout(res, 20));
  }
}

before(async () => {
  listedPort = await freePort();
  ns = await startServerProcess({ args: ['--allowed-origins', `http://127.0.0.1:${listedPort}`] });
  evil = await serveProbe(0, ns.port);
  listed = await serveProbe(listedPort, ns.port);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => evil?.close(r));
  await new Promise((r) => listed?.close(r));
  await teardown();
});

test('a page of another origin cannot open a WebSocket to the name server (403, logged)', async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
  assert.equal(await result(page), 'error');
  await ns.stderr.waitFor(/websocket upgrade refused/);
  assert.match(ns.stderr.text(), new RegExp(`"origin":"http://127\\.0\\.0\\.1:${(evil.address() as AddressInfo).port}"`));
  await page.close();
});

test('a page of an origin listed with --allowed-origins connects and gets the hello', async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${listedPort}/`);
  assert.equal(await result(page), 'hello:hello');
  await page.close();
});

test('the monitor page served by the name server itself still connects', async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${ns.port}/`);
  await page.waitForSelector('[data-testid=link-state][data-state=open]', { timeout: 15_000 });
  await page.close();
});
