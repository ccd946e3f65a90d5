// The watch benchmark's verdict "every watcher saw every write" rests on these counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionCounts } from './bench/connection-counts.js';

test('a frame listing every watch once counts one event for each, in any order the server keeps', () => {
  const c = new ConnectionCounts();
  for (const id of ['w1', 'w2', 'w3']) c.add(id);
  c.event('"w2","w1","w3"');
  c.event('"w2","w1","w3"');
  c.event('"w1","w2","w3"');
  assert.deepEqual([...c.values()], [3, 3, 3]);
  assert.equal(c.size, 3);
});

test('a frame listing some watches, a watch twice or an unknown id is counted id by id', () => {
  const c = new ConnectionCounts();
  for (const id of ['w1', 'w2', 'w3']) c.add(id);
  c.event('"w1","w2"');
  c.event('"w1","w1","w2"');
  c.event('"w1","w2","w9"');
  c.event('"w3","w2","w1"');
  assert.deepEqual([...c.values()], [5, 4, 1]);
});

test('a watch added later has seen nothing, and whole frames before it are not its own', () => {
  const c = new ConnectionCounts();
  c.add('w1');
  c.event('"w1"');
  c.add('w2');
  c.event('"w1"');
  c.event('"w1","w2"');
  assert.deepEqual([...c.values()], [3, 1]);
});
