// The radix sort puts names in the order the built-in sort does (UTF-16 code units), keeps equal
// names in their first order, and is not slowed down into quadratic time by names that share
// everything but their last code unit (such a sort would not finish within the test's limit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '@dpns/cluster-core';
import { NameSort, sortedIndexes } from './name-sort.js';

const ALPHABET = ['a', 'b', 'z', '/', '-', '.', '0', '9', 'é', '\u{1F600}', '\uE000', '\uFFFF', '"', '\\'];

/** The indexes of `names` in the built-in sort's order, equal names in their first order. */
function builtinOrder(names: readonly string[]): number[] {
  return names.map((name, i) => ({ name, i })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i)).map((x) => x.i);
}

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
    const expected = builtinOrder(names);
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
  // Every name begins `/grow/g` (7 code units): the first unit is a pass over all of them, and the
  // rest one more read of them all for the prefix they share, both cut into steps too; then the digits.
  const names = Array.from({ length: 100_000 }, (_, i) => `/grow/g${(i * 7919) % 100_000}`);
  const sort = new NameSort(names);
  let runs = 1;
  while (sort.run(2048)) runs++;
  assert.ok(runs >= (7 * names.length) / 2048, `${runs} steps`);
  assert.deepEqual([...sort.indexes], [...sortedIndexes(names)]);
});

/** Names in a Proxy that counts how many times one is read: the work a step does, without a clock. */
function counted(names: string[]): { names: string[]; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(names, {
    get(target, key, receiver) {
      if (typeof key === 'string' && key !== 'length' && /^[0-9]+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { names: proxy, reads: () => reads };
}

test('names sharing a long prefix, or made so each unit splits off only one of them, are sorted in bounded steps, in the built-in order', () => {
  const prng = new Prng(7);
  const digits = (): string => String(Math.floor(prng.next() * 1e9));
  const shapes: Record<string, string[]> = {
    // The prefix is skipped in one scan, not walked a unit at a time (a unit a pass was once 40 passes).
    'a 200-unit prefix': Array.from({ length: 5000 }, () => `/${'p'.repeat(200)}/${digits()}`),
    // Past DEEP units walked one by one, the rest is merge sorted: once it was one built-in sort of all 5,000 in one step.
    'one split off a unit': [...Array.from({ length: 40 }, (_, k) => `${'a'.repeat(k)}b`), ...Array.from({ length: 5000 }, () => `${'a'.repeat(40)}${prng.next() < 0.1 ? 'same' : digits()}`)],
  };
  for (const [shape, plain] of Object.entries(shapes)) {
    for (const units of [1, 64, 2048]) {
      const { names, reads } = counted(plain);
      const sort = new NameSort(names);
      let most = 0;
      for (let more = true; more;) {
        const before = reads();
        more = sort.run(units);
        most = Math.max(most, reads() - before);
      }
      // A step reads about `units` names, plus at most one block of the merge sort sorted whole (256 names, ~2 reads a comparison).
      assert.ok(most <= units + 6000, `${shape}, ${units} a step: a step read ${most} names`);
      // The shared prefix is read past in one pass: 16–18 reads a name in all; walked a unit a pass to the merge sort, ~55.
      if (shape === 'a 200-unit prefix') assert.ok(reads() <= 30 * plain.length, `${shape}: ${reads()} reads of ${plain.length} names`);
      const expected = builtinOrder(plain);
      assert.deepEqual([...sort.indexes], expected, `${shape}, ${units} a step`);
    }
  }
});

test('merge sorted ranges of every size around the block and its doublings come out in the built-in order', () => {
  for (const size of [1, 13, 255, 256, 257, 511, 512, 513, 1000, 1500]) {
    const prng = new Prng(size);
    // 40 names each splitting off one unit, then `size` names past that depth with short random tails and repeats.
    const deep = Array.from({ length: size }, () => `${'a'.repeat(40)}${String(Math.floor(prng.next() * 50))}`);
    const names = [...Array.from({ length: 40 }, (_, k) => `${'a'.repeat(k)}b`), ...deep];
    const expected = builtinOrder(names);
    assert.deepEqual([...sortedIndexes(names)], expected, `${size} deep names`);
  }
});
