import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, newTicket, ticketProof, type LaunchSpec, type ServiceView } from '@dpns/protocol';
import { Registry } from './registry.js';
import { info, planAdd, planAdvertise, planAlias, planDelete, planEdit, planLost, planReportLoad, planUnadvertise, type Actor, type Bindings } from './rules.js';
import type { Op } from './ops.js';
import { find } from './queries.js';

const spec: LaunchSpec = { host: 'h1', program: '/usr/bin/echo-server', args: [], env: {}, startTimeoutMs: 10_000 };
const admin: Actor = { admin: true, connId: 1 };
const alice: Actor = { admin: false, connId: 2, owner: 'a'.repeat(64) };
const bob: Actor = { admin: false, connId: 3 };
const nobodyBound: Bindings = { liveConn: () => undefined };

let rev = 0;
function apply(reg: Registry, ops: Op[]): void {
  reg.apply(ops, ++rev);
}
function svc(reg: Registry, name: string): ServiceView {
  const e = reg.get(name);
  assert.equal(e?.kind, 'service');
  return e as ServiceView;
}

test('advertise creates a running entry; unadvertise of a plain service removes it', () => {
  const reg = new Registry();
  const bound = new Map<string, number>();
  const b: Bindings = { liveConn: (n) => bound.get(n) };
  apply(reg, planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: false }, alice, b, 5));
  bound.set('/a', alice.connId);
  assert.equal(svc(reg, '/a').state, 'running');
  assert.deepEqual(svc(reg, '/a').advertiser, { kind: 'session', owner: alice.owner });
  apply(reg, planUnadvertise(reg, '/a', alice, b, 6));
  assert.equal(reg.get('/a'), undefined);
});

test('only the advertiser, its owner key, or an admin may advertise over or unadvertise a running name', () => {
  const reg = new Registry();
  const b: Bindings = { liveConn: (n) => (n === '/a' ? alice.connId : undefined) };
  apply(reg, planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: false }, alice, b, 5));
  assert.throws(() => planAdvertise(reg, { name: '/a', host: 'evil', port: 2, static: false }, bob, b, 6), (e: unknown) => isDpnsError(e, 'FORBIDDEN'));
  assert.throws(() => planUnadvertise(reg, '/a', bob, b, 6), (e: unknown) => isDpnsError(e, 'FORBIDDEN'));
  // Same owner key from a new connection (a reconnect) may.
  const aliceAgain: Actor = { ...alice, connId: 9 };
  assert.equal(planAdvertise(reg, { name: '/a', host: 'h2', port: 1, static: false }, aliceAgain, b, 6).length, 1);
  assert.equal(planAdvertise(reg, { name: '/a', host: 'h3', port: 1, static: false }, admin, b, 6).length, 1);
  // The same advertisement again logs nothing.
  assert.equal(planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: false }, alice, b, 6).length, 0);
});

test('static advertisements need admin and cannot be taken over by a session', () => {
  const reg = new Registry();
  assert.throws(() => planAdvertise(reg, { name: '/db', host: 'h', port: 5432, static: true }, bob, nobodyBound, 1), (e: unknown) => isDpnsError(e, 'UNAUTHORIZED'));
  apply(reg, planAdvertise(reg, { name: '/db', host: 'h', port: 5432, static: true }, admin, nobodyBound, 1));
  assert.deepEqual(svc(reg, '/db').advertiser, { kind: 'static' });
  assert.throws(() => planAdvertise(reg, { name: '/db', host: 'x', port: 1, static: false }, alice, nobodyBound, 2), (e: unknown) => isDpnsError(e, 'FORBIDDEN'));
  assert.equal(planLost(reg, '/db', 'gone', 3).length, 0, 'a static entry is never lost with a connection');
});

test('lost: a session entry leaves running, keeps its address for diagnosis, and can be taken over', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: false }, bob, nobodyBound, 1));
  apply(reg, planLost(reg, '/a', 'its advertiser went away', 2));
  const e = svc(reg, '/a');
  assert.equal(e.state, 'lost');
  assert.equal(e.reason, 'its advertiser went away');
  assert.equal(e.host, 'h');
  apply(reg, planAdvertise(reg, { name: '/a', host: 'h2', port: 2, static: false }, alice, nobodyBound, 3));
  assert.equal(svc(reg, '/a').state, 'running');
});

