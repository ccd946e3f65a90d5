import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderedNames } from './ordered-names.js';

test('prefix ranges agree with a sorted array through random inserts and deletes', () => {
  const idx = new OrderedNames();
  const ref = new Set<string>();
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
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
