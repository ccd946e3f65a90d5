// The registry as a state machine: what applying ops and records does to its entries, index,
// aliases, tickets, request ids and epoch, what its queries answer, and what a snapshot carries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, isDpnsError, type EntryView, type ServiceView } from '@dpns/protocol';
import { MAX_ALIAS_DEPTH, REMEMBERED_REQUESTS, Registry, type RegistrySnapshot } from './registry.js';

const running = (name: string, port = 1): ServiceView => ({ kind: 'service', name, state: 'running', since: 0, host: 'h', port, advertiser: { kind: 'session' } });
const alias = (name: string, target: string): EntryView => ({ kind: 'alias', name, target, since: 0 });
const names = (it: Iterable<EntryView>) => [...it].map((e) => e.name);

test('apply: puts and deletes are told as changes; a delete of nothing changes nothing; the revision never goes back', () => {
  const reg = new Registry();
  const a = running('/a');
  assert.deepEqual(reg.apply([{ t: 'put', e: a }], 3), [{ type: 'put', name: '/a', entry: a }]);
  assert.equal(reg.revision, 3);
  reg.apply([{ t: 'tickets', n: '/a', v: { launchId: 'l', service: 's', nameserver: 'n' } }], 4);
  assert.deepEqual(reg.apply([{ t: 'del', n: '/a' }], 5), [{ type: 'delete', name: '/a' }]);
  assert.equal(reg.ticketsOf('/a'), undefined, 'a deleted entry takes its tickets with it');
  assert.deepEqual(reg.apply([{ t: 'del', n: '/never' }], 6), []);
  reg.apply([], 2);
  assert.equal(reg.revision, 6);
  assert.equal(reg.size, 0);
});

test('applyRecord: the epoch only rises, a record from before epochs leaves it, and request ids are remembered', () => {
  const reg = new Registry();
  assert.equal(reg.epoch, 0);
  reg.applyRecord({ ops: [], ep: 2, rid: 'r1' }, 1);
  assert.equal(reg.epoch, 2);
  reg.applyRecord({ ops: [], ep: 1 }, 2);
  assert.equal(reg.epoch, 2, 'an older epoch does not lower it');
  reg.applyRecord({ ops: [] }, 3);
  assert.equal(reg.epoch, 2);
  reg.applyRecord({ ops: [], ep: 3 }, 4);
  assert.equal(reg.epoch, 3);
  assert.equal(reg.appliedRequest('r1'), 1);
  assert.equal(reg.appliedRequest('r2'), undefined);
  assert.equal(reg.revision, 4);
});

test(`request ids: the newest ${REMEMBERED_REQUESTS} are remembered, the oldest forgotten first`, () => {
  const reg = new Registry();
  for (let i = 1; i <= REMEMBERED_REQUESTS; i++) reg.applyRecord({ ops: [], rid: `r${i}` }, i);
  assert.equal(reg.appliedRequest('r1'), 1, 'exactly the window: all kept');
  reg.applyRecord({ ops: [], rid: 'last' }, REMEMBERED_REQUESTS + 1);
  assert.equal(reg.appliedRequest('r1'), undefined);
  assert.equal(reg.appliedRequest('r2'), 2);
  assert.equal(reg.appliedRequest('last'), REMEMBERED_REQUESTS + 1);
  assert.equal(reg.snapshot().requests?.length, REMEMBERED_REQUESTS);
});

test('beforeImage keeps what a name was before the record, even when the record changes it twice', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: running('/a', 1) }], 1);
  const rec = { ops: [{ t: 'put' as const, e: running('/a', 2) }, { t: 'put' as const, e: running('/a', 3) }] };
  const u = reg.beforeImage(rec);
  assert.equal('rid' in u, false, 'no request id: nothing to remember');
  reg.applyRecord(rec, 2);
  reg.restore(u);
  assert.equal((reg.get('/a') as ServiceView).port, 1);
});

test('an observer hears every name put or removed until it stops', () => {
  const reg = new Registry();
  const heard: string[] = [];
  const stop = reg.observe((n) => heard.push(n));
  reg.apply([{ t: 'put', e: running('/a') }, { t: 'del', n: '/a' }, { t: 'del', n: '/none' }], 1);
  stop();
  reg.apply([{ t: 'put', e: running('/b') }], 2);
  assert.deepEqual(heard, ['/a', '/a']);
});