test('auto-start: add registers, advertise runs, unadvertise stops, edit patches the spec', () => {
  const reg = new Registry();
  apply(reg, planAdd(reg, '/demo/echo', spec, 1));
  assert.equal(svc(reg, '/demo/echo').state, 'registered');
  assert.throws(() => planAdd(reg, '/demo/echo', spec, 1), (e: unknown) => isDpnsError(e, 'ALREADY_EXISTS'));
  // Without its launch ticket nobody but an admin may advertise an auto-start name.
  assert.throws(() => planAdvertise(reg, { name: '/demo/echo', host: 'h1', port: 7, static: false }, bob, nobodyBound, 2), (e: unknown) => isDpnsError(e, 'TICKET_REFUSED'));
  const t = { launchId: '00'.repeat(16), service: newTicket(), nameserver: newTicket() };
  apply(reg, [{ t: 'tickets', n: '/demo/echo', v: t }]);
  const svcActor: Actor = { admin: false, connId: 7, nonce: 'ab'.repeat(32) };
  const wrong = ticketProof(newTicket(), 'advertise', svcActor.nonce as string, '/demo/echo', 'h1', 7);
  assert.throws(() => planAdvertise(reg, { name: '/demo/echo', host: 'h1', port: 7, static: false, proof: wrong }, svcActor, nobodyBound, 2), (e: unknown) => isDpnsError(e, 'TICKET_REFUSED'));
  // A proof made for another connection's nonce (a replay) does not pass either.
  const replay = ticketProof(t.service, 'advertise', 'cd'.repeat(32), '/demo/echo', 'h1', 7);
  assert.throws(() => planAdvertise(reg, { name: '/demo/echo', host: 'h1', port: 7, static: false, proof: replay }, svcActor, nobodyBound, 2), (e: unknown) => isDpnsError(e, 'TICKET_REFUSED'));
  const proof = ticketProof(t.service, 'advertise', svcActor.nonce as string, '/demo/echo', 'h1', 7);
  apply(reg, planAdvertise(reg, { name: '/demo/echo', host: 'h1', port: 7, static: false, proof }, svcActor, nobodyBound, 2));
  const running = svc(reg, '/demo/echo');
  assert.equal(running.state, 'running');
  assert.deepEqual(running.spec, spec, 'the launch spec survives an advertisement');
  apply(reg, planUnadvertise(reg, '/demo/echo', admin, nobodyBound, 3));
  assert.equal(svc(reg, '/demo/echo').state, 'stopped');
  assert.equal(reg.ticketsOf('/demo/echo'), undefined, 'a stopped service holds no ticket');
  assert.equal(svc(reg, '/demo/echo').host, undefined);
  const { ops, entry } = planEdit(reg, { name: '/demo/echo', spec: { args: ['-v'] }, unset: [] }, 4);
  apply(reg, ops);
  assert.deepEqual(entry.spec?.args, ['-v']);
  assert.equal(svc(reg, '/demo/echo').spec?.program, spec.program);
  apply(reg, planEdit(reg, { name: '/demo/echo', spec: { cwd: '/srv' }, unset: [] }, 5).ops);
  apply(reg, planEdit(reg, { name: '/demo/echo', spec: {}, unset: ['cwd'] }, 6).ops);
  assert.equal(svc(reg, '/demo/echo').spec?.cwd, undefined);
});

test('edit of a plain service needs host and program to make it auto-start', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/p', host: 'h', port: 1, static: true }, admin, nobodyBound, 1));
  assert.throws(() => planEdit(reg, { name: '/p', spec: { args: [] }, unset: [] }, 2), (e: unknown) => isDpnsError(e, 'WRONG_KIND'));
  apply(reg, planEdit(reg, { name: '/p', spec: { host: 'h', program: '/bin/p' }, unset: [] }, 2).ops);
  assert.equal(svc(reg, '/p').spec?.program, '/bin/p');
  assert.equal(svc(reg, '/p').state, 'running');
});

