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
