import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, newTicket, ticketProof, type DpnsError, type LaunchSpec, type ServiceView } from '@dpns/protocol';
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

/** The DpnsError `fn` throws. */
function refusal(fn: () => unknown): DpnsError {
  try {
    fn();
  } catch (e) {
    if (isDpnsError(e)) return e;
    throw e;
  }
  assert.fail('expected a refusal');
}

/** A registry with a running session name, a static one, an auto-start one and an alias. */
function populated() {
  const reg = new Registry();
  const bound = new Map<string, number>();
  const b: Bindings = { liveConn: (n) => bound.get(n) };
  apply(reg, planAdvertise(reg, { name: '/run', host: 'h', port: 1, static: false }, bob, b, 1));
  bound.set('/run', bob.connId);
  apply(reg, planAdvertise(reg, { name: '/static', host: 'h', port: 2, static: true }, admin, b, 1));
  apply(reg, planAdd(reg, '/auto', spec, 1));
  apply(reg, planAlias(reg, '/al', '/run', 1));
  return { reg, b, bound };
}

test('every refusal has its code, a message that says why, and the details a client needs', () => {
  const { reg, b } = populated();
  const carol: Actor = { admin: false, connId: 4 };
  const cases: [() => unknown, string, RegExp, Record<string, unknown>?][] = [
    [() => planAdvertise(reg, { name: '/x', host: 'h', port: 1, static: true }, bob, b, 2), 'UNAUTHORIZED', /^a static advertisement needs the admin credential/],
    [() => planAdvertise(reg, { name: '/al', host: 'h', port: 1, static: false }, bob, b, 2), 'WRONG_KIND', /^\/al is an alias of \/run; advertise the service itself$/, { name: '/al', target: '/run' }],
    [() => planAdvertise(reg, { name: '/auto', host: 'h', port: 1, static: false }, bob, b, 2), 'TICKET_REFUSED', /^\/auto is an auto-start service: only the process dpns launched may advertise it/, { name: '/auto' }],
    [() => planAdvertise(reg, { name: '/auto', host: 'h', port: 1, static: false, proof: 'ab'.repeat(32) }, { ...bob, nonce: 'cd'.repeat(32) }, b, 2), 'TICKET_REFUSED', /^the ticket proof for \/auto does not match its current launch$/, { name: '/auto' }],
    [() => planAdvertise(reg, { name: '/run', host: 'h', port: 9, static: false }, carol, b, 2), 'FORBIDDEN', /^\/run is already advertised by another connection; only its advertiser or an admin/, { name: '/run' }],
    [() => planAdvertise(reg, { name: '/static', host: 'h', port: 9, static: false }, carol, b, 2), 'FORBIDDEN', /^\/static is already advertised statically by an admin;/, { name: '/static' }],
    [() => planUnadvertise(reg, '/auto', admin, b, 2), 'NOT_RUNNING', /^\/auto is not advertised \(state registered\)$/, { name: '/auto', state: 'registered' }],
    [() => planUnadvertise(reg, '/run', carol, b, 2), 'FORBIDDEN', /^\/run was advertised by another connection; only its advertiser or an admin may unadvertise it$/, { name: '/run' }],
    [() => planUnadvertise(reg, '/static', carol, b, 2), 'FORBIDDEN', /^\/static was advertised statically by an admin;/, { name: '/static' }],
    [() => planUnadvertise(reg, '/al', admin, b, 2), 'WRONG_KIND', /^\/al is an alias of \/run; unadvertise the service itself$/, { name: '/al', target: '/run' }],
    [() => planUnadvertise(reg, '/none', admin, b, 2), 'NOT_FOUND', /^no service named \/none$/, { name: '/none' }],
    [() => planReportLoad(reg, '/auto', 1, admin, b, 2), 'NOT_RUNNING', /^\/auto is registered; only a running service reports its load$/, { name: '/auto', state: 'registered' }],
    [() => planReportLoad(reg, '/run', 1, carol, b, 2), 'FORBIDDEN', /^\/run is advertised by another connection; only its advertiser or an admin may report its load$/, { name: '/run' }],
    [() => planReportLoad(reg, '/al', 1, admin, b, 2), 'WRONG_KIND', /; report the load of the service itself$/, { name: '/al', target: '/run' }],
    [() => planAdd(reg, '/run', spec, 2), 'ALREADY_EXISTS', /^\/run already exists \(a service, running\); use edit to change it$/, { name: '/run' }],
    [() => planAdd(reg, '/al', spec, 2), 'ALREADY_EXISTS', /^\/al already exists \(an alias of \/run\);/, { name: '/al' }],
    [() => planDelete(reg, '/none'), 'NOT_FOUND', /^no service or alias named \/none$/, { name: '/none' }],
    [() => planDelete(reg, '/run'), 'IN_USE', /^\/run is the target of alias \/al; delete or re-point them first$/, { name: '/run', aliases: ['/al'] }],
    [() => planEdit(reg, { name: '/al', spec: {}, unset: [] }, 2), 'WRONG_KIND', /; edit the service itself$/, { name: '/al', target: '/run' }],
    [() => planEdit(reg, { name: '/run', spec: { host: 'h' }, unset: [] }, 2), 'WRONG_KIND', /^\/run is not an auto-start service; give at least spec.host \(or spec.hosts\) and spec.program/, { name: '/run' }],
    [() => planEdit(reg, { name: '/run', spec: { program: '/p' }, unset: [] }, 2), 'WRONG_KIND', /not an auto-start service/, { name: '/run' }],
    [() => planAlias(reg, '/x', '/x', 2), 'ALIAS_CYCLE', /^\/x cannot be an alias of itself$/, { name: '/x' }],
    [() => planAlias(reg, '/x', '/none', 2), 'NOT_FOUND', /^alias target \/none does not exist$/, { name: '/none' }],
    [() => planAlias(reg, '/static', '/run', 2), 'ALREADY_EXISTS', /^\/static is a service; delete it before making it an alias$/, { name: '/static' }],
    [() => planAlias(reg, '/run', '/al', 2), 'ALREADY_EXISTS', /is a service/, { name: '/run' }],
    [() => info(reg, '/none'), 'NOT_FOUND', /^no service or alias named \/none$/, { name: '/none' }],
  ];
  for (const [fn, code, message, details] of cases) {
    const e = refusal(fn);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    if (details !== undefined) assert.deepEqual(e.details, details, e.message);
  }
});

