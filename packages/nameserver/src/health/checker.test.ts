import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { HealthCheck, ServiceView } from '@dpns/protocol';
import { createLogger } from '../log.js';
import { ServerMetrics } from '../metrics.js';
import type { Op } from '../registry/ops.js';
import { Registry } from '../registry/registry.js';
import { HealthChecker } from './checker.js';

const log = createLogger({ level: 'silent', format: 'json' });
// Far below the protocol's smallest interval: the checker runs what the registry holds, so the tests run fast.
const fast = (kind: 'tcp' | 'http', over: Partial<HealthCheck> = {}): HealthCheck => ({
  kind, ...(kind === 'http' ? { path: '/health' } : {}), intervalMs: 40, timeoutMs: 30, threshold: 3, ...over,
});

function setup(maxConcurrent?: number) {
  const reg = new Registry();
  let rev = 0;
  const writes: ServiceView[] = [];
  const unhealthy: string[] = [];
  const commit = (ops: Op[]): Promise<number> => {
    reg.apply(ops, ++rev);
    for (const op of ops) if (op.t === 'put' && op.e.kind === 'service') writes.push(op.e);
    return Promise.resolve(rev);
  };
  const metrics = new ServerMetrics();
  const checker = new HealthChecker({
    registry: reg, commit, log, now: Date.now, metrics, onUnhealthy: (n) => unhealthy.push(n), ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
  });
  const put = (name: string, port: number, check: HealthCheck, state: ServiceView['state'] = 'running'): void => {
    void commit([{ t: 'put', e: { kind: 'service', name, state, since: Date.now(), host: '127.0.0.1', port, advertiser: { kind: 'static' }, check } }]);
  };
  const state = (name: string): ServiceView => reg.get(name) as ServiceView;
  return { reg, checker, put, state, writes, unhealthy, metrics, commit };
}

