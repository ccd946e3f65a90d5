// The radix sort puts names in the order the built-in sort does (UTF-16 code units), keeps equal
// names in their first order, and is not slowed down into quadratic time by names that share
// everything but their last code unit (such a sort would not finish within the test's limit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '@dpns/cluster-core';
import { NameSort, sortedIndexes } from './name-sort.js';

const ALPHABET = ['a', 'b', 'z', '/', '-', '.', '0', '9', 'é', '\u{1F600}', '\uE000', '\uFFFF', '"', '\\'];

function randomName(prng: Prng): string {
  let s = prng.next() < 0.5 ? '/grow/g' : '/';
  const n = Math.floor(prng.next() * 8);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(prng.next() * ALPHABET.length)] as string;
  return s;
}

test('names come out in the built-in order, equal names in their first order', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const prng = new Prng(seed);
    const size = Math.floor(prng.next() * 3000);
    const names: string[] = [];
    for (let i = 0; i < size; i++) {
      // Repeats of earlier names now and then, and names that begin others.
      const r = prng.next();
      names.push(r < 0.2 && names.length > 0 ? names[Math.floor(prng.next() * names.length)] as string : r < 0.3 && names.length > 0 ? (names[names.length - 1] as string).slice(0, -1) : randomName(prng));
    }
    const idx = [...sortedIndexes(names)];
    const expected = names.map((name, i) => ({ name, i })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i)).map((x) => x.i);
    assert.deepEqual(idx, expected, `seed ${seed}`);
  }
});

test('no names, one name, and many copies of one name', () => {
  assert.deepEqual([...sortedIndexes([])], []);
  assert.deepEqual([...sortedIndexes(['/x'])], [0]);
  const same = Array.from({ length: 5000 }, () => '/same');
  assert.deepEqual([...sortedIndexes(same)], same.map((_, i) => i));
});

test('names sharing a 200-unit prefix, in order and reversed, come out in order (a quadratic sort of 200,000 would run past the test time limit)', () => {
  // A long shared prefix and then every order of endings: the shape that makes a comparison
  // sort compare whole prefixes, and a quicksort with a fixed pivot go quadratic on sorted input.
  const prefix = '/p'.repeat(100);
  const names = Array.from({ length: 200_000 }, (_, i) => `${prefix}/${String(i).padStart(6, '0')}`);
  const idx = sortedIndexes(names);
  for (let k = 0; k < idx.length; k++) assert.equal(idx[k], k);
  const reversed = [...names].reverse();
  const r = sortedIndexes(reversed);
  for (let k = 0; k < r.length; k++) assert.equal(r[k], r.length - 1 - k);
});

test('sorted a few names\' work at a time, the order is the same; a shared prefix is partitioned over many steps, not in one', () => {
  for (let seed = 41; seed <= 60; seed++) {
    const prng = new Prng(seed);
    const names = Array.from({ length: Math.floor(prng.next() * 4000) }, () => (prng.next() < 0.2 ? '/same' : randomName(prng)));
    const units = [1, 3, 50, 2048][seed % 4] as number;
    const sort = new NameSort(names);
    let runs = 1;
    while (sort.run(units)) runs++;
    assert.deepEqual([...sort.indexes], [...sortedIndexes(names)], `seed ${seed}, ${units} a step`);
    assert.equal(sort.run(units), false, 'nothing left once done');
    if (names.length > 100) assert.ok(runs >= names.length / units, `seed ${seed}: ${runs} steps of ${units}`);
  }
  // Every name begins `/grow/g` (7 code units): each of those units is a pass over all of them,
  // which must be cut into steps too, or one step would be seven passes over a hundred thousand names.
  const names = Array.from({ length: 100_000 }, (_, i) => `/grow/g${(i * 7919) % 100_000}`);
  const sort = new NameSort(names);
  let runs = 1;
  while (sort.run(2048)) runs++;
  assert.ok(runs >= (7 * names.length) / 2048, `${runs} steps`);
  assert.deepEqual([...sort.indexes], [...sortedIndexes(names)]);
});
