import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';

const b = (s: string) => Buffer.from(s);

test('nesting is counted over objects and arrays, not brackets inside strings', () => {
  assert.equal(nestsDeeperThan(b('[[[1]]]'), 3), false);
  assert.equal(nestsDeeperThan(b('[[[[1]]]]'), 3), true);
  assert.equal(nestsDeeperThan(b('{"a":{"b":{"c":{}}}}'), 3), true);
  assert.equal(nestsDeeperThan(b(`{"a":"${'['.repeat(100)}"}`), 3), false);
  assert.equal(nestsDeeperThan(b(`{"a":"\\"${'['.repeat(100)}"}`), 3), false, 'an escaped quote does not end the string');
  assert.equal(nestsDeeperThan(b('[1],[2],[3],[4],[5]'), 1), false, 'siblings do not add up');
});

test('a real request is far from the limit; a megabyte of brackets is caught in one quick pass', () => {
  const req = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'register.add', params: { name: '/a', spec: { host: 'h', program: 'p', args: ['x'], env: { A: '1' } } } });
  assert.equal(nestsDeeperThan(b(`[${req},${req}]`), MAX_JSON_DEPTH), false);
  const deep = b('['.repeat(1 << 20));
  assert.equal(nestsDeeperThan(deep, MAX_JSON_DEPTH), true);
});
