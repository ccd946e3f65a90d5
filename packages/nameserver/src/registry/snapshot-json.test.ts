import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryView } from '@dpns/protocol';
import { snapshotJson } from './snapshot-json.js';
import type { RegistrySnapshot } from './registry.js';

test('the sliced text is exactly JSON.stringify of the snapshot (keys in the registry\'s order), small or large', async () => {
  const entry = (i: number): EntryView => ({ kind: 'service', name: `/s/${i}`, state: 'running', since: i, host: 'h"\\x', port: 1 + (i % 9), advertiser: { kind: 'session' } });
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
  for (const snap of cases) assert.equal(await snapshotJson(snap), JSON.stringify(snap));
});

test('other work runs while a large snapshot is serialised', async () => {
  const snap: RegistrySnapshot = { revision: 1, entries: Array.from({ length: 20_000 }, (_, i): EntryView => ({ kind: 'alias', name: `/a/${i}`, target: '/t', since: 0 })) };
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  await snapshotJson(snap);
  clearInterval(timer);
  assert.ok(ticks > 0, 'the event loop was not held for the whole serialisation');
});

test('arrays of exactly one slice, or several, are still JSON.stringify\'s text', async () => {
  for (const n of [2000, 4000]) {
    const snap: RegistrySnapshot = { revision: 1, entries: Array.from({ length: n }, (_, i): EntryView => ({ kind: 'alias', name: `/a/${i}`, target: '/t', since: 0 })) };
    assert.equal(await snapshotJson(snap), JSON.stringify(snap));
  }
});
