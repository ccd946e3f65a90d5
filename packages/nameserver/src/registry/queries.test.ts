import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, compileGlob, type DpnsError, type ServiceView } from '@dpns/protocol';
import { Registry } from './registry.js';
import { find, findSliced, listNames, listNamesSliced, selectSliced, states, statesAtOnce, statesSliced } from './queries.js';

const failed: ServiceView = {
  kind: 'service', name: '/s', state: 'failed', since: 1, reason: 'AGENT_SPAWN_FAILED: permission denied (can dbsvc enter /srv/secret-dir?)',
  spec: { host: 'h', program: '/bin/db', args: ['--password=hunter22'], env: { DB_PASSWORD: 's3cret!' }, cwd: '/srv/secret-dir', user: 'dbsvc', startTimeoutMs: 1000 },
};

test('state answers redacted specs and find refusals scrub spec values out of the reason', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: failed }], 1);
  const [e] = states(reg, '*') as ServiceView[];
  assert.equal(e?.spec?.redacted, true);
  assert.doesNotMatch(JSON.stringify(e), /s3cret|hunter22|secret-dir|dbsvc/);
  assert.equal((reg.get('/s') as ServiceView).spec?.env.DB_PASSWORD, 's3cret!', 'the registry keeps the values');
  assert.throws(() => find(reg, '/s'), (err: unknown) => {
    const d = err as DpnsError;
    return d.code === 'NOT_RUNNING' && !/secret-dir|dbsvc/.test(d.message) && d.message.includes(REDACTED) && !/secret-dir/.test(String(d.details?.reason));
  });
});

test('a sliced scan finds what a plain one does, and survives changes between its slices', async () => {
  const reg = new Registry();
  const put = (name: string, rev: number) => reg.apply([{ t: 'put', e: { kind: 'service', name, state: 'running', since: 0, host: 'h', port: 1, advertiser: { kind: 'session' } } }], rev);
  let rev = 0;
  for (let i = 0; i < 5000; i++) put(`/s/${String(i).padStart(5, '0')}${'a'.repeat(200)}`, ++rev);
  const glob = compileGlob(`/s/*${'[a-z]'.repeat(50)}*`);
  const plain = [...reg.select(glob)].map((e) => e.name);
  // Resuming a scan after a name continues from the next one, even if names were added or removed meanwhile.
  const first = reg.selectSlice(glob, undefined, 0);
  assert.ok(first.next !== undefined, 'a deadline already past stops after the first names');
  const resumed = reg.selectSlice(glob, first.next, Infinity);
  assert.equal(resumed.next, undefined);
  assert.deepEqual([...first.entries, ...resumed.entries].map((e) => e.name), plain);
  reg.apply([{ t: 'del', n: first.next as string }], ++rev);
  put('/s/00000', ++rev);
  const afterChange = reg.selectSlice(glob, first.next, Infinity).entries.map((e) => e.name);
  assert.deepEqual(afterChange, plain.slice(plain.indexOf(first.next as string) + 1));
  assert.deepEqual((await selectSliced(reg, glob)).map((e) => e.name), [...reg.select(glob)].map((e) => e.name));
});

test('a sliced initial list is the state at one revision: names changed between slices are read again', async () => {
  const reg = new Registry();
  let rev = 0;
  const put = (name: string, port: number) => reg.apply([{ t: 'put', e: { kind: 'service', name, state: 'running', since: 0, host: 'h', port, advertiser: { kind: 'session' } } }], ++rev);
  const pad = 'a'.repeat(200);
  for (let i = 0; i < 20000; i++) put(`/s/${String(i).padStart(5, '0')}${pad}`, 1);
  const pattern = `/s/*${'[a-z]'.repeat(50)}*`;
  // Between slices, change names behind the scan, ahead of it, and add and remove some.
  let turns = 0;
  let writing = true;
  const writer = (): void => {
    if (!writing) return;
    turns++;
    put(`/s/00000${pad}`, 1000 + turns);
    put(`/s/19999${pad}`, 2000 + turns);
    put(`/s/0000${turns}x${pad}`, 3000 + turns);
    reg.apply([{ t: 'del', n: `/s/${String(10000 + turns).padStart(5, '0')}${pad}` }], ++rev);
    setImmediate(writer);
  };
  setImmediate(writer);
  const { entries, expected } = await statesAtOnce(reg, pattern, (entries) => ({ entries, expected: states(reg, pattern) }));
  writing = false;
  assert.ok(turns >= 2, `the scan took several slices with writes between them (${turns})`);
  assert.deepEqual(entries, expected);
});

const at = (name: string, port: number, over: Partial<ServiceView> = {}): ServiceView => ({ kind: 'service', name, state: 'running', since: 0, host: 'h', port, advertiser: { kind: 'session' }, ...over });