test('alias refusals: a loop and a chain too long, with what they concern', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/s', host: 'h', port: 1, static: true }, admin, nobodyBound, 1));
  apply(reg, planAlias(reg, '/a', '/s', 2));
  apply(reg, planAlias(reg, '/b', '/a', 3));
  const loop = refusal(() => planAlias(reg, '/a', '/b', 4));
  assert.equal(loop.code, 'ALIAS_CYCLE');
  assert.equal(loop.message, 'making /a an alias of /b would close a loop (/b already leads back to /a)');
  assert.deepEqual(loop.details, { name: '/a', target: '/b' });
  let prev = '/b';
  for (let i = 0; i < 30; i++) {
    apply(reg, planAlias(reg, `/c${i}`, prev, 5));
    prev = `/c${i}`;
  }
  const long = refusal(() => planAlias(reg, '/new', prev, 6));
  assert.equal(long.code, 'LIMIT_EXCEEDED');
  assert.match(long.message, /^an alias chain is at most 32 links long; \/c29 is already at the end of a chain that long$/);
  assert.deepEqual(long.details, { name: '/new', target: '/c29', limit: 32, what: 'aliasChain' });
  assert.deepEqual(planAlias(reg, '/a', '/s', 7), [], 'the same alias again writes nothing');
  assert.deepEqual(planAlias(reg, '/n', '/s', 8), [{ t: 'put', e: { kind: 'alias', name: '/n', target: '/s', since: 8 } }]);
});

test('a target of many aliases names the first five, and the details at most a hundred', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/t', host: 'h', port: 1, static: true }, admin, nobodyBound, 1));
  for (let i = 0; i < 5; i++) apply(reg, planAlias(reg, `/a${i}`, '/t', 2));
  assert.match(refusal(() => planDelete(reg, '/t')).message, /^\/t is the target of aliases \/a0, \/a1, \/a2, \/a3, \/a4; delete/);
  for (let i = 5; i < 120; i++) apply(reg, planAlias(reg, `/a${String(i).padStart(3, '0')}`, '/t', 2));
  const e = refusal(() => planDelete(reg, '/t'));
  assert.match(e.message, /^\/t is the target of aliases \/a0, \/a005, \/a006, \/a007, \/a008, …; delete/);
  assert.equal((e.details?.aliases as string[]).length, 100);
  assert.deepEqual(planDelete(reg, '/a0'), [{ t: 'del', n: '/a0' }]);
});

