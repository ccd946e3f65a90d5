// The registry snapshot as lines: every part comes back as it was, entries in name order and held
// as text only where that is safe; an image keeps describing its revision while the registry
// changes; format-2 arrays and format-1 objects are still read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, type EntryView, type Glob, type ServiceView } from '@dpns/protocol';
import type { Op } from './ops.js';
import { SnapshotLines } from '../storage/snapshot-stream.js';
import { registrySnapshotOf, snapshotLines } from './snapshot-lines.js';
import { Registry, type HeldEntries, type LineEntries, type LoadableSnapshot, type RegistryImage, type RegistrySnapshot } from './registry.js';

async function lines(image: RegistryImage): Promise<string[]> {
  let text = '';
  for await (const batch of snapshotLines(image)) text += batch;
  assert.ok(text.endsWith('\n'));
  return text.split('\n').slice(0, -1);
}

function registryOf(snap: LoadableSnapshot): Registry {
  const reg = new Registry();
  reg.load(snap);
  return reg;
}

/** A registry's snapshot with its entries in name order, for comparing two registries. */
function state(reg: Registry): RegistrySnapshot {
  const snap = reg.snapshot();
  snap.entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  return snap;
}

const entry = (i: number): ServiceView => ({ kind: 'service', name: `/s/${i}`, state: 'running', since: i, host: 'h"\n\\x', port: 1 + (i % 9), advertiser: { kind: 'static' } });

test('a snapshot written as lines reads back equal, small or spanning many batches', async () => {
  const cases: RegistrySnapshot[] = [
    { revision: 0, entries: [] },
    { revision: 7, entries: [entry(1)], tickets: [], epoch: 3, requests: [] },
    {
      revision: 8, entries: [], tickets: [], epoch: 1, requests: [],
      agents: [{ host: 'h1', key: 'ab'.repeat(32), at: 5, how: 'join' }], joins: [{ id: '01'.repeat(8), key: 'cd'.repeat(32), expires: 9, host: 'h2' }],
    },
    {
      revision: 9001, entries: Array.from({ length: 4567 }, (_, i) => entry(4567 - i)),
      tickets: Array.from({ length: 2001 }, (_, i) => [`/s/${i}`, { launchId: 'a', service: 'b', nameserver: 'c' }]), epoch: 2,
      requests: Array.from({ length: 4001 }, (_, i) => [`r${i}`, i]),
    },
  ];
  for (const snap of cases) {
    const reg = registryOf(snap);
    const image = reg.image();
    const written = await lines(image);
    image.release();
    const loaded = registrySnapshotOf(SnapshotLines.fromText(written));
    const { lines: stored, from, to } = loaded.entries as LineEntries;
    const names = Array.from({ length: to - from }, (_, j) => (JSON.parse(stored.line(from + j)) as EntryView).name);
    assert.deepEqual(names, [...names].sort(), 'entries are stored in name order');
    assert.deepEqual(state(registryOf(loaded)), state(reg));
    // Format 2 stored the same lines' values and parsed them all.
    assert.deepEqual(state(registryOf(registrySnapshotOf(written.map((l) => JSON.parse(l) as unknown)))), state(reg));
  }
});

