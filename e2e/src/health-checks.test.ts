// Health checks end to end, with real processes: the name server binary probes static entries
// (advertised with `dpns advertise --check`) and a launched auto-start service (`dpns add
// --check`), through real TCP listeners and a real HTTP server on loopback. A port that closes
// makes its entry `unhealthy` within interval × threshold, finds and `lb.pick` leave it out, and it
// is `running` again once the port listens; a launched service with restart=on-failure whose
// check keeps failing is killed and launched again through its agent. States come from the
// server, polled with a deadline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { resolve } from 'node:path';
import { isDpnsError, type EntryView, type ServiceView } from '@dpns/client';
import { closeListener, closeListeners, dig, listenOn, REPO_ROOT, startServiceRig, tcpListener, teardown, type ServiceRig } from './harness/index.js';

// The smallest interval the protocol allows, so the test runs in seconds.
const INTERVAL_MS = 1000;
const TIMEOUT_MS = 500;
const THRESHOLD = 3;
const CHECK_ARGS = ['--check-interval', String(INTERVAL_MS), '--check-timeout', String(TIMEOUT_MS), '--check-threshold', String(THRESHOLD)];
/** What a loaded machine may add to interval × threshold before a verdict is written. */
const SLACK_MS = 4000;
const LB_MODULE = resolve(REPO_ROOT, 'modules/lb.mjs');

let rig: ServiceRig;
/** The server also answers DNS: an unhealthy entry is left out of its answers too. */
let dnsPort: number;
let agentPort: number;

before(async () => {
  ({ rig, dnsPort, agentPort } = await startServiceRig());
});

after(async () => {
  await rig.close();
  await closeListeners();
  await teardown();
});