test('aliases: chains resolve, self and cycles are refused, targets must exist, in-use targets cannot be deleted', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/svc', host: 'h', port: 1, static: true }, admin, nobodyBound, 1));
  apply(reg, planAlias(reg, '/a1', '/svc', 2));
  apply(reg, planAlias(reg, '/a2', '/a1', 3));
  assert.deepEqual(reg.resolve('/a2').chain, ['/a2', '/a1', '/svc']);
  assert.throws(() => planAlias(reg, '/x', '/x', 4), (e: unknown) => isDpnsError(e, 'ALIAS_CYCLE'));
  assert.throws(() => planAlias(reg, '/a1', '/a2', 4), (e: unknown) => isDpnsError(e, 'ALIAS_CYCLE'));
  assert.throws(() => planAlias(reg, '/a3', '/missing', 4), (e: unknown) => isDpnsError(e, 'NOT_FOUND'));
  assert.throws(() => planAlias(reg, '/svc', '/a1', 4), (e: unknown) => isDpnsError(e, 'ALREADY_EXISTS') || isDpnsError(e, 'ALIAS_CYCLE'));
  assert.throws(() => planDelete(reg, '/svc'), (e: unknown) => isDpnsError(e, 'IN_USE') && e.message.includes('/a1'));
  assert.deepEqual(info(reg, '/a2'), { entry: reg.get('/a2'), aliases: [], resolved: '/svc' });
  assert.deepEqual(info(reg, '/svc').aliases, ['/a1']);
  assert.throws(() => planAdvertise(reg, { name: '/a1', host: 'h', port: 1, static: false }, bob, nobodyBound, 5), (e: unknown) => isDpnsError(e, 'WRONG_KIND'));
  // Re-pointing an alias is allowed, and unlinks the old target.
  apply(reg, planAdvertise(reg, { name: '/svc2', host: 'h', port: 2, static: true }, admin, nobodyBound, 5));
  apply(reg, planAlias(reg, '/a1', '/svc2', 6));
  assert.deepEqual(info(reg, '/svc').aliases, []);
  apply(reg, planDelete(reg, '/svc'));
  assert.equal(reg.get('/svc'), undefined);
});

test('replaying the same ops into a fresh registry, or loading its snapshot, gives the same registry', () => {
  const a = new Registry();
  const log: [Op[], number][] = [];
  let r = 0;
  const run = (ops: Op[]) => { log.push([ops, ++r]); a.apply(ops, r); };
  run(planAdd(a, '/x/1', spec, 1));
  run(planAdvertise(a, { name: '/x/2', host: 'h', port: 2, static: true }, admin, nobodyBound, 2));
  run(planAlias(a, '/x/3', '/x/2', 3));
  run(planAdvertise(a, { name: '/x/4', host: 'h', port: 4, static: false }, bob, nobodyBound, 4));
  run(planLost(a, '/x/4', 'gone', 5));
  run(planDelete(a, '/x/1'));
  const b = new Registry();
  for (const [ops, rv] of log) b.apply(ops, rv);
  assert.deepEqual(b.snapshot(), a.snapshot());
  const c = new Registry();
  c.load(JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<Registry['snapshot']>);
  assert.deepEqual(c.snapshot().entries.sort((x, y) => x.name.localeCompare(y.name)), a.snapshot().entries.sort((x, y) => x.name.localeCompare(y.name)));
  assert.equal(c.revision, a.revision);
  assert.deepEqual(info(c, '/x/2').aliases, ['/x/3']);
});

test('unadvertising a plain service that aliases point at keeps it as stopped, so no alias dangles', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/t/plain', host: 'h', port: 1, static: true }, admin, nobodyBound, 1));
  apply(reg, planAlias(reg, '/t/al', '/t/plain', 2));
  apply(reg, planUnadvertise(reg, '/t/plain', admin, nobodyBound, 3));
  assert.equal(svc(reg, '/t/plain').state, 'stopped');
  assert.equal(svc(reg, '/t/plain').host, undefined);
  assert.equal(reg.resolve('/t/al').service.name, '/t/plain');
});