async function listen(server: Server | TcpServer, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function checksRun(metrics: ServerMetrics, outcome: 'ok' | 'failed'): Promise<number> {
  const v = await metrics.healthChecks.get();
  return v.values.filter((x) => x.labels.outcome === outcome).reduce((a, x) => a + x.value, 0);
}

test('tcp: unhealthy after `threshold` failures in a row, with the reason; running again after one pass on the same port', async (t) => {
  const { checker, put, state, writes, unhealthy, metrics } = setup();
  t.after(() => checker.stop());
  const server = createTcpServer((s) => s.destroy());
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  put('/db', port, fast('tcp'));
  checker.start();
  await until('unhealthy', () => state('/db').state === 'unhealthy');
  assert.equal(await checksRun(metrics, 'failed'), 3);
  assert.equal(state('/db').reason, `tcp connect 127.0.0.1:${port}: ECONNREFUSED (3 in a row)`);
  await until('told', () => unhealthy.length === 1);
  assert.deepEqual(unhealthy, ['/db']);
  // Failing on: no more writes while it stays unhealthy.
  const before = writes.length;
  await until('more failed probes', () => false, 150).catch(() => undefined);
  assert.equal(writes.length, before);

  const again = createTcpServer((s) => s.destroy());
  await listen(again, port);
  t.after(() => again.close());
  await until('running', () => state('/db').state === 'running');
  assert.equal(state('/db').reason, undefined);
  assert.deepEqual(writes.map((w) => w.state), ['running', 'unhealthy', 'running']);
});

test('http: failures that are not in a row never make it unhealthy; three 500s in a row do', async (t) => {
  const { checker, put, state, writes } = setup();
  t.after(() => checker.stop());
  // 500, 500, 200, repeated: never three failures in a row ...
  let n = 0;
  let answers = [500, 500, 200];
  const server = createServer((req, res) => {
    assert.equal(req.url, '/health');
    res.writeHead(answers[n++ % answers.length] as number);
    res.end();
  });
  t.after(() => server.close());
  const port = await listen(server);
  put('/web', port, fast('http'));
  checker.start();
  await until('nine probes', () => n >= 9);
  assert.equal(state('/web').state, 'running');
  assert.deepEqual(writes.map((w) => w.state), ['running']);
  // ... then only 500s.
  answers = [500];
  await until('unhealthy', () => state('/web').state === 'unhealthy');
  assert.match(state('/web').reason ?? '', new RegExp(`^http GET http://127\\.0\\.0\\.1:${port}/health: status 500 \\(3 in a row\\)$`));
});

test('one probe in flight per entry, and at most maxConcurrent over all entries', async (t) => {
  const { checker, put } = setup(2);
  t.after(() => checker.stop());
  const held = new Set<Socket>();
  const hold = (sock: Socket): void => {
    held.add(sock);
    sock.on('close', () => held.delete(sock));
  };
  t.after(() => {
    for (const s of held) s.destroy();
  });
  // Accepts and never answers: every probe lasts its whole timeout.
  let accepted = 0;
  const server = createTcpServer((sock) => {
    accepted++;
    hold(sock);
  });
  t.after(() => server.close());
  const port = await listen(server);
  // Five entries due at once, two slots: two probes start, the others wait for a slot.
  for (let i = 0; i < 5; i++) put(`/slow/${i}`, port, fast('http', { intervalMs: 1000, timeoutMs: 400, threshold: 100 }));
  checker.start();
  await until('two probes', () => accepted >= 2);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(accepted, 2);
  await until('the next two, once the first time out', () => accepted >= 4);

  // One entry whose probes last their whole timeout: each starts only after the last ended.
  const starts: number[] = [];
  const lone = createTcpServer((sock) => {
    starts.push(performance.now());
    hold(sock);
  });
  t.after(() => lone.close());
  const portB = await listen(lone);
  const b = setup();
  t.after(() => b.checker.stop());
  b.put('/lone', portB, fast('http', { intervalMs: 40, timeoutMs: 35, threshold: 100 }));
  b.checker.start();
  await until('six probes', () => starts.length >= 6);
  for (let k = 1; k < starts.length; k++) assert.ok((starts[k] as number) - (starts[k - 1] as number) >= 30, starts.join(','));
});

test('a new address starts the count over; an entry no longer advertised, or a stopped checker, is not probed', async (t) => {
  const { checker, put, state, commit } = setup();
  t.after(() => checker.stop());
  let probesA = 0;
  const a = createTcpServer((s) => {
    probesA++;
    s.destroy();
  });
  t.after(() => a.close());
  const portA = await listen(a);
  let probesB = 0;
  const b = createTcpServer((s) => {
    probesB++;
    s.destroy();
  });
  t.after(() => b.close());
  const portB = await listen(b);
  put('/svc', portA, fast('tcp'));
  checker.start();
  await until('probes of A', () => probesA >= 2);
  put('/svc', portB, fast('tcp'));
  await until('probes of B', () => probesB >= 2);
  const aNow = probesA;
  await commit([{ t: 'del', n: '/svc' }]);
  const bNow = probesB;
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(probesA <= aNow + 1 && probesB <= bNow + 1, `${probesA} ${aNow} ${probesB} ${bNow}`);
  assert.equal(checker.size, 0);
  put('/svc2', portA, fast('tcp'));
  await until('probes of /svc2', () => probesA >= aNow + 2);
  checker.stop();
  const stoppedAt = probesA;
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(probesA <= stoppedAt + 1);
  assert.equal(state('/svc2').state, 'running');
});

test('an entry that is not advertised, or has no check, is not probed; a stopped one comes back when advertised', async (t) => {
  const { checker, put, reg } = setup();
  t.after(() => checker.stop());
  let probes = 0;
  const server = createTcpServer((s) => {
    probes++;
    s.destroy();
  });
  t.after(() => server.close());
  const port = await listen(server);
  put('/stopped', port, fast('tcp'), 'stopped');
  void reg.apply([{ t: 'put', e: { kind: 'service', name: '/plain', state: 'running', since: 0, host: '127.0.0.1', port, advertiser: { kind: 'static' } } }], 100);
  checker.start();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(probes, 0);
  assert.equal(checker.size, 0);
  put('/stopped', port, fast('tcp'));
  await until('probed', () => probes >= 1);
});

test('an entry found unhealthy when probing starts (after a restart or a failover) is told to its restart policy again', async (t) => {
  const { checker, put, unhealthy, writes } = setup();
  t.after(() => checker.stop());
  const server = createTcpServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  put('/was-sick', port, fast('tcp'), 'unhealthy');
  checker.start();
  await until('told', () => unhealthy.length >= 1);
  assert.deepEqual([...new Set(unhealthy)], ['/was-sick']);
  assert.deepEqual(writes.map((w) => w.state), ['unhealthy'], 'nothing more is written');
});
