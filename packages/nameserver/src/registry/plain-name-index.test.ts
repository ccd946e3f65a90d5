// The hash index of a snapshot's plain service lines: every plain name found at its line, and
// nothing else; the lines it cannot read a name from listed; a name on two lines reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotLines } from '../storage/snapshot-stream.js';
import { PlainNameIndex } from './plain-name-index.js';

const service = (name: string): string => JSON.stringify({ kind: 'service', name, state: 'stopped', since: 1 });

void test('finds each plain service at its line, and no name that is not one', () => {
  const names = Array.from({ length: 3000 }, (_, i) => `/n/${i}`);
  const others = [
    JSON.stringify({ kind: 'alias', name: '/alias', target: '/n/1', since: 1 }),
    service('/q"uote'), service('/back\\slash'), service('/caf\u00e9'), service(''),
    JSON.stringify({ name: '/name-first', kind: 'service', state: 'stopped', since: 1 }),
  ];
  const text = ['{"head":1}', ...names.map(service), ...others, '{"ticket":1}'];
  const lines = SnapshotLines.fromText(text);
  const index = PlainNameIndex.build(lines, 1, 1 + names.length + others.length);
  assert.equal(index.count, names.length);
  assert.equal(index.duplicated, false);
  assert.deepEqual(index.others, others.map((_, j) => 1 + names.length + j));
  names.forEach((n, j) => {
    assert.equal(index.find(n), 1 + j, n);
    assert.equal(index.nameAt(1 + j), n);
  });
  assert.deepEqual([...index.indexed()].sort((a, b) => a - b), names.map((_, j) => 1 + j));
  // Prefixes and extensions of names, the parsed lines' names, and what no plain line can hold.
  for (const n of ['/n/', '/n/1x', '/n/29999', '/n', '/alias', '/q"uote', '/back\\slash', '/caf\u00e9', '', '/name-first', '"', '/n/1"']) {
    assert.equal(index.find(n), -1, JSON.stringify(n));
  }
});

void test('a name on two lines is reported, and held once', () => {
  const lines = SnapshotLines.fromText([service('/a'), service('/b'), service('/a')]);
  const index = PlainNameIndex.build(lines, 0, 3);
  assert.equal(index.duplicated, true);
  assert.equal(index.count, 2);
  assert.equal(index.find('/a'), 0);
});

void test('an empty range has an empty index', () => {
  const index = PlainNameIndex.build(SnapshotLines.fromText(['{"head":1}']), 1, 1);
  assert.equal(index.count, 0);
  assert.equal(index.find('/a'), -1);
  assert.deepEqual([...index.indexed()], []);
});