test('plain services are held as text; aliases, session advertisements, escaped names and other layouts are parsed and indexed', async () => {
  const entries: EntryView[] = [
    entry(1),
    { kind: 'alias', name: '/a', target: '/s/1', since: 1 },
    { kind: 'service', name: '/lost', state: 'lost', since: 2, advertiser: { kind: 'session', owner: 'ab' } },
    { kind: 'service', name: '/run', state: 'running', since: 2, host: 'h', port: 2, advertiser: { kind: 'session' } },
    { kind: 'service', name: '/q"uo\\te\u2028', state: 'running', since: 3, host: 'h', port: 3, advertiser: { kind: 'static' } },
    // Quotes in a string are escaped, so this is still plain; a value that is exactly "session" is parsed (harmless).
    { kind: 'service', name: '/mentions', state: 'stopped', since: 4, reason: 'an "alias" said "session"' },
    { kind: 'service', name: '/named', state: 'running', since: 5, host: 'session', port: 5, advertiser: { kind: 'static' } },
    { name: '/name-first', kind: 'service', state: 'stopped', since: 6 },
  ];
  const reg = registryOf({ revision: 3, entries });
  const image = reg.image();
  const written = await lines(image);
  image.release();
  // The head lists the session advertisements; a file written before the lists was searched for "alias" and "session".
  const { sessions: _s, ...older } = JSON.parse(written[0] as string) as { sessions: string[] };
  for (const [file, named] of [[written, true], [[JSON.stringify(older), ...written.slice(1)], false]] as const) {
    const loaded = registrySnapshotOf(SnapshotLines.fromText(file));
    const back = registryOf(loaded);
    const textOf = Object.fromEntries(entries.map((e) => [e.name, back.heldAs(e.name) !== 'parsed']));
    assert.deepEqual(textOf, {
      '/a': false, '/lost': false, '/mentions': true, '/name-first': false, '/named': named, '/q"uo\\te\u2028': false, '/run': false, '/s/1': true,
    });
    assert.deepEqual(state(back), state(reg));
    assert.deepEqual(back.aliasesTo('/s/1'), ['/a']);
    assert.deepEqual([...back.strays()], ['/lost']);
    assert.deepEqual([...back.sessionAdvertised()].sort(), ['/lost', '/run']);
    assert.deepEqual(back.get('/s/1'), entry(1));
    assert.deepEqual(back.countByKind(), { service: 7, alias: 1 });
  }
});

test('a snapshot holds the plain services it wrote as their text; one changed meanwhile, an alias and a session advertisement stay as they are', async () => {
  const reg = new Registry();
  const session: ServiceView = { ...entry(3), advertiser: { kind: 'session', connection: 'c1' } } as ServiceView;
  reg.apply([{ t: 'put', e: entry(1) }, { t: 'put', e: entry(2) }, { t: 'put', e: session }, { t: 'put', e: { kind: 'alias', name: '/a', target: '/s/1', since: 0 } as EntryView }], 1);
  const before = { s1: reg.get('/s/1'), s3: reg.get('/s/3'), a: reg.get('/a') };
  const image = reg.image();
  const batches = snapshotLines(image);
  await batches.next();
  reg.apply([{ t: 'put', e: { ...entry(2), port: 7 } }], 2);
  const changed = reg.get('/s/2');
  for await (const _ of batches);
  image.release();
  const s1 = reg.get('/s/1');
  assert.notEqual(s1, before.s1, 'held as text, parsed again when read');
  assert.deepEqual(s1, before.s1);
  assert.equal(reg.get('/s/2'), changed, 'changed after the image: kept as it is');
  assert.equal(reg.get('/s/3'), before.s3, 'a session advertisement is not held as text');
  assert.equal(reg.get('/a'), before.a, 'nor an alias');
  assert.deepEqual(reg.resolve('/a').service, s1);
  // What is held as text is written as it was, and loads back the same.
  const image2 = reg.image();
  const again = await lines(image2);
  image2.release();
  assert.deepEqual(state(registryOf(registrySnapshotOf(SnapshotLines.fromText(again)))), state(reg));
});

test('an image keeps the revision it was taken at while entries are put and removed, and fails once the registry is replaced', async () => {
  const reg = registryOf({ revision: 10, entries: Array.from({ length: 5000 }, (_, i) => entry(i)) });
  const before = state(reg);
  const image = reg.image();
  const batches = snapshotLines(image);
  let text = '';
  let k = 0;
  for await (const batch of batches) {
    text += batch;
    // Between batches: a new name, a changed one, a removed one, and one changed twice.
    if (k++ === 1) {
      reg.apply([{ t: 'put', e: { ...entry(7), port: 99 } }, { t: 'del', n: '/s/4999' }, { t: 'put', e: entry(6000) }], 11);
      reg.apply([{ t: 'put', e: { ...entry(7), port: 98 } }, { t: 'put', e: { ...entry(4000), port: 97 } }], 12);
    }
  }
  image.release();
  const back = registryOf(registrySnapshotOf(SnapshotLines.fromText(text.split('\n').slice(0, -1))));
  assert.deepEqual(state(back), before);

  const stale = reg.image();
  reg.load({ revision: 1, entries: [] });
  await assert.rejects(lines(stale), /replaced while a snapshot/);
  stale.release();
});