test('size, kinds and every entry', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: running('/s1') }, { t: 'put', e: running('/s2') }, { t: 'put', e: alias('/al', '/s1') }], 1);
  assert.equal(reg.size, 3);
  assert.deepEqual(reg.countByKind(), { service: 2, alias: 1 });
  assert.deepEqual(names(reg.all()).sort(), ['/al', '/s1', '/s2']);
  assert.deepEqual(new Registry().countByKind(), { service: 0, alias: 0 });
});

test('select and selectSlice: a plain name is looked up, a pattern scanned in name order', () => {
  const reg = new Registry();
  reg.apply(['/a/2', '/a/1', '/ab', '/b'].map((n) => ({ t: 'put' as const, e: running(n) })), 1);
  assert.deepEqual(names(reg.select(compileGlob('/a/1'))), ['/a/1']);
  assert.deepEqual(names(reg.select(compileGlob('/a/9'))), []);
  assert.deepEqual(names(reg.select(compileGlob('/a*'))), ['/a/1', '/a/2', '/ab']);
  assert.deepEqual(names(reg.selectSlice(compileGlob('/a/1'), undefined, Infinity).entries), ['/a/1']);
  assert.deepEqual(reg.selectSlice(compileGlob('/a/1'), '/a/1', Infinity), { entries: [] }, 'resumed after its one name: done');
  assert.deepEqual(reg.selectSlice(compileGlob('/a/9'), undefined, Infinity), { entries: [] });
  assert.deepEqual(reg.selectSlice(compileGlob('/a/*'), '/a/1', Infinity), { entries: [reg.get('/a/2')] });
});

test('agents are listed by host name', () => {
  const reg = new Registry();
  for (const host of ['m', 'b', 'z', 'a']) reg.apply([{ t: 'agent', h: host, v: { host, key: 'k', at: 0, how: 'trust' } }], 1);
  assert.deepEqual(reg.agentList().map((a) => a.host), ['a', 'b', 'm', 'z']);
  reg.apply([{ t: 'agent', h: 'm', v: null }], 2);
  assert.deepEqual(reg.agentList().map((a) => a.host), ['a', 'b', 'z']);
});

test('resolve says where a chain breaks, and stops at a cycle only a damaged registry could hold', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: alias('/x', '/y') }, { t: 'put', e: alias('/y', '/gone') }], 1);
  const err = (name: string) => {
    try {
      reg.resolve(name);
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const missing = err('/nothing');
  assert.ok(isDpnsError(missing, 'NOT_FOUND') && missing.message === 'no service named /nothing' && missing.details?.name === '/nothing');
  const broken = err('/x');
  assert.ok(isDpnsError(broken, 'NOT_FOUND') && broken.message === 'alias /x -> /y points at /gone, which does not exist' && broken.details?.name === '/gone');
  reg.apply([{ t: 'put', e: alias('/c1', '/c2') }, { t: 'put', e: alias('/c2', '/c1') }], 2);
  const cycle = err('/c1');
  assert.ok(isDpnsError(cycle, 'ALIAS_CYCLE') && cycle.message === `alias chain from /c1 is longer than ${MAX_ALIAS_DEPTH}` && cycle.details?.name === '/c1');
  assert.ok(reg.chainLength('/c1') > MAX_ALIAS_DEPTH, 'a cycle is longer than any chain may be');
  assert.equal(reg.wouldCycle('/new', '/c1'), true, 'a chain that never ends counts as a loop');
});

test('chainLength and wouldCycle follow the links a new alias would add to', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: running('/s') }], 1);
  let prev = '/s';
  for (let i = 1; i <= MAX_ALIAS_DEPTH + 1; i++) {
    reg.apply([{ t: 'put', e: alias(`/a${i}`, prev) }], i + 1);
    prev = `/a${i}`;
  }
  assert.equal(reg.chainLength('/s'), 0);
  assert.equal(reg.chainLength('/missing'), 0);
  assert.equal(reg.chainLength('/a3'), 3);
  assert.equal(reg.wouldCycle('/new', `/a${MAX_ALIAS_DEPTH + 1}`), false, `${MAX_ALIAS_DEPTH + 1} links to a service: no loop`);
  assert.equal(reg.wouldCycle('/a1', '/a5'), true);
  assert.equal(reg.wouldCycle('/new', '/missing'), false);
  assert.equal(reg.wouldCycle('/new', '/s'), false);
  reg.apply([{ t: 'put', e: alias('/b1', `/a${MAX_ALIAS_DEPTH + 1}`) }, { t: 'put', e: alias('/b2', '/b1') }], 99);
  assert.equal(reg.wouldCycle('/new', '/b2'), true, 'longer than the resolver follows: refused as a loop');
});