test('who holds an advertisement: its live connection, its owner key, an admin; never a static one', () => {
  const reg = new Registry();
  const carol: Actor = { admin: false, connId: 4 };
  // Even a connection bound to a static name does not hold it.
  const b: Bindings = { liveConn: (n) => (n === '/bob' || n === '/static' ? bob.connId : undefined) };
  apply(reg, planAdvertise(reg, { name: '/bob', host: 'h', port: 1, static: false }, bob, b, 1));
  apply(reg, planAdvertise(reg, { name: '/static', host: 'h', port: 1, static: true }, admin, b, 1));
  assert.throws(() => planUnadvertise(reg, '/bob', carol, b, 2), (e: unknown) => isDpnsError(e, 'FORBIDDEN'), 'two connections without owner keys are not the same advertiser');
  assert.throws(() => planUnadvertise(reg, '/static', bob, b, 2), (e: unknown) => isDpnsError(e, 'FORBIDDEN'));
  assert.deepEqual(planUnadvertise(reg, '/bob', bob, b, 2), [{ t: 'del', n: '/bob' }]);
  assert.deepEqual(planUnadvertise(reg, '/static', admin, b, 2), [{ t: 'del', n: '/static' }]);
});

test('an auto-start name without a current launch, or a connection without a nonce, proves nothing', () => {
  const reg = new Registry();
  apply(reg, planAdd(reg, '/auto', spec, 1));
  const nonce = 'ab'.repeat(32);
  const stale = ticketProof(newTicket(), 'advertise', nonce, '/auto', 'h1', 7);
  assert.throws(() => planAdvertise(reg, { name: '/auto', host: 'h1', port: 7, static: false, proof: stale }, { ...bob, nonce }, nobodyBound, 2), (e: unknown) => isDpnsError(e, 'TICKET_REFUSED'));
  const t = { launchId: '00'.repeat(16), service: newTicket(), nameserver: newTicket() };
  apply(reg, [{ t: 'tickets', n: '/auto', v: t }]);
  // Made over an empty nonce, which is what a missing one would join as.
  const overNothing = ticketProof(t.service, 'advertise', '', '/auto', 'h1', 7);
  assert.throws(() => planAdvertise(reg, { name: '/auto', host: 'h1', port: 7, static: false, proof: overNothing }, bob, nobodyBound, 2), (e: unknown) => isDpnsError(e, 'TICKET_REFUSED'));
});

test('the launched process keeps the pid of its launch; an admin advertising over a finished launch does not', () => {
  const reg = new Registry();
  apply(reg, planAdd(reg, '/auto', spec, 1));
  const t = { launchId: '00'.repeat(16), service: newTicket(), nameserver: newTicket() };
  apply(reg, [{ t: 'tickets', n: '/auto', v: t }, { t: 'put', e: { ...svc(reg, '/auto'), state: 'starting', pid: 42 } }]);
  const nonce = 'ab'.repeat(32);
  const proof = ticketProof(t.service, 'advertise', nonce, '/auto', 'h1', 7);
  const [op] = planAdvertise(reg, { name: '/auto', host: 'h1', port: 7, static: false, proof }, { ...bob, nonce }, nobodyBound, 2);
  assert.equal(op?.t === 'put' && (op.e as ServiceView).pid, 42);
  apply(reg, [{ t: 'tickets', n: '/auto', v: null }]);
  const [again] = planAdvertise(reg, { name: '/auto', host: 'h1', port: 7, static: false }, admin, nobodyBound, 3);
  assert.equal(again?.t === 'put' && (again.e as ServiceView).pid, undefined);
});

test('the same advertisement again writes nothing; any difference in address or advertiser writes it', () => {
  const reg = new Registry();
  const b: Bindings = { liveConn: (n) => (n === '/a' ? alice.connId : undefined) };
  apply(reg, planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: false }, alice, b, 1));
  assert.deepEqual(planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: false }, alice, b, 2), []);
  assert.equal(planAdvertise(reg, { name: '/a', host: 'h', port: 2, static: false }, alice, b, 2).length, 1, 'another port');
  assert.equal(planAdvertise(reg, { name: '/a', host: 'h2', port: 1, static: false }, alice, b, 2).length, 1, 'another host');
  assert.equal(planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: true }, admin, b, 2).length, 1, 'static now');
  assert.equal(planAdvertise(reg, { name: '/a', host: 'h', port: 1, static: false }, admin, b, 2).length, 1, 'no owner now');
  apply(reg, planAdvertise(reg, { name: '/s', host: 'h', port: 1, static: true }, admin, b, 1));
  assert.deepEqual(planAdvertise(reg, { name: '/s', host: 'h', port: 1, static: true }, admin, b, 2), []);
  assert.equal(planAdvertise(reg, { name: '/s', host: 'h', port: 1, static: false }, { ...admin, owner: alice.owner } as Actor, b, 2).length, 1, 'a session now');
});

