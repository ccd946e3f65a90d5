// The registry snapshot as lines: every part comes back as it was, and a format-1 object passes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryView } from '@dpns/protocol';
import { registrySnapshotOf, snapshotLines } from './snapshot-lines.js';
import type { RegistrySnapshot } from './registry.js';

async function elements(snap: RegistrySnapshot): Promise<unknown[]> {
  let text = '';
  for await (const batch of snapshotLines(snap)) text += batch;
  assert.ok(text === '' || text.endsWith('\n'));
  return text.split('\n').slice(0, -1).map((l) => JSON.parse(l) as unknown);
}

test('a snapshot written as lines reads back equal, small or spanning many batches', async () => {
  const entry = (i: number): EntryView => ({ kind: 'service', name: `/s/${i}`, state: 'running', since: i, host: 'h"\n\\x', port: 1 + (i % 9), advertiser: { kind: 'session' } });
  const cases: RegistrySnapshot[] = [
    { revision: 0, entries: [] },
    { revision: 7, entries: [entry(1)], tickets: [], epoch: 3, requests: [] },
    {
      revision: 8, entries: [], tickets: [], epoch: 1, requests: [],
      agents: [{ host: 'h1', key: 'ab'.repeat(32), at: 5, how: 'join' }], joins: [{ id: '01'.repeat(8), key: 'cd'.repeat(32), expires: 9, host: 'h2' }],
    },
    {
      revision: 9001, entries: Array.from({ length: 4567 }, (_, i) => entry(i)),
      tickets: Array.from({ length: 2001 }, (_, i) => [`/s/${i}`, { launchId: 'a', service: 'b', nameserver: 'c' }]), epoch: 2,
      requests: Array.from({ length: 4001 }, (_, i) => [`r${i}`, i]),
    },
  ];
  for (const snap of cases) assert.deepEqual(registrySnapshotOf(await elements(snap)), snap);
});

test('a format-1 snapshot (one object) is taken as it is; anything else is refused', () => {
  const snap: RegistrySnapshot = { revision: 3, entries: [], epoch: 1 };
  assert.equal(registrySnapshotOf(snap), snap);
  assert.throws(() => registrySnapshotOf({ other: true }), /belongs to something else/);
  assert.throws(() => registrySnapshotOf([{ nohead: 1 }]), /no registry head/);
  assert.throws(() => registrySnapshotOf([{ revision: 1, entries: 2 }, {}]), /counts 2 elements, the file has 1/);
});
