// Scale to zero end to end, with real processes: the name server binary (answering DNS too), a
// real launch agent starting the allowlisted echo service, and the real CLI. A service added with
// the smallest idle stop the protocol allows (1 s) is launched by `dpns find`, kept running while
// it is found, stopped through its agent once nobody has found it for its idle stop (state
// stopped, reason idle, the process gone; its restart policy does not bring it back), and
// launched again by the next `find`, then by a DNS query; a load above zero keeps it running.
// /metrics counts the idle stops and the launches lookups made. States are polled with deadlines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, type ServiceView } from '@dpns/client';
import { dig, startServiceRig, teardown, type ServiceRig } from './harness/index.js';

const IDLE_MS = 1000;
/** What a loaded machine may add to the idle stop and the server's 1 s sweep before the stop is written. */
const SLACK_MS = 5000;
const NAME = '/idle/echo';
const ECHO = ['--host', '127.0.0.1', '--program', 'echo', '--arg=--host', '--arg', '127.0.0.1'];

let rig: ServiceRig;
let dnsPort: number;

before(async () => {
  ({ rig, dnsPort } = await startServiceRig());
});

after(async () => {
  await rig.close();
  await teardown();
});

/** Polls until `cond` holds, at most `ms`; says what it last saw when it does not. */
async function until<T>(what: string, read: () => Promise<T>, cond: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const last = await read();
    if (cond(last)) return last;
    if (performance.now() > deadline) assert.fail(`${what} did not happen within ${ms} ms; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function counter(series: string): Promise<number> {
  const res = await fetch(`http://${rig.ns.server}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Waits for `series` to reach `n`: an idle stop is counted once the agent's kill reply is in, which may be after the entry says stopped. */
async function countsUp(series: string, n: number): Promise<void> {
  const seen = await until(`${series} reaching ${n}`, () => counter(series), (v) => v >= n, SLACK_MS);
  assert.equal(seen, n);
}

const FIND_LAUNCHES = 'dpns_on_demand_launches_total{via="find"}';
const DNS_LAUNCHES = 'dpns_on_demand_launches_total{via="dns"}';
const IDLE_STOPS = 'dpns_idle_stops_total';

/** Waits for the idle stop of a service launched as `pid`: stopped, reason idle, its process gone. */
async function idleStopped(pid: number): Promise<ServiceView> {
  const stopped = await until(`the idle stop of ${NAME}`, () => rig.entry(NAME), (e) => e.state === 'stopped', IDLE_MS + 1000 + SLACK_MS);
  assert.match(stopped.reason ?? '', /^idle for \d+s$/);
  assert.equal(stopped.pid, undefined);
  await until(`the end of pid ${pid}`, () => Promise.resolve(gone(pid)), (g) => g, SLACK_MS);
  return stopped;
}

test('an idle auto-start service is stopped, not restarted by its policy, and launched again by the next find and by DNS; found, it keeps running', async () => {
  await rig.ok(['add', NAME, ...ECHO, '--restart', 'on-failure', '--idle-stop', '1s']);
  assert.match((await rig.ok(['info', NAME])).stdout, /^idle stop: +after 1s unused \(1000 ms\)$/m);
  assert.equal((await rig.entry(NAME)).spec?.idleStopMs, IDLE_MS);

  // The first find launches it.
  const found = await rig.ok(['find', NAME]);
  assert.match(found.stdout, /^\/idle\/echo 127\.0\.0\.1 \d+\n$/);
  const first = await rig.entry(NAME);
  assert.equal(first.state, 'running');
  assert.ok(first.pid !== undefined);
  assert.equal(await counter(FIND_LAUNCHES), 1);

  // Found every 100 ms for four idle stops: the same process throughout.
  const c = rig.client();
  const keepUntil = performance.now() + 4 * IDLE_MS;
  while (performance.now() < keepUntil) {
    const [loc] = await c.findServices(NAME);
    assert.equal(loc?.service, NAME);
    const e = await rig.entry(NAME);
    assert.equal(e.state, 'running', JSON.stringify(e));
    assert.equal(e.pid, first.pid);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await counter(IDLE_STOPS), 0);

  // Nobody finds it: stopped through its agent, with reason idle.
  const stopped = await idleStopped(first.pid);
  await countsUp(IDLE_STOPS, 1);
  const state = await rig.ok(['state', NAME]);
  assert.match(state.stdout, /\/idle\/echo\s+service\s+stopped\s.*idle for \d+s\n$/);
  // Its restart policy (on-failure) left it stopped: no launch since.
  assert.equal((await rig.entry(NAME)).since, stopped.since);
  assert.equal(await counter(FIND_LAUNCHES), 1);

  // The next find launches it again, as a new process.
  assert.match((await rig.ok(['find', NAME])).stdout, /^\/idle\/echo 127\.0\.0\.1 \d+\n$/);
  const second = await rig.entry(NAME);
  assert.equal(second.state, 'running');
  assert.equal(second.reason, undefined);
  assert.ok(second.pid !== undefined && second.pid !== first.pid);
  assert.equal(await counter(FIND_LAUNCHES), 2);

  // Idle again, then a DNS query launches it (DNS.md): an answer counts as a launch via dns.
  await idleStopped(second.pid);
  await countsUp(IDLE_STOPS, 2);
  const srv = await dig(dnsPort, ['SRV', 'echo.idle.dpns.']);
  assert.equal(srv.status, 'NOERROR', srv.text);
  assert.equal(srv.answer.length, 1, srv.text);
  const third = await rig.entry(NAME);
  assert.equal(third.state, 'running');
  assert.ok(third.pid !== undefined && third.pid !== second.pid);
  assert.equal(await counter(DNS_LAUNCHES), 1);
  await idleStopped(third.pid);
  await countsUp(IDLE_STOPS, 3);
});

test('a load above zero keeps an unused service running; back at zero it is stopped', async () => {
  const name = '/idle/busy';
  await rig.ok(['add', name, ...ECHO, '--idle-stop', '1s']);
  await rig.ok(['launch', name]);
  const up = await rig.entry(name);
  assert.ok(up.pid !== undefined);
  // An admin may report a service's load (PROTOCOL.md reportLoad); its own process would too.
  const admin = rig.client(true);
  await admin.call('reportLoad', { name, load: 2 });
  // Unused for three idle stops and their sweeps: still the same process.
  const watchUntil = performance.now() + 3 * (IDLE_MS + 1000);
  while (performance.now() < watchUntil) {
    const e = await rig.entry(name);
    assert.equal(e.state, 'running', JSON.stringify(e));
    assert.equal(e.pid, up.pid);
    await new Promise((r) => setTimeout(r, 100));
  }
  await admin.call('reportLoad', { name, load: 0 });
  const stopped = await until(`the idle stop of ${name}`, () => rig.entry(name), (e) => e.state === 'stopped', IDLE_MS + 1000 + SLACK_MS);
  assert.match(stopped.reason ?? '', /^idle for \d+s$/);
});

test('idle stops are checked at the edge (1 s to 30 days), changed by edit, and removed by --unset-idle-stop', async () => {
  const name = '/idle/edit';
  const short = await rig.dpns(['add', name, ...ECHO, '--idle-stop', '500ms']);
  assert.equal(short.code, 2, short.stderr);
  assert.match(short.stderr, /--idle-stop must be from 1s to 30d, got "500ms"/);
  const long = await rig.dpns(['add', name, ...ECHO, '--idle-stop', '31d']);
  assert.equal(long.code, 2, long.stderr);
  const bad = await rig.dpns(['add', name, ...ECHO, '--idle-stop', 'soon']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--idle-stop: expected a duration like 90s, 30m, 1h or 2d, got "soon"/);
  // The server refuses the same, whoever calls it.
  await assert.rejects(rig.client(true).call('register.add', { name, spec: { host: '127.0.0.1', program: 'echo', idleStopMs: 10 } } as never), (e: unknown) => {
    assert.ok(isDpnsError(e, 'INVALID_PARAMS'), String(e));
    assert.match(e.message, /^params\.spec\.idleStopMs: expected an integer from 1000 to 2592000000, got number 10$/);
    return true;
  });

  await rig.ok(['add', name, ...ECHO]);
  assert.doesNotMatch((await rig.ok(['info', name])).stdout, /idle stop/);
  const edited = await rig.ok(['edit', name, '--idle-stop', '10m']);
  assert.match(edited.stdout, /^idle stop: +after 10m0s unused \(600000 ms\)$/m);
  // Shown to anyone, like the check: it says nothing about the program.
  assert.equal((await rig.entry(name)).spec?.idleStopMs, 600_000);
  await rig.ok(['edit', name, '--unset-idle-stop']);
  assert.equal((await rig.entry(name)).spec?.idleStopMs, undefined);
  const both = await rig.dpns(['edit', name, '--idle-stop', '1m', '--unset-idle-stop']);
  assert.equal(both.code, 2, both.stderr);
  await rig.ok(['delete', name]);
});
