import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreLog, type WireRecord } from '@dpns/cluster-core';
import { RecoveredTail } from './recovered-tail.js';

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
    const tail = new RecoveredTail(capacity, { baseIndex: 10, baseEpoch: 1, voters: [0] });
    for (const r of all) tail.push(r);
    const kept = tail.log();
    assert.equal(kept.records.length, Math.min(capacity, all.length));
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

void test('voters the snapshot did not name stay unnamed until a record let go of names them', () => {
  const tail = new RecoveredTail(2, { baseIndex: 0, baseEpoch: 0, voters: undefined });
  for (let i = 1; i <= 6; i++) tail.push({ i, d: { ops: [], ep: 1 } });
  assert.equal(tail.log().voters, undefined);
  assert.deepEqual([tail.log().baseIndex, tail.log().baseEpoch], [4, 1]);
  tail.push({ i: 7, d: { ops: [], ep: 2, config: { voters: [3] } } });
  for (let i = 8; i <= 9; i++) tail.push({ i, d: { ops: [], ep: 2 } });
  assert.deepEqual(tail.log().voters, [3]);
});
