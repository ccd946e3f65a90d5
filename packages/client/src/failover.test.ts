// Following the primary of a cluster, against scripted servers: a backup's hello names the
// primary, NOT_PRIMARY moves the client, writes carry a request id that survives resends after a
// drop, NO_QUORUM is waited out, and the session (login, identify, advertisements, watches)
// comes along to the new primary.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, type ServerRole } from '@dpns/protocol';
import { DpnsClient } from './client.js';
import { FakeServer, type FakeConn, type FakeHandler, type FakeRequest } from './fake-server.test.helper.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakes(n: number, handler: FakeHandler = answer): Promise<FakeServer[]> {
  const out: FakeServer[] = [];
  for (let i = 0; i < n; i++) {
    const f = await FakeServer.start(handler);
    cleanups.push(() => f.close());
    out.push(f);
  }
  return out;
}

/** Makes the fakes one cluster, in SID order, with these roles; `primary` is what each names. */
function cluster(all: FakeServer[], roles: ServerRole[], primary: number | undefined, opts: { epoch?: number; readFromBackups?: boolean; notifies?: boolean } = {}): void {
  all.forEach((f, sid) => {
    f.cluster = {
      sid, role: roles[sid] ?? 'backup', epoch: opts.epoch ?? 1, servers: all.map((x) => x.url), readFromBackups: opts.readFromBackups ?? false,
      ...(opts.notifies === true ? { notifies: true } : {}),
      ...(primary === undefined ? {} : { primary: (all[primary] as FakeServer).url }),
    };
  });
}

function client(servers: FakeServer[], opts: ConstructorParameters<typeof DpnsClient>[0] = {}): DpnsClient {
  const c = new DpnsClient({ servers: servers.map((f) => f.server), reconnect: { minDelayMs: 5, maxDelayMs: 20 }, ...opts });
  cleanups.push(() => c.close());
  return c;
}

/** A server that answers everything the client sends in these tests. */
function answer(req: FakeRequest, conn: FakeConn): void {
  switch (req.method) {
    case 'login': conn.reply(req.id, { admin: true }); break;
    case 'identify': conn.reply(req.id, { owner: req.params.publicKey }); break;
    case 'ping': conn.reply(req.id, { revision: conn.n, time: 0 }); break;
    case 'listServices': conn.reply(req.id, { names: ['/a'] }); break;
    case 'watch': conn.reply(req.id, { watchId: `w${conn.n}`, revision: 1, entries: [] }); break;
    case 'advertiseService':
    case 'register.add':
    case 'unadvertiseService': conn.reply(req.id, { revision: 1 }); break;
    default:
  }
}

function notPrimary(conn: FakeConn, req: FakeRequest, primary?: string): void {
  conn.ws.send(JSON.stringify({
    jsonrpc: '2.0', id: req.id,
    error: { code: -32040, message: 'this server is a backup', data: { code: 'NOT_PRIMARY', role: 'backup', ...(primary === undefined ? {} : { primary }) } },
  }));
}

const spec = { host: 'h', program: '/bin/true' };

test('a backup that names the primary is left for it, and learned members are dialed', async () => {
  const [a, b, c] = await fakes(3);
  cluster([a, b, c] as FakeServer[], ['backup', 'backup', 'primary'], 2);
  // Only a and b are configured: c, the primary, is known from their hellos.
  const cl = client([a, b] as FakeServer[]);
  assert.deepEqual(await cl.listServices(), ['/a']);
  assert.equal(cl.server, c?.server);
  assert.equal(c?.connections, 1);
  assert.deepEqual(a?.requests, []);
  assert.deepEqual(b?.requests, []);
});

test('the members are dialed at once: one that never greets does not hold up the primary', async () => {
  const [frozen, backup, primary] = await fakes(3);
  cluster([frozen, backup, primary] as FakeServer[], ['backup', 'backup', 'primary'], 2);
  frozen!.greets = false;
  // One after another, the round would wait out the frozen member's whole connect timeout first.
  const cl = client([frozen, backup, primary] as FakeServer[], { connectTimeoutMs: 600_000, requestTimeoutMs: 600_000 });
  assert.deepEqual(await cl.listServices(), ['/a']);
  assert.equal(cl.server, primary?.server);
  assert.equal(frozen?.connections, 1);
});