test('alias back-links follow puts, re-points and deletes', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: running('/t1') }, { t: 'put', e: running('/t2') }, { t: 'put', e: alias('/a', '/t1') }, { t: 'put', e: alias('/b', '/t1') }], 1);
  assert.deepEqual(reg.aliasesTo('/t1'), ['/a', '/b']);
  reg.apply([{ t: 'put', e: alias('/a', '/t2') }], 2);
  assert.deepEqual(reg.aliasesTo('/t1'), ['/b']);
  assert.deepEqual(reg.aliasesTo('/t2'), ['/a']);
  reg.apply([{ t: 'put', e: running('/b') }], 3);
  assert.deepEqual(reg.aliasesTo('/t1'), [], 'an alias replaced by a service no longer points');
  reg.apply([{ t: 'del', n: '/a' }], 4);
  assert.deepEqual(reg.aliasesTo('/t2'), []);
});

test('strays: only a lost entry a session advertised, with no spec', () => {
  const reg = new Registry();
  const lost = (name: string, over: Partial<ServiceView>): ServiceView => ({ ...running(name), state: 'lost', ...over });
  reg.apply([
    { t: 'put', e: lost('/session', {}) },
    { t: 'put', e: lost('/static', { advertiser: { kind: 'static' } }) },
    { t: 'put', e: lost('/auto', { spec: { host: 'h', program: '/p', args: [], env: {}, startTimeoutMs: 1 } }) },
    { t: 'put', e: { kind: 'service', name: '/nobody', state: 'lost', since: 0 } },
    { t: 'put', e: running('/up') },
  ], 1);
  assert.deepEqual([...reg.strays()], ['/session']);
});

test('a snapshot carries everything, and loading one builds the index, the back-links and the strays', () => {
  const reg = new Registry();
  reg.applyRecord({ ops: [
    { t: 'put', e: running('/s') }, { t: 'put', e: alias('/al', '/s') }, { t: 'put', e: { ...running('/lost'), state: 'lost' } },
    { t: 'tickets', n: '/s', v: { launchId: 'l', service: 's', nameserver: 'n' } },
    { t: 'agent', h: 'h1', v: { host: 'h1', key: 'k', at: 1, how: 'join' } },
    { t: 'join', id: 'j1', v: { id: 'j1', key: 'k', expires: 9 } },
  ], ep: 4, rid: 'r1' }, 7);
  const copy = new Registry();
  copy.load(JSON.parse(JSON.stringify(reg.snapshot())) as RegistrySnapshot);
  assert.deepEqual(copy.snapshot(), reg.snapshot());
  assert.equal(copy.revision, 7);
  assert.equal(copy.epoch, 4);
  assert.equal(copy.appliedRequest('r1'), 7);
  assert.deepEqual(copy.ticketsOf('/s'), { launchId: 'l', service: 's', nameserver: 'n' });
  assert.deepEqual(names(copy.select(compileGlob('/*'))), ['/al', '/lost', '/s']);
  assert.deepEqual(copy.aliasesTo('/s'), ['/al']);
  assert.deepEqual([...copy.strays()], ['/lost']);
});

test('a snapshot from before tickets, agents, tokens, epochs and request ids loads as empty ones', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: running('/old') }, { t: 'agent', h: 'h', v: { host: 'h', key: 'k', at: 1, how: 'trust' } }], 3);
  reg.applyRecord({ ops: [], ep: 5, rid: 'r' }, 4);
  reg.load({ revision: 2, entries: [running('/s')] });
  assert.deepEqual(reg.snapshot(), { revision: 2, entries: [running('/s')], tickets: [], epoch: 0, requests: [], agents: [], joins: [] });
  assert.deepEqual(names(reg.select(compileGlob('*'))), ['/s']);
});
