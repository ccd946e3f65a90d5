// Watches: the initial snapshot, live changes, the async iterator, re-sync after a reconnect.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError } from '@dpns/protocol';
import { DpnsClient } from './client.js';
import { FakeServer } from './fake-server.test.helper.js';
import { startTestServer, type TestServer } from './nameserver.test.helper.js';
import type { Watch, WatchEvent } from './watch.js';

let ns: TestServer;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  ns = await startTestServer();
});
after(async () => {
  await ns.close();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function client(opts: ConstructorParameters<typeof DpnsClient>[0] = {}): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server], token: ns.adminToken, reconnect: { minDelayMs: 10, maxDelayMs: 100 }, ...opts });
  cleanups.push(() => c.close());
  return c;
}

/** Resolves with the next `n` events of a watch. */
function nextEvents(w: Watch, n: number): Promise<WatchEvent[]> {
  const got: WatchEvent[] = [];
  return new Promise((resolve) => {
    const off = w.on('event', (ev) => {
      got.push(ev);
      if (got.length === n) {
        off();
        resolve(got);
      }
    });
  });
}

test('initial entries, then live changes, through the async iterator', async () => {
  const c = client();
  await c.advertiseStatic('/w1/a', '127.0.0.1', 1);
  const w = c.watch('/w1/*', { initial: true });
  const it = w[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.value?.source, 'initial');
  assert.equal(first.value?.name, '/w1/a');
  await c.advertiseStatic('/w1/b', '127.0.0.1', 2);
  await c.advertiseStatic('/w0/outside', '127.0.0.1', 3);
  await c.unadvertiseService('/w1/a');
  const put = await it.next();
  const del = await it.next();
  assert.deepEqual([put.value?.type, put.value?.name, put.value?.source], ['put', '/w1/b', 'change']);
  assert.deepEqual([del.value?.type, del.value?.name], ['delete', '/w1/a']);
  assert.deepEqual(w.entries().map((e) => e.name), ['/w1/b']);
  await it.return?.();
  assert.equal(w.state, 'closed');
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

test('without initial, only changes; onEvent callback and close', async () => {
  const c = client();
  await c.advertiseStatic('/w2/old', '127.0.0.1', 1);
  const seen: WatchEvent[] = [];
  const w = c.watch('/w2/*', { onEvent: (ev) => seen.push(ev) });
  await w.ready;
  const two = nextEvents(w, 1);
  await c.advertiseStatic('/w2/new', '127.0.0.1', 2);
  await two;
  assert.deepEqual(seen.map((e) => e.name), ['/w2/new']);
  await w.close();
  await w.close();
});

test('a watch that cannot be established fails: error event, ready rejects, iterator throws', async () => {
  const c = new DpnsClient({ servers: ['127.0.0.1:1'] });
  cleanups.push(() => c.close());
  const w = c.watch('*');
  const errors: string[] = [];
  w.on('error', (e) => errors.push(e.code));
  await assert.rejects(w.ready, (e) => isDpnsError(e, 'CONNECTION_LOST'));
  await assert.rejects(w[Symbol.asyncIterator]().next(), (e) => isDpnsError(e, 'CONNECTION_LOST'));
  assert.deepEqual(errors, ['CONNECTION_LOST']);
  assert.equal(w.state, 'closed');
});

test('a watch sees changes again after the server restarts', async () => {
  const c = client();
  const w = c.watch('/w3/*');
  await w.ready;
  const resynced = new Promise((resolve) => w.once('resync', resolve));
  ns = await ns.restart();
  await resynced;
  const ev = nextEvents(w, 1);
  await c.advertiseStatic('/w3/after', '127.0.0.1', 4);
  assert.equal((await ev)[0]?.name, '/w3/after');
});

test('re-sync after a reconnect emits the differences as resync events', async () => {
  const entry = (name: string, port: number) => ({ kind: 'service', name, state: 'running', since: 1, host: 'h', port });
  const fake = await FakeServer.start((req, conn) => {
    if (req.method !== 'watch') return;
    if (conn.n === 1) {
      conn.reply(req.id, { watchId: 'w1', revision: 5, entries: [entry('/a', 1), entry('/b', 2), entry('/c', 3)] });
      // An event at or below the snapshot revision is already in the snapshot: ignored.
      conn.notify('watch.event', { watchIds: ['w1'], revision: 5, type: 'delete', name: '/a' });
      conn.notify('watch.event', { watchIds: ['w1'], revision: 6, type: 'put', name: '/d', entry: entry('/d', 4) });
    } else {
      conn.reply(req.id, { watchId: 'w9', revision: 9, entries: [entry('/b', 2), entry('/c', 33), entry('/e', 5)] });
    }
  });
  cleanups.push(() => fake.close());
  const c = new DpnsClient({ servers: [fake.server], reconnect: { minDelayMs: 5, maxDelayMs: 20 } });
  cleanups.push(() => c.close());
  const w = c.watch('*', { initial: true });
  const firstFour = nextEvents(w, 4);
  const initial = await firstFour;
  assert.deepEqual(initial.map((e) => `${e.source} ${e.type} ${e.name}`), ['initial put /a', 'initial put /b', 'initial put /c', 'change put /d']);
  const resync = nextEvents(w, 4);
  const resynced = new Promise<{ revision: number }>((resolve) => w.once('resync', resolve));
  fake.dropAll();
  const diff = await resync;
  assert.deepEqual(diff.map((e) => `${e.source} ${e.type} ${e.name}`), ['resync delete /a', 'resync put /c', 'resync delete /d', 'resync put /e']);
  assert.equal((await resynced).revision, 9);
  assert.deepEqual(w.entries().map((e) => e.name).sort(), ['/b', '/c', '/e']);
});