test('after the primary dies, the first round reaches its successor: every member dialed once, no wait', async () => {
  const [a, b, c] = await fakes(3);
  cluster([a, b, c] as FakeServer[], ['primary', 'backup', 'backup'], 0);
  const cl = client([a, b, c] as FakeServer[], { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
  await cl.connect();
  const before = [a, b, c].map((f) => f!.connections);
  const opened = new Promise((resolve) => cl.once('open', resolve));
  // c is elected as a dies; b has not heard yet and still names a.
  cluster([a, b, c] as FakeServer[], ['primary', 'backup', 'primary'], 0, { epoch: 2 });
  (b as FakeServer).cluster = { ...b!.cluster!, primary: a!.url };
  (c as FakeServer).cluster = { ...c!.cluster!, primary: c!.url };
  await a!.close();
  await opened;
  assert.equal(cl.server, c?.server);
  // One round: b and c once each (a refuses), and no second round, whose back-off here is a minute.
  assert.deepEqual([b, c].map((f, i) => f!.connections - (before[i + 1] as number)), [1, 1]);
});

test('a member named as primary after it greeted the round as a candidate is dialed again in that round', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['candidate', 'backup'], undefined, { epoch: 3 });
  // a greets as a candidate, then wins; b greets only once the client has left a, naming a.
  a!.beforeHello = (n) => {
    if (n > 1) cluster([a, b] as FakeServer[], ['primary', 'backup'], 0, { epoch: 3 });
    return Promise.resolve();
  };
  b!.beforeHello = async () => {
    await a!.closed(1);
    (b as FakeServer).cluster = { ...b!.cluster!, primary: a!.url };
  };
  const cl = client([a, b] as FakeServer[], { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
  await cl.connect();
  assert.equal(cl.server, a?.server);
  // One round: a second would have dialed b again.
  assert.deepEqual([a!.connections, b!.connections], [2, 1]);
});

test('a member that greets as a candidate after another member named it primary is dialed again in that round', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['candidate', 'backup'], undefined, { epoch: 3 });
  (b as FakeServer).cluster = { ...b!.cluster!, primary: a!.url };
  // b's hello (naming a) reaches the client first; a's first greeting, as a candidate, only after.
  a!.beforeHello = async (n) => {
    if (n === 1) await b!.closed(1);
    else cluster([a, b] as FakeServer[], ['primary', 'backup'], 0, { epoch: 3 });
  };
  const cl = client([a, b] as FakeServer[], { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } });
  await cl.connect();
  assert.equal(cl.server, a?.server);
  assert.deepEqual([a!.connections, b!.connections], [2, 1]);
});

test('a primary named outside the cluster list is never dialed', async () => {
  const [a, b, stranger] = await fakes(3);
  cluster([a, b] as FakeServer[], ['backup', 'primary'], undefined);
  (a as FakeServer).cluster = { ...a!.cluster!, primary: stranger!.url };
  const cl = client([a, b] as FakeServer[]);
  assert.deepEqual(await cl.listServices(), ['/a']);
  assert.equal(cl.server, b?.server);
  assert.equal(stranger?.connections, 0);
});

test('NOT_PRIMARY moves the client to the primary it names; the write is sent again with the same requestId and login is redone', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['primary', 'backup'], 0);
  a!.handler = (req, conn) => {
    if (req.method === 'register.add') notPrimary(conn, req, b!.url);
    else answer(req, conn);
  };
  const cl = client([a, b] as FakeServer[], { token: 'secret' });
  const lost: string[] = [];
  cl.on('disconnect', (e) => lost.push(e.code));
  await cl.ping();
  // a is deposed: from now on its hello says backup and names b.
  cluster([a, b] as FakeServer[], ['backup', 'primary'], 1, { epoch: 2 });
  await cl.register.add('/x', spec);
  assert.equal(cl.server, b?.server);
  const onA = a!.requests.filter((r) => r.method === 'register.add');
  const onB = b!.requests.filter((r) => r.method === 'register.add');
  assert.equal(onA.length, 1);
  assert.equal(onB.length, 1);
  assert.match(String(onA[0]?.params.requestId), /^[0-9a-f]{32}$/);
  assert.equal(onB[0]?.params.requestId, onA[0]?.params.requestId);
  // The connection the client holds is b's last (the first round dialed b too, and left it).
  assert.deepEqual(b!.methodsOn(b!.connections), ['login', 'register.add']);
  assert.deepEqual(lost, ['CONNECTION_LOST']);
});

