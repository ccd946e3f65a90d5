// Load reporting against a real name server process: `find` of a pattern answers least loaded
// first (library and CLI), only the holder of an advertisement may report its load, watchers see
// the load change, and a flood of reports is refused with RATE_LIMITED.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsClient, isDpnsError, type WatchEvent } from '@dpns/client';
import { runCli, startServerProcess, teardown, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
const clients: DpnsClient[] = [];
before(async () => {
  ns = await startServerProcess({ args: ['--log-level', 'warn'] });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
after(async () => {
  await teardown();
});

/** A client of its own: its own connection and owner key. */
function client(opts: { admin?: boolean } = {}): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server], ...(opts.admin === true ? { token: ns.token } : {}) });
  clients.push(c);
  return c;
}

test('find of a pattern answers the running matches least loaded first; a literal name is unaffected', async () => {
  const a = await client().advertise('/ld/a', '127.0.0.1', 9501);
  const b = await client().advertise('/ld/b', '127.0.0.1', 9502);
  const c = await client().advertise('/ld/c', '127.0.0.1', 9503);
  await client().advertise('/ld/d', '127.0.0.1', 9504);
  await a.reportLoad(5);
  await b.reportLoad(0.5);
  await c.reportLoad(2);
  const reader = client();
  const order = async (): Promise<string[]> => (await reader.findServices('/ld/*')).map((l) => l.name);
  // Those that never reported come last.
  assert.deepEqual(await order(), ['/ld/b', '/ld/c', '/ld/a', '/ld/d']);
  await b.reportLoad(10);
  assert.deepEqual(await order(), ['/ld/c', '/ld/a', '/ld/b', '/ld/d']);
  assert.deepEqual((await reader.findServices('/ld/b')).map((l) => l.port), [9502]);

  const cli = await runCli(['--server', ns.server, 'find', '/ld/*']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(cli.stdout.trim().split('\n'), [
    '/ld/c 127.0.0.1 9503', '/ld/a 127.0.0.1 9501', '/ld/b 127.0.0.1 9502', '/ld/d 127.0.0.1 9504',
  ]);
  const state = await runCli(['--server', ns.server, 'state', '/ld/b']);
  assert.equal(state.code, 0, state.stderr);
  assert.match(state.stdout.split('\n')[0] ?? '', /\bLOAD\b/);
  assert.match(state.stdout.split('\n')[1] ?? '', /^\/ld\/b\s+service\s+running\s+127\.0\.0\.1\s+9502\s+10\s/);
});

test('only the holder of the advertisement (or an admin) may report its load', async () => {
  await client().advertise('/ld/owned', '127.0.0.1', 9511);
  const other = client();
  await assert.rejects(other.call('reportLoad', { name: '/ld/owned', load: 1 }), (e) => isDpnsError(e, 'FORBIDDEN'));
  await assert.rejects(other.call('reportLoad', { name: '/ld/none', load: 1 }), (e) => isDpnsError(e, 'NOT_FOUND'));
  await assert.rejects(other.call('reportLoad', { name: '/ld/owned', load: -1 }), (e) => isDpnsError(e, 'INVALID_PARAMS'));
  const [before] = await other.serviceState('/ld/owned');
  assert.equal(before?.kind === 'service' ? before.load : 'alias', undefined);
  await client({ admin: true }).call('reportLoad', { name: '/ld/owned', load: 3 });
  const [after] = await other.serviceState('/ld/owned');
  assert.equal(after?.kind === 'service' ? after.load : undefined, 3);
});

test('a watcher sees the load change; an unchanged value writes nothing', async () => {
  const ad = await client().advertise('/ld/watched', '127.0.0.1', 9521);
  const events: WatchEvent[] = [];
  const w = client().watch('/ld/watched', { onEvent: (ev) => events.push(ev) });
  await w.ready;
  const seen = new Promise<WatchEvent>((resolve) => {
    const off = w.on('event', (ev) => {
      if (ev.entry?.kind === 'service' && ev.entry.load === 7) {
        off();
        resolve(ev);
      }
    });
  });
  await ad.reportLoad(7);
  const ev = await seen;
  assert.equal(ev.entry?.kind === 'service' ? typeof ev.entry.loadAt : undefined, 'number');
  const rev = (await ad.reportLoad(7), (await client().ping()).revision);
  await ad.reportLoad(7);
  assert.equal((await client().ping()).revision, rev);
});

test('more than 10 reports a second for one name are RATE_LIMITED', async () => {
  const ad = await client().advertise('/ld/flood', '127.0.0.1', 9531);
  const results = await Promise.allSettled(Array.from({ length: 15 }, (_, i) => ad.reportLoad(i)));
  const refused = results.filter((r) => r.status === 'rejected');
  assert.ok(refused.length >= 4, `expected refusals, got ${refused.length}`);
  for (const r of refused) assert.ok(isDpnsError(r.reason, 'RATE_LIMITED'));
});

test('reportLoadEvery reports a changed value, and stops when asked', async () => {
  const ad = await client().advertise('/ld/periodic', '127.0.0.1', 9541);
  const reader = client();
  let value = 1;
  const w = reader.watch('/ld/periodic');
  await w.ready;
  const loadIs = (n: number): Promise<void> => new Promise((resolve) => {
    const off = w.on('event', (ev) => {
      if (ev.entry?.kind === 'service' && ev.entry.load === n) {
        off();
        resolve();
      }
    });
  });
  const first = loadIs(1);
  const stop = ad.reportLoadEvery(100, () => value);
  await first;
  const second = loadIs(4);
  value = 4;
  await second;
  stop();
});
