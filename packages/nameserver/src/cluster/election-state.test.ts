import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELECTION_FILE, ElectionState } from './election-state.js';

test('the epoch and vote survive a reopen, and the epoch never goes back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-election-'));
  try {
    const a = await ElectionState.open(dir);
    assert.equal(a.epoch, 0);
    a.save({ epoch: 3, votedFor: 2 });
    const b = await ElectionState.open(dir);
    assert.equal(b.epoch, 3);
    assert.equal(b.votedFor, 2);
    assert.throws(() => b.save({ epoch: 2 }), /may not go back/);
    await writeFile(join(dir, ELECTION_FILE), '{"epoch":"x"}');
    await assert.rejects(ElectionState.open(dir), /damaged/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
