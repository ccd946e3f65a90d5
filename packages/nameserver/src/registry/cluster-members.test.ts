// The cluster's configuration as the registry keeps it: a configuration record changes no entry,
// only the voters and the address book, and every kind of snapshot carries them, so a member
// restored from one knows the configuration without the records it lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotLines } from '../storage/snapshot-stream.js';
import { isLogRecord } from './ops.js';
import { Registry } from './registry.js';
import { registrySnapshotOf, snapshotLines } from './snapshot-lines.js';

const add3 = { voters: [0, 1, 2, 3], change: { op: 'add' as const, sid: 3, addr: '127.0.0.1:7003' } };
const remove1 = { voters: [0, 2, 3], change: { op: 'remove' as const, sid: 1 } };

test('a configuration record changes no entry, only the voters and the address book', () => {
  const reg = new Registry();
  assert.equal(reg.clusterMembers, undefined);
  reg.applyRecord({ ops: [], ep: 1 }, 1);
  assert.deepEqual(reg.applyRecord({ ops: [], ep: 1, config: add3 }, 2), []);
  assert.equal(reg.revision, 2);
  assert.equal(reg.size, 0);
  assert.deepEqual(reg.clusterMembers, { voters: [0, 1, 2, 3], addrs: [[3, '127.0.0.1:7003']] });
  reg.applyRecord({ ops: [], ep: 1, config: remove1 }, 3);
  // A removed member's address stays: SIDs are never reused.
  assert.deepEqual(reg.clusterMembers, { voters: [0, 2, 3], addrs: [[3, '127.0.0.1:7003']] });
});

test('a malformed configuration record is not a log record', () => {
  assert.equal(isLogRecord({ ops: [], config: add3 }), true);
  assert.equal(isLogRecord({ ops: [], config: { voters: [-1], change: { op: 'add', sid: 1 } } }), false);
  assert.equal(isLogRecord({ ops: [], config: { voters: [0], change: { op: 'join', sid: 1 } } }), false);
});

test('snapshots as JSON (as older primaries sent them) and as lines carry the configuration, and load it back', async () => {
  const reg = new Registry();
  reg.applyRecord({ ops: [], ep: 2, config: add3 }, 1);
  const fromJson = new Registry();
  fromJson.load(JSON.parse(JSON.stringify(reg.snapshot())) as ReturnType<Registry['snapshot']>);
  assert.deepEqual(fromJson.clusterMembers, reg.clusterMembers);
  const image = reg.image();
  let text = '';
  for await (const batch of snapshotLines(image)) text += batch;
  image.release();
  const fromLines = new Registry();
  fromLines.load(registrySnapshotOf(SnapshotLines.fromText(text.split('\n').slice(0, -1))));
  assert.deepEqual(fromLines.clusterMembers, reg.clusterMembers);
  // A registry loaded from a snapshot without one is back to the bootstrap list's configuration.
  fromLines.load({ revision: 0, entries: [] });
  assert.equal(fromLines.clusterMembers, undefined);
});