test('a format-1 snapshot (one object) is taken as it is; anything else is refused', () => {
  const snap: RegistrySnapshot = { revision: 3, entries: [], epoch: 1 };
  assert.equal(registrySnapshotOf(snap), snap);
  assert.throws(() => registrySnapshotOf({ other: true }), /belongs to something else/);
  assert.throws(() => registrySnapshotOf([{ nohead: 1 }]), /no registry head/);
  assert.throws(() => registrySnapshotOf([{ revision: 1, entries: 2 }, {}]), /counts 2 elements, the file has 1/);
  assert.throws(() => registrySnapshotOf(SnapshotLines.fromText(['{"revision":1,"entries":2}', '{"kind":"service","name":"/x"}'])), /counts 2 elements, the file has 1/);
  assert.throws(() => registrySnapshotOf(SnapshotLines.fromText([])), /no registry head/);
});

test('the head lists the checked, unhealthy, idle-stopping and session-advertised names, so a restart need not search the entries held as text; a file without the lists is searched', async () => {
  const spec = { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000, idleStopMs: 60_000 };
  const check = { kind: 'tcp' as const, intervalMs: 1000, timeoutMs: 500, threshold: 3 };
  const entries: EntryView[] = [
    entry(1),
    { ...entry(2), check },
    { ...entry(3), state: 'unhealthy', reason: 'r', check },
    { kind: 'service', name: '/idle', state: 'stopped', since: 4, spec },
    { kind: 'service', name: '/run', state: 'running', since: 5, host: 'h', port: 2, advertiser: { kind: 'session' } },
  ];
  const reg = registryOf({ revision: 4, entries });
  const image = reg.image();
  const written = await lines(image);
  image.release();
  const head = JSON.parse(written[0] as string) as { checked: string[]; unhealthy: string[]; idle: string[]; sessions: string[] };
  assert.deepEqual([head.checked.sort(), head.unhealthy, head.idle, head.sessions], [['/s/2', '/s/3'], ['/s/3'], ['/idle'], ['/run']]);
  const indexes = (r: Registry): unknown => [[...r.checked()].sort(), r.unhealthyCount, [...r.idleStopping()], [...r.sessionAdvertised()]];
  const loaded = registrySnapshotOf(SnapshotLines.fromText(written));
  assert.ok('marked' in loaded.entries, 'the lists read');
  const fromLines = registryOf(loaded);
  assert.deepEqual(entries.filter((e) => fromLines.heldAs(e.name) === 'parsed').map((e) => e.name), ['/run'], 'every entry but the session advertisement held as its line');
  assert.deepEqual(indexes(fromLines), [['/s/2', '/s/3'], 1, ['/idle'], ['/run']]);
  // The lists are what the load goes by: emptied, nothing is found (the text is not searched).
  const emptied = [JSON.stringify({ ...head, checked: [], unhealthy: [], idle: [], sessions: [] }), ...written.slice(1)];
  assert.deepEqual(indexes(registryOf(registrySnapshotOf(SnapshotLines.fromText(emptied)))), [[], 0, [], []]);
  // A name listed that the file has no entry for is left out.
  const stray = [JSON.stringify({ ...head, checked: [...head.checked, '/nope'], sessions: ['/run', '/nope'] }), ...written.slice(1)];
  assert.deepEqual(indexes(registryOf(registrySnapshotOf(SnapshotLines.fromText(stray)))), [['/s/2', '/s/3'], 1, ['/idle'], ['/run']]);
  // A file written before the lists (or with a list that is not one) is searched as before.
  const { checked: _c, unhealthy: _u, idle: _i, sessions: _s, ...older } = head;
  for (const h of [older, { ...head, idle: 'x' }, { ...head, sessions: [1] }]) {
    const back = registrySnapshotOf(SnapshotLines.fromText([JSON.stringify(h), ...written.slice(1)]));
    assert.ok('names' in (back.entries as HeldEntries), 'searched as text');
    assert.deepEqual(indexes(registryOf(back)), [['/s/2', '/s/3'], 1, ['/idle'], ['/run']]);
  }
});

