import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderedNames, compareNames } from './ordered-names.js';

test('prefix ranges agree with a sorted array through random inserts and deletes', () => {
  const idx = new OrderedNames();
  const ref = new Set<string>();
  let seed = 42;
  // The high bits: an LCG's low bits repeat with a short period (bit k every 2^(k+1) draws).
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) % n;
  for (let i = 0; i < 20_000; i++) {
    const name = `/g${rnd(30)}/s${rnd(200)}`;
    if (rnd(4) === 0) {
      idx.delete(name);
      ref.delete(name);
    } else {
      idx.add(name);
      ref.add(name);
    }
  }
  assert.equal(idx.size, ref.size);
  const sorted = [...ref].sort();
  for (const prefix of ['', '/', '/g1', '/g1/', '/g29/s1', '/h', '/g3/s199']) {
    assert.deepEqual([...idx.withPrefix(prefix)], sorted.filter((n) => n.startsWith(prefix)), prefix);
  }
  idx.reset(sorted.slice().reverse());
  assert.deepEqual([...idx.withPrefix('')], sorted);
});

const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

test('reset spreads names over chunks that each hold them once, in order', () => {
  const idx = new OrderedNames();
  for (const n of [1024, 1500]) {
    const all = many('/n/', n);
    idx.reset([...all].reverse());
    assert.equal(idx.size, n);
    assert.deepEqual([...idx.withPrefix('')], all);
    idx.add('/n/0000');
    idx.add('/n/0512');
    assert.equal(idx.size, n, 'adding a name it holds, even one that starts a chunk, changes nothing');
    idx.delete('/n/0512');
    assert.equal(idx.size, n - 1);
    assert.ok(![...idx.withPrefix('/n/05')].includes('/n/0512'));
  }
});

test('a chunk emptied by deletes is dropped, so a new name still lands in order', () => {
  const idx = new OrderedNames();
  idx.reset([...many('/b/', 512), ...many('/c/', 512), ...many('/d/', 512)]);
  for (const n of many('/c/', 512)) idx.delete(n);
  idx.add('/a');
  idx.add('/c/x');
  const all = [...idx.withPrefix('')];
  assert.deepEqual(all, [...all].sort());
  assert.equal(all[0], '/a');
  assert.equal(idx.size, 1026);
});

test('withPrefix: nothing from an empty index; resumes after a name, also one before the prefix', () => {
  const idx = new OrderedNames();
  assert.deepEqual([...idx.withPrefix('/a')], []);
  idx.delete('/a');
  for (const n of ['/a/1', '/a/2', '/b/1', '/b/2', '/c']) idx.add(n);
  assert.deepEqual([...idx.withPrefix('/b', '/a/1')], ['/b/1', '/b/2']);
  assert.deepEqual([...idx.withPrefix('/b', '/b/1')], ['/b/2']);
  assert.deepEqual([...idx.withPrefix('/b', '/b')], ['/b/1', '/b/2']);
});

test('compareNames orders by UTF-16 code units', () => {
  assert.equal(compareNames('/a', '/b'), -1);
  assert.equal(compareNames('/b', '/a'), 1);
  assert.equal(compareNames('/a', '/a'), 0);
  assert.equal(compareNames('/Z', '/a'), -1);
});

test('runs of lines named when touched agree with the same names given whole, through random inserts, deletes and scans', () => {
  const names = many('/r/', 5000);
  const named: number[] = [];
  const nameAt = (k: number): string => {
    named.push(k);
    return names[k - 10] as string;
  };
  const lazy = new OrderedNames();
  lazy.resetLines(10, 10 + names.length, nameAt);
  assert.equal(named.length, Math.ceil(names.length / 512), 'only each run\'s first name made at the reset');
  const whole = new OrderedNames();
  whole.resetOrdered([...names]);
  assert.equal(lazy.size, names.length);
  const runs = lazy.copyRuns();
  assert.deepEqual(runs.flatMap((r) => [...r]), names, 'an image\'s runs list every name in order');
  assert.deepEqual([...lazy.withPrefix('/r/00')], names.slice(0, 100));
  let seed = 3;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) % n;
  for (let i = 0; i < 4000; i++) {
    const name = `/r/${String(rnd(6000)).padStart(4, '0')}${rnd(3) === 0 ? 'x' : ''}`;
    if (rnd(3) === 0) {
      lazy.delete(name);
      whole.delete(name);
    } else {
      lazy.add(name);
      whole.add(name);
    }
    if (i % 400 === 0) {
      const prefix = `/r/${rnd(6)}`;
      assert.deepEqual([...lazy.withPrefix(prefix)], [...whole.withPrefix(prefix)], prefix);
    }
  }
  assert.equal(lazy.size, whole.size);
  assert.deepEqual([...lazy.withPrefix('')], [...whole.withPrefix('')]);
  // The image taken before the changes still lists the names as they were then.
  assert.deepEqual(runs.flatMap((r) => [...r]), names);
});

