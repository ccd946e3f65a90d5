import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreLog, type WireRecord } from '@dpns/cluster-core';
import { recoveredLogOf } from './recovered-tail.js';

// Records 11..10010 after a snapshot at 10 (epoch 1, voters [0]): epochs rise, and two configuration records change the voters.
function replayed(): WireRecord[] {
  return Array.from({ length: 10_000 }, (_, k) => {
    const i = 11 + k;
    const d: WireRecord['d'] = { ops: [], ep: 1 + Math.floor(k / 3000) };
    if (i === 500) return { i, d: { ...d, config: { voters: [0, 1] } } };
    if (i === 9_990) return { i, d: { ...d, config: { voters: [0, 1, 2] } } };
    return { i, d };
  });
}

void test('the tail keeps the newest records, and the log made from it answers as one made from them all', () => {
  for (const capacity of [100, 1024, 20_000]) {
    const all = replayed();
    const tail = new CoreLog(capacity, [], 10, 1, [0]);
    for (const r of all) tail.push(r);
    const kept = recoveredLogOf(tail);
    assert.ok(kept.records.length >= Math.min(capacity, all.length) && kept.records.length <= capacity * 1.25, `${kept.records.length} records kept`);
    assert.equal(kept.baseIndex + kept.records.length, 10_010);
    const fromTail = new CoreLog(capacity, kept.records, kept.baseIndex, kept.baseEpoch, kept.voters ?? []);
    const fromAll = new CoreLog(capacity, all, 10, 1, [0]);
    assert.deepEqual(fromTail.position(), fromAll.position());
    assert.deepEqual(fromTail.config, fromAll.config);
    const from = Math.max(fromTail.firstAfter, fromAll.firstAfter);
    assert.deepEqual(fromTail.after(from), fromAll.after(from));
    for (const index of [from, from + 1, 9_989, 9_990, 10_010]) {
      assert.deepEqual(fromTail.configAt(index).voters, fromAll.configAt(index).voters, `voters at ${index}, capacity ${capacity}`);
      assert.equal(fromTail.epochAt(index), fromAll.epochAt(index), `epoch at ${index}, capacity ${capacity}`);
    }
  }
});

void test('the base moves with the records let go of: its epoch, and the voters a configuration record let go of made', () => {
  const tail = new CoreLog(2, [], 0, 0, [0]);
  for (let i = 1; i <= 6; i++) tail.push({ i, d: { ops: [], ep: 1 } });
  tail.push({ i: 7, d: { ops: [], ep: 2, config: { voters: [3] } } });
  for (let i = 8; i <= 12; i++) tail.push({ i, d: { ops: [], ep: 2 } });
  const kept = recoveredLogOf(tail);
  assert.deepEqual(kept.voters, [3]);
  assert.equal(kept.baseEpoch, 2);
  assert.deepEqual(kept.records.map((r) => r.i), Array.from({ length: 12 - kept.baseIndex }, (_, k) => kept.baseIndex + 1 + k));
  assert.ok(kept.baseIndex >= 7, `base ${kept.baseIndex}: the configuration record was let go of`);
});
