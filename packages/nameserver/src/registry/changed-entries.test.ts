// A name changed more than once comes out once, in name order, with its last change's entry
// (undefined when that change removed it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryView } from '@dpns/protocol';
import { ChangedEntries } from './changed-entries.js';

function svc(name: string, port: number): EntryView {
  return { kind: 'service', name, state: 'running', since: 1, host: 'h', port, advertiser: { kind: 'static' } } as EntryView;
}

test('each changed name once, in order, with the entry of its last change', async () => {
  const c = new ChangedEntries();
  c.add('/b', svc('/b', 1));
  c.add('/a', svc('/a', 1));
  c.add('/b', undefined);
  c.add('/c', undefined);
  c.add('/c', svc('/c', 3));
  c.add('/b', svc('/b', 2));
  c.add('/a', undefined);
  assert.equal(c.changes, 7);
  const { names, entries } = await c.inOrder();
  assert.deepEqual(names, ['/a', '/b', '/c']);
  assert.deepEqual(entries, [undefined, svc('/b', 2), svc('/c', 3)]);
});

test('nothing changed: nothing in order', async () => {
  assert.deepEqual(await new ChangedEntries().inOrder(), { names: [], entries: [] });
});

test('sorted in slices, with the event loop let go between them: the same names and entries', async () => {
  const c = new ChangedEntries();
  for (let i = 0; i < 30_000; i++) c.add(`/s/${(i * 7919) % 20_000}`, i % 5 === 0 ? undefined : svc(`/s/${(i * 7919) % 20_000}`, i));
  let pauses = 0;
  const sliced = await c.inOrder(0, async () => {
    pauses++;
  });
  assert.deepEqual(sliced, await c.inOrder());
  assert.equal(sliced.names.length, 20_000);
  // A slice of 0 ms: the loop is let go after every step of the sort.
  assert.ok(pauses >= 30_000 / 2048, `${pauses} pauses`);
});