test('a write in flight when the primary dies is sent to the next primary with the same requestId', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['primary', 'backup'], 0);
  a!.handler = (req, conn) => {
    if (req.method === 'register.add') {
      // The primary crashes with the write in flight; b takes over.
      cluster([a, b] as FakeServer[], ['backup', 'primary'], 1, { epoch: 2 });
      void a!.close();
    } else answer(req, conn);
  };
  const cl = client([a, b] as FakeServer[]);
  await cl.connect();
  await cl.register.add('/x', spec);
  const ids = [...a!.requests, ...b!.requests].filter((r) => r.method === 'register.add').map((r) => r.params.requestId);
  assert.equal(ids.length, 2);
  assert.equal(typeof ids[0], 'string');
  assert.equal(ids[1], ids[0]);
  // A second write is another logical write: a new id.
  await cl.register.add('/y', spec);
  const third = b!.requests.filter((r) => r.method === 'register.add')[1];
  assert.notEqual(third?.params.requestId, ids[0]);
});

test('each write gets its own requestId; reads and servers from before backup mode get none', async () => {
  const [a] = await fakes(1);
  cluster([a] as FakeServer[], ['primary'], 0);
  const cl = client([a] as FakeServer[]);
  await cl.register.add('/x', spec);
  await cl.register.add('/y', spec);
  await cl.listServices();
  const [x, y, list] = a!.requests;
  assert.notEqual(x?.params.requestId, y?.params.requestId);
  assert.equal(list?.params.requestId, undefined);

  const [old] = await fakes(1);
  const cl2 = client([old] as FakeServer[]);
  await cl2.register.add('/x', spec);
  assert.equal(old!.requests[0]?.params.requestId, undefined);
});

test('NO_QUORUM is waited out and the write sent again with the same requestId', async () => {
  const [a] = await fakes(1);
  cluster([a] as FakeServer[], ['primary'], 0);
  let refusals = 0;
  a!.handler = (req, conn) => {
    if (req.method === 'register.add' && refusals++ < 2) conn.fail(req.id, -32041, 'NO_QUORUM', 'no majority');
    else answer(req, conn);
  };
  const cl = client([a] as FakeServer[]);
  await cl.register.add('/x', spec);
  const ids = a!.requests.filter((r) => r.method === 'register.add').map((r) => r.params.requestId);
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 1);
  assert.equal(a!.connections, 1);
});

test('NO_QUORUM until the request timeout fails with NO_QUORUM', async () => {
  const [a] = await fakes(1);
  cluster([a] as FakeServer[], ['primary'], 0);
  a!.handler = (req, conn) => conn.fail(req.id, -32041, 'NO_QUORUM', 'no majority');
  const cl = client([a] as FakeServer[], { requestTimeoutMs: 150 });
  await assert.rejects(cl.register.add('/x', spec), (e) => isDpnsError(e, 'NO_QUORUM'));
  assert.ok(a!.requests.length >= 2);
});

test('on a cluster, a read is sent again after each drop until it is answered', async () => {
  const [a] = await fakes(1);
  cluster([a] as FakeServer[], ['primary'], 0);
  a!.handler = (req, conn) => {
    if (req.method === 'serviceState' && conn.n < 3) conn.drop();
    else if (req.method === 'serviceState') conn.reply(req.id, { entries: [] });
  };
  const cl = client([a] as FakeServer[]);
  assert.deepEqual(await cl.serviceState(), []);
  assert.equal(a!.connections, 3);
});

test('advertisements and watches are re-established on the new primary after a failover', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['primary', 'backup'], 0);
  const cl = client([a, b] as FakeServer[]);
  await cl.advertise('/svc/a', '127.0.0.1', 9000);
  const w = cl.watch('/svc/*');
  await w.ready;
  const moved = new Promise((resolve) => w.once('subscribed', resolve));
  const readvertised = new Promise((resolve) => cl.once('open', resolve));
  cluster([a, b] as FakeServer[], ['backup', 'primary'], 1, { epoch: 2 });
  a!.dropAll();
  await Promise.all([moved, readvertised]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cl.server, b?.server);
  const onB = b!.methodsOn(b!.connections);
  assert.equal(onB[0], 'identify');
  assert.ok(onB.includes('advertiseService'), onB.join());
  assert.ok(onB.includes('watch'), onB.join());
  assert.equal(w.state, 'active');
});

test('a first connection waits for a cluster between primaries instead of failing at once', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['candidate', 'candidate'], undefined);
  const cl = client([a, b] as FakeServer[], { requestTimeoutMs: 2000 });
  setTimeout(() => cluster([a, b] as FakeServer[], ['backup', 'primary'], 1, { epoch: 2 }), 100);
  assert.deepEqual(await cl.listServices(), ['/a']);
  assert.equal(cl.server, b?.server);
});