test('a throwaway owner key is recorded as one, so its names are not held when lost', () => {
  const reg = new Registry();
  const eph: Actor = { admin: false, connId: 5, owner: 'e'.repeat(64), ephemeralOwner: true };
  const [op] = planAdvertise(reg, { name: '/e', host: 'h', port: 1, static: false }, eph, nobodyBound, 1);
  assert.deepEqual(op?.t === 'put' && op.e.kind === 'service' ? op.e.advertiser : undefined, { kind: 'session', owner: 'e'.repeat(64), ephemeral: true });
  const [kept] = planAdvertise(reg, { name: '/k', host: 'h', port: 1, static: false }, { ...eph, ephemeralOwner: false }, nobodyBound, 1);
  assert.deepEqual(kept?.t === 'put' && kept.e.kind === 'service' ? kept.e.advertiser : undefined, { kind: 'session', owner: 'e'.repeat(64) });
});

test('unadvertise: a plain service others point at stays stopped; an auto-start one stops and drops its tickets', () => {
  const { reg, b } = populated();
  assert.deepEqual(planUnadvertise(reg, '/run', bob, b, 5), [{ t: 'put', e: { kind: 'service', name: '/run', state: 'stopped', since: 5 } }]);
  const t = { launchId: '00'.repeat(16), service: newTicket(), nameserver: newTicket() };
  apply(reg, [{ t: 'tickets', n: '/auto', v: t }, { t: 'put', e: { ...svc(reg, '/auto'), state: 'running', host: 'h', port: 3, advertiser: { kind: 'session' } } }]);
  assert.deepEqual(planUnadvertise(reg, '/auto', admin, b, 6), [{ t: 'put', e: { kind: 'service', name: '/auto', state: 'stopped', since: 6, spec } }, { t: 'tickets', n: '/auto', v: null }]);
});

test('lost: only a running session entry; anything else, or nothing, is left alone', () => {
  const { reg } = populated();
  for (const name of ['/none', '/al', '/auto', '/static']) assert.deepEqual(planLost(reg, name, 'gone', 5), [], name);
  const [op] = planLost(reg, '/run', 'gone', 5);
  assert.deepEqual(op, { t: 'put', e: { ...svc(reg, '/run'), state: 'lost', since: 5, reason: 'gone' } });
  apply(reg, [op as Op]);
  assert.deepEqual(planLost(reg, '/run', 'gone again', 6), [], 'lost once: its time and reason stay');
});

test('edit: defaults for a new auto-start spec, "no" restart stored as absent, and an auto-start entry keeps its state', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/p', host: 'h', port: 1, static: false }, bob, nobodyBound, 1));
  apply(reg, planLost(reg, '/p', 'gone', 2));
  const { entry } = planEdit(reg, { name: '/p', spec: { host: 'h', program: '/bin/p' }, unset: [] }, 3);
  assert.deepEqual(entry, { kind: 'service', name: '/p', state: 'registered', since: 3, spec: { host: 'h', program: '/bin/p', args: [], env: {}, startTimeoutMs: 10_000 } });
  apply(reg, planAdd(reg, '/auto', spec, 1));
  apply(reg, [{ t: 'put', e: { ...svc(reg, '/auto'), state: 'failed', reason: 'spawn failed' } }]);
  const failed = planEdit(reg, { name: '/auto', spec: { restart: 'on-failure' }, unset: [] }, 4).entry;
  assert.equal(failed.state, 'failed');
  assert.equal(failed.reason, 'spawn failed');
  assert.equal(failed.since, svc(reg, '/auto').since);
  assert.equal(failed.spec?.restart, 'on-failure');
  assert.equal('restart' in (planEdit(reg, { name: '/auto', spec: { restart: 'no' }, unset: [] }, 5).entry.spec ?? {}), false);
});

test('info of a service has no `resolved`; of a dangling alias neither, but it still answers', () => {
  const { reg } = populated();
  assert.deepEqual(info(reg, '/run'), { entry: reg.get('/run'), aliases: ['/al'] });
  apply(reg, [{ t: 'put', e: { kind: 'alias', name: '/dangling', target: '/gone', since: 0 } }]);
  assert.deepEqual(info(reg, '/dangling'), { entry: reg.get('/dangling'), aliases: [] });
});

test('reportLoad writes the load and when it came', () => {
  const { reg, b } = populated();
  assert.deepEqual(planReportLoad(reg, '/run', 3, bob, b, 9), [{ t: 'put', e: { ...svc(reg, '/run'), load: 3, loadAt: 9 } }]);
});