test('giving a lost plain service a spec makes a clean registered entry', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/l', host: 'h', port: 1, static: false }, bob, nobodyBound, 1));
  apply(reg, planLost(reg, '/l', 'gone', 2));
  apply(reg, planEdit(reg, { name: '/l', spec: { host: 'h', program: '/bin/l' }, unset: [] }, 3).ops);
  const e = svc(reg, '/l');
  assert.equal(e.state, 'registered');
  assert.equal(e.host, undefined);
  assert.equal(e.advertiser, undefined);
  assert.equal(e.reason, undefined);
  assert.throws(() => planUnadvertise(reg, '/l', bob, nobodyBound, 4), (err: unknown) => isDpnsError(err, 'NOT_RUNNING'));
});

test('alias chains longer than the resolver follows are refused when made', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/ch/s', host: 'h', port: 1, static: true }, admin, nobodyBound, 1));
  let prev = '/ch/s';
  for (let i = 1; i <= 32; i++) {
    apply(reg, planAlias(reg, `/ch/a${i}`, prev, i + 1));
    prev = `/ch/a${i}`;
  }
  assert.equal(reg.resolve(prev).service.name, '/ch/s');
  assert.throws(() => planAlias(reg, '/ch/a33', prev, 40), (e: unknown) => isDpnsError(e, 'LIMIT_EXCEEDED'));
});

test('reportLoad: only the holder or an admin sets the load of a running service; an unchanged load writes nothing', () => {
  const reg = new Registry();
  const b: Bindings = { liveConn: (n) => (n === '/l/a' ? alice.connId : undefined) };
  apply(reg, planAdvertise(reg, { name: '/l/a', host: 'h', port: 1, static: false }, alice, b, 5));
  apply(reg, planAdvertise(reg, { name: '/l/b', host: 'h', port: 2, static: false }, bob, b, 5));
  apply(reg, planAlias(reg, '/l/alias', '/l/a', 5));
  assert.throws(() => planReportLoad(reg, '/l/a', 1, bob, b, 6), (e: unknown) => isDpnsError(e, 'FORBIDDEN'));
  assert.throws(() => planReportLoad(reg, '/l/alias', 1, alice, b, 6), (e: unknown) => isDpnsError(e, 'WRONG_KIND'));
  assert.throws(() => planReportLoad(reg, '/l/none', 1, admin, b, 6), (e: unknown) => isDpnsError(e, 'NOT_FOUND'));
  apply(reg, planReportLoad(reg, '/l/a', 4, alice, b, 7));
  assert.equal(svc(reg, '/l/a').load, 4);
  assert.equal(svc(reg, '/l/a').loadAt, 7);
  assert.deepEqual(planReportLoad(reg, '/l/a', 4, alice, b, 8), []);
  apply(reg, planReportLoad(reg, '/l/b', 2, admin, b, 8));
  // Least loaded first; a literal name is answered as before.
  assert.deepEqual(find(reg, '/l/*').map((l) => l.name), ['/l/b', '/l/a', '/l/alias']);
  assert.deepEqual(find(reg, '/l/a').map((l) => l.port), [1]);
  apply(reg, planLost(reg, '/l/b', 'gone', 9));
  assert.throws(() => planReportLoad(reg, '/l/b', 1, admin, b, 10), (e: unknown) => isDpnsError(e, 'NOT_RUNNING'));
});

test('re-pointing an alias may not stretch the chains that lead to it past the limit', () => {
  const reg = new Registry();
  apply(reg, planAdd(reg, '/s', spec, 1));
  apply(reg, planAlias(reg, '/c1', '/s', 1));
  for (let k = 2; k <= 31; k++) apply(reg, planAlias(reg, `/c${k}`, `/c${k - 1}`, 1));
  apply(reg, planAlias(reg, '/b', '/s', 1));
  apply(reg, planAlias(reg, '/a', '/b', 1));
  // /a → /b → /c30 → … → /s is 32 links: allowed. Through /c31 it would be 33.
  apply(reg, planAlias(reg, '/b', '/c30', 1));
  assert.equal(reg.chainLength('/a'), 32);
  assert.throws(() => planAlias(reg, '/b', '/c31', 1), (e) => isDpnsError(e) && e.code === 'LIMIT_EXCEEDED' && /longest chain through \/b would be 33/.test(e.message));
  assert.equal((reg.get('/b') as { target: string }).target, '/c30', 'the refused re-point changed nothing');
  assert.equal(reg.resolve('/a').service.name, '/s', 'the chain of 32 still resolves');
});