test('the sliced answers agree with the plain ones', async () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: at('/q/b', 2) }, { t: 'put', e: at('/q/a', 1) }, { t: 'put', e: failed }, { t: 'put', e: { kind: 'alias', name: '/q/al', target: '/q/a', since: 0 } }], 1);
  assert.deepEqual(await listNamesSliced(reg, '/q/*'), ['/q/a', '/q/al', '/q/b']);
  assert.deepEqual(listNames(reg, '/q/*'), ['/q/a', '/q/al', '/q/b']);
  assert.deepEqual(await statesSliced(reg, '*'), states(reg, '*'));
  assert.deepEqual(await findSliced(reg, '/q/*'), find(reg, '/q/*'));
  assert.deepEqual(await findSliced(reg, '/q/al'), [{ name: '/q/al', service: '/q/a', host: 'h', port: 1 }]);
});

test('statesAtOnce reads again the names the pattern covers that changed during the scan, and no others', async () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: at('/w/a', 1) }, { t: 'put', e: at('/w/gone', 2) }], 1);
  const answer = statesAtOnce(reg, '/w/*', (entries) => entries.map((e) => e.name));
  reg.apply([{ t: 'put', e: at('/w/new', 3) }, { t: 'put', e: at('/other', 4) }, { t: 'del', n: '/w/gone' }], 2);
  assert.deepEqual(await answer, ['/w/a', '/w/new']);
});

test('find of a name that is not running says so, how it got there, and why', () => {
  const reg = new Registry();
  reg.apply([
    { t: 'put', e: at('/lost', 1, { state: 'lost', reason: 'its advertiser went away' }) },
    { t: 'put', e: { kind: 'service', name: '/reg', state: 'registered', since: 0 } },
    { t: 'put', e: { kind: 'alias', name: '/a1', target: '/a2', since: 0 } },
    { t: 'put', e: { kind: 'alias', name: '/a2', target: '/reg', since: 0 } },
    { t: 'put', e: { kind: 'service', name: '/noaddr', state: 'running', since: 0, port: 1 } },
    { t: 'put', e: { kind: 'service', name: '/noport', state: 'running', since: 0, host: 'h' } },
  ], 1);
  const refusal = (name: string): DpnsError => {
    try {
      find(reg, name);
    } catch (e) {
      return e as DpnsError;
    }
    return assert.fail(`${name} was found`);
  };
  const lost = refusal('/lost');
  assert.equal(lost.code, 'NOT_RUNNING');
  assert.equal(lost.message, '/lost is lost: its advertiser went away');
  assert.deepEqual(lost.details, { name: '/lost', state: 'lost', reason: 'its advertiser went away' });
  const via = refusal('/a1');
  assert.equal(via.message, '/reg (via /a1 -> /a2 -> /reg) is registered');
  assert.deepEqual(via.details, { name: '/reg', state: 'registered' });
  assert.equal(refusal('/reg').message, '/reg is registered');
  assert.equal(refusal('/noaddr').code, 'NOT_RUNNING');
  assert.equal(refusal('/noport').code, 'NOT_RUNNING');
});

test('a pattern finds running services with an address, through aliases that resolve, least loaded first, ties in name order', () => {
  const reg = new Registry();
  reg.apply([
    { t: 'put', e: at('/p/c', 3, { load: 5 }) },
    { t: 'put', e: at('/p/a', 1, { load: 5 }) },
    { t: 'put', e: at('/p/b', 2, { load: 1 }) },
    { t: 'put', e: at('/p/d', 4) },
    { t: 'put', e: at('/p/lost', 5, { state: 'lost' }) },
    { t: 'put', e: { kind: 'service', name: '/p/reg', state: 'registered', since: 0 } },
    { t: 'put', e: { kind: 'service', name: '/p/noaddr', state: 'running', since: 0, port: 1 } },
    { t: 'put', e: { kind: 'service', name: '/p/noport', state: 'running', since: 0, host: 'h' } },
    { t: 'put', e: { kind: 'alias', name: '/p/to-b', target: '/p/b', since: 0 } },
    { t: 'put', e: { kind: 'alias', name: '/p/to-lost', target: '/p/lost', since: 0 } },
    { t: 'put', e: { kind: 'alias', name: '/p/dangling', target: '/nowhere', since: 0 } },
  ], 1);
  assert.deepEqual(find(reg, '/p/*').map((l) => `${l.name}>${l.service}:${l.port}`), ['/p/b>/p/b:2', '/p/to-b>/p/b:2', '/p/a>/p/a:1', '/p/c>/p/c:3', '/p/d>/p/d:4']);
});