/** Polls `name` until `cond` holds, at most `ms`; says what it last saw when it does not. */
async function until(name: string, what: string, cond: (e: ServiceView) => boolean, ms: number): Promise<ServiceView> {
  const deadline = performance.now() + ms;
  let last: ServiceView | undefined;
  for (;;) {
    last = await rig.entry(name);
    if (cond(last)) return last;
    if (performance.now() > deadline) assert.fail(`${name} did not become ${what} within ${ms} ms; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metrics(): Promise<string> {
  const res = await fetch(`http://${rig.ns.server}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

test('a static entry whose port closes is unhealthy within interval × threshold, out of finds, and running again once it listens', async () => {
  const { server, port } = await tcpListener();
  const other = await tcpListener();
  const add = await rig.ok(['advertise', '/pool/db', '127.0.0.1', String(port), '--check', 'tcp', ...CHECK_ARGS]);
  assert.match(add.stdout, /^advertised \/pool\/db at 127\.0\.0\.1:\d+ \(static; check: tcp every 1000 ms, timeout 500 ms, unhealthy after 3 failures in a row\)\n$/);
  await rig.ok(['advertise', '/pool/spare', '127.0.0.1', String(other.port), '--check', 'tcp', ...CHECK_ARGS]);
  const seen = await rig.entry('/pool/db');
  assert.equal(seen.state, 'running');
  assert.deepEqual(seen.check, { kind: 'tcp', intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, threshold: THRESHOLD });

  // A watcher sees the state changes like any other write.
  const events: EntryView[] = [];
  const w = rig.client().watch('/pool/db', { onEvent: (ev) => {
    if (ev.entry !== undefined) events.push(ev.entry);
  } });
  await w.ready;

  await closeListener(server);
  const closedAt = performance.now();
  const sick = await until('/pool/db', 'unhealthy', (e) => e.state === 'unhealthy', INTERVAL_MS * THRESHOLD + SLACK_MS);
  assert.ok(performance.now() - closedAt >= INTERVAL_MS * (THRESHOLD - 1) - 100, 'not before threshold probes could have failed');
  assert.equal(sick.reason, `tcp connect 127.0.0.1:${port}: ECONNREFUSED (3 in a row)`);
  assert.equal(sick.host, '127.0.0.1');

  // The exact name: NOT_RUNNING with the state and reason; a pattern leaves it out.
  const find = await rig.dpns(['find', '/pool/db']);
  assert.equal(find.code, 1);
  assert.match(find.stderr, /^dpns: NOT_RUNNING: \/pool\/db is unhealthy: tcp connect 127\.0\.0\.1:\d+: ECONNREFUSED \(3 in a row\)\n$/);
  await assert.rejects(rig.client().findServices('/pool/db'), (e: unknown) => isDpnsError(e, 'NOT_RUNNING') && e.details?.state === 'unhealthy');
  const pattern = await rig.ok(['find', '/pool/*']);
  assert.equal(pattern.stdout, `/pool/spare 127.0.0.1 ${other.port}\n`);
  // Nor does DNS answer with it: NODATA (PROTOCOL.md §7.6, DNS.md).
  const srv = await dig(dnsPort, ['SRV', 'db.pool.dpns.']);
  assert.equal(srv.status, 'NOERROR', srv.text);
  assert.deepEqual(srv.answer, [], srv.text);
  // Nor does the least-loaded pick of the lb module.
  await rig.ok(['modules', 'load', LB_MODULE]);
  for (let k = 0; k < 3; k++) {
    const pick = JSON.parse((await rig.ok(['call', 'lb.pick', '{"pattern":"/pool/*"}', '--json'])).stdout) as { service: string };
    assert.equal(pick.service, '/pool/spare');
  }

  // `dpns state`, as text and JSON, and /metrics.
  const text = await rig.ok(['state', '/pool/db']);
  assert.match(text.stdout, /\/pool\/db\s+service\s+unhealthy\s+127\.0\.0\.1\s+\d+\s+-\s+\S+\s+tcp connect 127\.0\.0\.1:\d+: ECONNREFUSED \(3 in a row\)\n$/);
  const json = JSON.parse((await rig.ok(['state', '/pool/db', '--json'])).stdout) as { entries: ServiceView[] };
  assert.equal(json.entries[0]?.state, 'unhealthy');
  assert.equal(json.entries[0]?.reason, sick.reason);
  const m = await metrics();
  assert.match(m, /^dpns_services_unhealthy 1$/m);
  assert.match(m, /^dpns_health_checked_entries 2$/m);
  const failed = /^dpns_health_checks_total\{kind="tcp",outcome="failed"\} (\d+)$/m.exec(m);
  assert.ok(failed !== null && Number(failed[1]) >= THRESHOLD, m);

  // It listens again: running within an interval (plus slack), and found again.
  await tcpListener(port);
  const back = await until('/pool/db', 'running', (e) => e.state === 'running', INTERVAL_MS + SLACK_MS);
  assert.equal(back.reason, undefined);
  assert.equal((await rig.ok(['find', '/pool/db'])).stdout, `/pool/db 127.0.0.1 ${port}\n`);
  const srvBack = await dig(dnsPort, ['SRV', 'db.pool.dpns.']);
  assert.deepEqual(srvBack.answer.map((r) => r.split(' ').slice(3).join(' ')), [`SRV 0 0 ${port} db.pool.dpns.`], srvBack.text);
  assert.match(await metrics(), /^dpns_services_unhealthy 0$/m);
  await until('/pool/db', 'seen by the watcher', () => events.some((e) => e.kind === 'service' && e.state === 'running' && e.since === back.since), 5000);
  assert.deepEqual(events.map((e) => (e.kind === 'service' ? e.state : e.kind)), ['unhealthy', 'running']);
  await w.close();
});

test('an http check: 500 is unhealthy with the status, 200 is running again; the path asked is the one given', async () => {
  let status = 500;
  const paths = new Set<string>();
  const server = createHttpServer((req, res) => {
    paths.add(req.url ?? '');
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status === 200 ? 'ok' : 'broken');
  });
  await listenOn(server);
  const port = (server.address() as { port: number }).port;
  // Through the client library this time.
  await rig.client(true).advertiseStatic('/web/shop', '127.0.0.1', port, { check: { kind: 'http', path: '/healthz?deep=1', intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS, threshold: THRESHOLD } });
  const sick = await until('/web/shop', 'unhealthy', (e) => e.state === 'unhealthy', INTERVAL_MS * THRESHOLD + SLACK_MS);
  assert.equal(sick.reason, `http GET http://127.0.0.1:${port}/healthz?deep=1: status 500 (3 in a row)`);
  assert.deepEqual([...paths], ['/healthz?deep=1']);
  status = 200;
  await until('/web/shop', 'running', (e) => e.state === 'running', INTERVAL_MS + SLACK_MS);
  assert.equal((await rig.ok(['find', '/web/shop'])).stdout, `/web/shop 127.0.0.1 ${port}\n`);
});

test('checks are refused at the edge with INVALID_PARAMS: interval below the minimum, a timeout not below the interval, a path for tcp, a check on a session advertisement', async () => {
  const admin = rig.client(true);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ kind: 'tcp', intervalMs: 10 }, /^params\.check\.intervalMs: expected an integer from 1000 to 3600000, got number 10$/],
    [{ kind: 'tcp', intervalMs: 1000, timeoutMs: 1000 }, /^params\.check\.timeoutMs: expected less than the interval \(1000 ms\), got number 1000$/],
    [{ kind: 'tcp', path: '/x' }, /^params\.check\.path: expected no path for a tcp check, got "\/x"$/],
    [{ kind: 'http' }, /^params\.check\.path: expected a path for an http check/],
    [{ kind: 'http', path: '/a b' }, /^params\.check\.path: expected an absolute HTTP path/],
    [{ kind: 'udp' }, /^params\.check\.kind: expected "tcp" or "http", got "udp"$/],
  ];
  for (const [check, message] of cases) {
    await assert.rejects(admin.call('advertiseService', { name: '/bad/check', host: '127.0.0.1', port: 1, static: true, check } as never), (e: unknown) => {
      assert.ok(isDpnsError(e, 'INVALID_PARAMS'), String(e));
      assert.match(e.message, message);
      return true;
    }, JSON.stringify(check));
  }
  await assert.rejects(admin.call('advertiseService', { name: '/bad/check', host: '127.0.0.1', port: 1, static: false, check: { kind: 'tcp' } } as never),
    (e: unknown) => isDpnsError(e, 'INVALID_PARAMS') && /only with static: true/.test(e.message));
  // The CLI checks the same rules before sending anything: exit 2.
  const r = await rig.dpns(['advertise', '/bad/check', '127.0.0.1', '1', '--check', 'tcp', '--check-interval', '1000', '--check-timeout', '1000']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /params\.check\.timeoutMs: expected less than the interval \(1000 ms\)/);
  const r2 = await rig.dpns(['advertise', '/bad/check', '127.0.0.1', '1', '--check', 'udp']);
  assert.equal(r2.code, 2, r2.stderr);
  assert.match(r2.stderr, /--check must be tcp or http:PATH/);
  assert.equal((await rig.client().serviceState('/bad/*')).length, 0);
});