test('with no primary at all, the first connection fails with CONNECTION_LOST saying what each server is', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['candidate', 'backup'], undefined);
  const cl = client([a, b] as FakeServer[], { requestTimeoutMs: 300 });
  await assert.rejects(cl.connect(), (e) => {
    assert.ok(isDpnsError(e, 'CONNECTION_LOST'));
    assert.match(e.message, /^no primary name server found \(tried .*: candidate, no primary known, .*: backup, no primary known/);
    return true;
  });
});

test('servers() is answered by any server when there is no primary', async () => {
  const [a] = await fakes(1);
  cluster([a] as FakeServer[], ['candidate'], undefined);
  const result = { self: 0, epoch: 4, replication: 'sync', servers: [{ sid: 0, url: a!.url, role: 'candidate', epoch: 4, lastIndex: 9, connected: true, self: true }] };
  a!.handler = (req, conn) => {
    if (req.method === 'servers') conn.reply(req.id, result);
  };
  const cl = client([a] as FakeServer[]);
  assert.deepEqual(await cl.servers(), result);
  assert.equal(cl.state, 'idle');
});

test('servers() of a client not yet connected asks the primary when there is one', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['backup', 'primary'], 1);
  for (const [f, self] of [[a, 0], [b, 1]] as const) {
    f!.handler = (req, conn) => {
      if (req.method === 'servers') conn.reply(req.id, { self, epoch: 1, primary: 1, replication: 'async', servers: [] });
    };
  }
  const cl = client([a, b] as FakeServer[]);
  assert.equal((await cl.servers()).self, 1);
  assert.deepEqual(a!.requests, []);
});

test('during an election the candidates that notify are held, and the one that says it won is taken without another dial', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['candidate', 'candidate'], undefined, { notifies: true });
  const cl = client([a, b] as FakeServer[]);
  const listed = cl.listServices();
  // Both have greeted as candidates (and are held) before b wins.
  while ((a as FakeServer).connections + (b as FakeServer).connections < 2) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 30));
  cluster([a, b] as FakeServer[], ['backup', 'primary'], 1, { epoch: 2, notifies: true });
  (b as FakeServer).notifyAll('cluster', (b as FakeServer).cluster);
  assert.deepEqual(await listed, ['/a']);
  assert.equal(cl.server, b?.server);
  assert.equal(b?.connections, 1, 'the held connection itself became the primary connection');
  await a?.closed(1);
  assert.equal(a?.connections, 1, 'no round was dialed after the first');
});

test('a held candidate that names the winner sends the round there', async () => {
  const [a, b, c] = await fakes(3);
  cluster([a, b, c] as FakeServer[], ['candidate', 'candidate', 'candidate'], undefined, { notifies: true });
  // c greets late, so the round has to wait: a's notification is what finds it.
  (c as FakeServer).greets = false;
  const cl = client([a, b, c] as FakeServer[]);
  const listed = cl.listServices();
  while ((a as FakeServer).connections + (b as FakeServer).connections < 2) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 30));
  (c as FakeServer).greets = true;
  cluster([a, b, c] as FakeServer[], ['backup', 'backup', 'primary'], 2, { epoch: 2, notifies: true });
  (a as FakeServer).notifyAll('cluster', (a as FakeServer).cluster);
  assert.deepEqual(await listed, ['/a']);
  assert.equal(cl.server, c?.server);
});

test('held candidates that say nothing end the round after a while, and the next round dials them again', async () => {
  const [a, b] = await fakes(2);
  cluster([a, b] as FakeServer[], ['candidate', 'candidate'], undefined, { notifies: true });
  const cl = client([a, b] as FakeServer[]);
  const listed = cl.listServices();
  await a?.closed(1);
  // The round ended on its hold time (a second round dials both again); then b wins quietly.
  cluster([a, b] as FakeServer[], ['backup', 'primary'], 1, { epoch: 2, notifies: true });
  assert.deepEqual(await listed, ['/a']);
  assert.equal(cl.server, b?.server);
  assert.ok((b?.connections ?? 0) >= 2);
});

test('a first connection lost while logging in is dialed again, not given up', async () => {
  let logins = 0;
  const [a] = await fakes(1, (req, conn) => {
    // The first login is never answered: the server dies under it.
    if (req.method === 'login' && ++logins === 1) return conn.drop();
    answer(req, conn);
  });
  cluster([a] as FakeServer[], ['primary'], 0);
  const cl = client([a] as FakeServer[], { token: 'a'.repeat(64) });
  await cl.register.add('/x', spec);
  assert.equal(a?.connections, 2);
  assert.equal(logins, 2);
});