test('entries loaded as lines of the file: read, replaced and removed; an image taken before reads them as they were after the registry let the file go', async () => {
  const reg = registryOf({ revision: 4, entries: [entry(1), entry(2), entry(3)] });
  const first = reg.image();
  const written = await lines(first);
  first.release();
  const loaded = registryOf(registrySnapshotOf(SnapshotLines.fromText(written)));
  assert.deepEqual(['/s/1', '/s/2', '/s/3'].map((n) => loaded.heldAs(n)), ['line', 'line', 'line'], 'plain services are held as their line numbers');
  const image = loaded.image();
  loaded.apply([{ t: 'put', e: { ...entry(1), port: 99 } }, { t: 'del', n: '/s/3' }], 5);
  assert.deepEqual(loaded.get('/s/2'), entry(2), 'the one line still held is read');
  // None is held as a line now: the registry has dropped the file's lines, the image has not.
  assert.equal(image.entry('/s/1'), JSON.stringify(entry(1)));
  assert.equal(image.entry('/s/3'), JSON.stringify(entry(3)));
  image.release();
  assert.deepEqual(state(loaded).entries, [{ ...entry(1), port: 99 }, entry(2)]);
  const last = loaded.image();
  assert.deepEqual(state(registryOf(registrySnapshotOf(SnapshotLines.fromText(await lines(last))))), state(loaded));
  last.release();
});

test('a registry loaded from a file\'s lines stays equal to the one it was written from, through random changes', async () => {
  let seed = 11;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) % n;
  const names = Array.from({ length: 1500 }, (_, i) => `/g${i % 7}/s${String(i).padStart(4, '0')}`);
  const made = (name: string, i: number): EntryView => {
    switch (i % 5) {
      case 0: return { kind: 'alias', name, target: names[i % names.length] as string, since: i };
      case 1: return { kind: 'service', name, state: 'running', since: i, host: 'h', port: 1 + (i % 9), advertiser: { kind: 'session', owner: 'ab' } };
      default: return { kind: 'service', name, state: 'running', since: i, host: 'h', port: 1 + (i % 9), advertiser: { kind: 'static' } };
    }
  };
  const source = registryOf({ revision: 1, entries: names.map((n, i) => made(n, i + 2)) });
  const image = source.image();
  const loaded = registryOf(registrySnapshotOf(SnapshotLines.fromText(await lines(image))));
  image.release();
  assert.deepEqual([3, 4, 5].map((k) => loaded.heldAs(names[k] as string)), ['parsed', 'parsed', 'line'], 'an alias and a session advertisement parsed, a static service held as its line');
  const glob = (p: string): Glob => compileGlob(p);
  const compare = (): void => {
    assert.deepEqual(state(loaded), state(source));
    assert.equal(loaded.size, source.size);
    assert.deepEqual(loaded.countByKind(), source.countByKind());
    for (const p of ['/g1/*', '/g3/s00*', '/*', '/g6/s1499', '/nope*']) assert.deepEqual([...loaded.select(glob(p))], [...source.select(glob(p))], p);
  };
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 400; i++) {
      const name = rnd(4) === 0 ? `/g${rnd(8)}/new${rnd(50)}` : names[rnd(names.length)] as string;
      const op: Op = rnd(3) === 0 ? { t: 'del', n: name } : { t: 'put', e: made(name, rnd(1000)) };
      const rev = 2 + round * 400 + i;
      assert.deepEqual(loaded.apply([op], rev), source.apply([op], rev));
      if (rnd(5) === 0) assert.deepEqual(loaded.get(name), source.get(name));
    }
    compare();
    // A snapshot of the loaded one, loaded again, is the same registry.
    const again = loaded.image();
    assert.deepEqual(state(registryOf(registrySnapshotOf(SnapshotLines.fromText(await lines(again))))), state(source));
    again.release();
  }
});