test('a launched service with restart=on-failure whose check keeps failing is killed and launched again; without the policy it stays unhealthy', async () => {
  // The echo service answers an HTTP request with its own bytes: never a valid HTTP answer.
  const fast = ['--check', 'http:/health', '--check-interval', '1000', '--check-timeout', '500', '--check-threshold', '2'];
  await rig.ok(['add', '/demo/restarts', '--host', '127.0.0.1', '--program', 'echo', '--arg=--host', '--arg', '127.0.0.1', '--restart', 'on-failure', ...fast]);
  await rig.ok(['add', '/demo/stays', '--host', '127.0.0.1', '--program', 'echo', '--arg=--host', '--arg', '127.0.0.1', ...fast]);
  const info = await rig.ok(['info', '/demo/restarts']);
  assert.match(info.stdout, /^check: +http:\/health every 1000 ms, timeout 500 ms, unhealthy after 2 failures in a row$/m);
  await rig.ok(['launch', '/demo/restarts']);
  await rig.ok(['launch', '/demo/stays']);
  const first = await rig.entry('/demo/restarts');
  assert.ok(first.pid !== undefined);
  const staying = await until('/demo/stays', 'unhealthy', (e) => e.state === 'unhealthy', 2 * INTERVAL_MS + SLACK_MS);
  assert.match(staying.reason ?? '', /^http GET http:\/\/127\.0\.0\.1:\d+\/health: \S+ \(2 in a row\)$/);
  // An unhealthy auto-start service runs: a find does not start a second copy, it says why.
  const find = await rig.dpns(['find', '/demo/stays']);
  assert.equal(find.code, 1);
  assert.match(find.stderr, /^dpns: NOT_RUNNING: \/demo\/stays is unhealthy: /);
  assert.equal((await rig.entry('/demo/stays')).pid, staying.pid);

  // Unhealthy (2 × interval), then the restart's first back-off (1 s): a new process.
  const replaced = await until('/demo/restarts', 'replaced by a new process', (e) => e.pid !== undefined && e.pid !== first.pid, 2 * INTERVAL_MS + 1000 + 3 * SLACK_MS);
  assert.ok(replaced.state === 'starting' || replaced.state === 'running' || replaced.state === 'unhealthy', replaced.state);
  assert.throws(() => process.kill(first.pid as number, 0), 'the first process was killed');
  // Without the policy: the same process, still unhealthy.
  const still = await rig.entry('/demo/stays');
  assert.equal(still.state, 'unhealthy');
  assert.equal(still.pid, staying.pid);
  const m = await metrics();
  assert.match(m, /^dpns_health_checks_total\{kind="http",outcome="failed"\} \d+$/m);

  // A kill stops the restarts.
  await rig.ok(['kill', '/demo/restarts']);
  await rig.ok(['kill', '/demo/stays']);
  assert.equal((await rig.entry('/demo/restarts')).state, 'stopped');
});

test('the unhealthy state is in the log: it survives a restart of the name server, and the new primary probes again', async () => {
  const { server, port } = await tcpListener();
  await rig.ok(['advertise', '/keep/db', '127.0.0.1', String(port), '--check', 'tcp', ...CHECK_ARGS]);
  await closeListener(server);
  const sick = await until('/keep/db', 'unhealthy', (e) => e.state === 'unhealthy', INTERVAL_MS * THRESHOLD + SLACK_MS);
  await rig.closeClients();
  rig.ns = await rig.ns.restart({ args: ['--agent-port', String(agentPort), '--log-level', 'warn'] });
  const after = await rig.entry('/keep/db');
  assert.equal(after.state, 'unhealthy');
  assert.equal(after.since, sick.since);
  assert.equal(after.reason, sick.reason);
  await tcpListener(port);
  await until('/keep/db', 'running after the restart', (e) => e.state === 'running', INTERVAL_MS + SLACK_MS);
});

