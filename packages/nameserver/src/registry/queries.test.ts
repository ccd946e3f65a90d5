import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, compileGlob, type DpnsError, type ServiceView } from '@dpns/protocol';
import { Registry } from './registry.js';
import { find, selectSliced, states, statesAtOnce } from './queries.js';

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