test('a run of lines out of order, found when it is touched, has the whole index sorted', () => {
  for (const bad of [[3, 2], [511, 512], [1023, 1024]]) {
    const names = many('/o/', 1500);
    [names[bad[0]!], names[bad[1]!]] = [names[bad[1]!] as string, names[bad[0]!] as string];
    const idx = new OrderedNames();
    idx.resetLines(0, names.length, (k) => names[k] as string);
    const sorted = [...names].sort();
    // A scan that meets it on the way goes on from where it was.
    assert.deepEqual([...idx.withPrefix('/o/')], sorted, `lines ${bad.join(', ')} swapped`);
    assert.equal(idx.size, names.length);
    idx.add('/o/0000x');
    idx.delete('/o/1499');
    assert.deepEqual([...idx.withPrefix('')], [...sorted.slice(0, 1), '/o/0000x', ...sorted.slice(1, -1)]);
  }
  const names = many('/p/', 1200);
  [names[600], names[601]] = [names[601] as string, names[600] as string];
  const idx = new OrderedNames();
  idx.resetLines(0, names.length, (k) => names[k] as string);
  // Met by an insert first.
  idx.add('/p/0700x');
  assert.deepEqual([...idx.withPrefix('')], [...names, '/p/0700x'].sort());
});

test('names added while deferring wait aside, are put in order a slice at a time, and any read puts them all', () => {
  const base = many('/d/', 3000);
  const idx = new OrderedNames();
  idx.resetOrdered(base.filter((_, k) => k % 2 === 0));
  const whole = new OrderedNames();
  whole.resetOrdered(base.filter((_, k) => k % 2 === 0));
  idx.defer();
  for (const n of base.filter((_, k) => k % 2 === 1)) idx.add(n);
  idx.add('/a');
  idx.add('/z');
  idx.delete('/z');
  idx.delete('/d/0000');
  idx.endDeferring();
  // After deferring, adds go straight in; one of a name held aside is not made twice.
  idx.add('/d/0001');
  idx.add('/d/0001x');
  for (const n of [...base.filter((_, k) => k % 2 === 1), '/a', '/d/0001x']) whole.add(n);
  whole.delete('/d/0000');
  // A slice whose time is up puts nothing; slices with time put the rest.
  assert.equal(idx.settle(0), false);
  while (!idx.settle(performance.now() + 1));
  assert.equal(idx.settle(0), true, 'nothing left');
  assert.equal(idx.size, whole.size);
  assert.deepEqual([...idx.withPrefix('')], [...whole.withPrefix('')]);

  const read = new OrderedNames();
  read.resetOrdered(['/b', '/d']);
  read.defer();
  read.add('/c');
  read.add('/a');
  read.endDeferring();
  assert.deepEqual([...read.withPrefix('/')], ['/a', '/b', '/c', '/d'], 'a read puts them all first');
  assert.equal(read.size, 4);
  const image = new OrderedNames();
  image.defer();
  for (const n of ['/q', '/p', '/r']) image.add(n);
  image.endDeferring();
  assert.equal(image.size, 3, 'into an empty index');
  assert.deepEqual(image.copyRuns().flatMap((r) => [...r]), ['/p', '/q', '/r']);
});

test('a run of lines out of order, met while putting names held aside, has the index sorted and keeps them', () => {
  const names = many('/o/', 1500);
  [names[700], names[701]] = [names[701] as string, names[700] as string];
  const idx = new OrderedNames();
  idx.resetLines(0, names.length, (k) => names[k] as string);
  idx.defer();
  for (const n of ['/o/0700x', '/o/0001x', '/o/1499x']) idx.add(n);
  idx.endDeferring();
  while (!idx.settle(performance.now() + 5));
  assert.deepEqual([...idx.withPrefix('')], [...names, '/o/0700x', '/o/0001x', '/o/1499x'].sort());
  assert.equal(idx.size, 1503);
});
