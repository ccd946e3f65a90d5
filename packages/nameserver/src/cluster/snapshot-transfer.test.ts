// A primary's snapshot for a backup: a format-3 snapshot file's text that the backup checks and
// loads as a restart would (snapshot-transfer.ts, replica.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceView } from '@dpns/protocol';
import { Registry } from '../registry/registry.js';
import { registrySnapshotOf } from '../registry/snapshot-lines.js';
import { decodeSnapshot } from '../storage/snapshot.js';
import { isSnapshotFileText, snapshotForBackup } from './snapshot-transfer.js';

const svc = (name: string, port: number): ServiceView => ({ kind: 'service', name, state: 'running', since: 0, host: 'h', port, static: true } as ServiceView);

test('a snapshot for a backup is a format-3 file of the registry at its revision, loaded back whole', async () => {
  const reg = new Registry();
  for (let i = 0; i < 5000; i++) reg.apply([{ t: 'put', e: svc(`/s/n${i}`, 1000 + (i % 1000)) }], i + 1);
  reg.apply([{ t: 'put', e: { kind: 'alias', name: '/a', target: '/s/n7', since: 0 } as never }], 5001);
  const { index, parts } = await snapshotForBackup(reg);
  assert.ok(parts.length > 3, 'made in parts: a head, batches of entries, a trailer');
  const text = parts.join('');
  assert.equal(index, 5001);
  assert.ok(isSnapshotFileText(text));
  assert.ok(!isSnapshotFileText(JSON.stringify(reg.snapshot())), 'a JSON document (an older primary\'s) is told apart');
  const d = decodeSnapshot(Buffer.from(text, 'utf8'), index);
  assert.ok(d.ok, d.ok ? '' : d.reason);
  const back = new Registry();
  back.load(registrySnapshotOf(d.state));
  assert.equal(back.revision, 5001);
  assert.equal(back.size, reg.size);
  assert.deepEqual(back.get('/s/n4321'), reg.get('/s/n4321'));
  assert.deepEqual(back.resolve('/a').service, reg.get('/s/n7'));
});

test('a snapshot changed on the way, or for another index, does not check out', async () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: svc('/x', 1) }], 1);
  const { index, parts } = await snapshotForBackup(reg);
  const text = parts.join('');
  const flipped = Buffer.from(text.replace('"port":1', '"port":2'), 'utf8');
  const bad = decodeSnapshot(flipped, index);
  assert.ok(!bad.ok && /CRC-32 mismatch/.test(bad.reason));
  const other = decodeSnapshot(Buffer.from(text, 'utf8'), index + 1);
  assert.ok(!other.ok && /does not match/.test(other.reason));
  const cut = decodeSnapshot(Buffer.from(text.slice(0, -5), 'utf8'), index);
  assert.ok(!cut.ok);
});
