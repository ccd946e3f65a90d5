// Schedules on several worker threads give the answer one thread gives: the same lowest failing
// seed (with its trace), the same count, whatever order the blocks finish in.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runCampaign } from './campaign.js';
import { runParallelCampaign } from './parallel-campaign.js';

test('a parallel campaign reports the lowest failing seed, as a single thread does', { timeout: 120_000 }, async () => {
  // From seed 10: seeds 2, 4 and 6 to 9 fail too, and the failing seed's block would be the first.
  const one = runCampaign(10, 40, 'vote-without-log-check');
  assert.equal(one.failure?.seed, 14);
  // Blocks of 2 seeds on 3 threads: the failing seed's block is not the first to start or end.
  const many = await runParallelCampaign(10, 40, { jobs: 3, plant: 'vote-without-log-check', block: 2 }).done;
  assert.equal(many.failure?.seed, one.failure.seed);
  assert.equal(many.failure.traceHash, one.failure.traceHash);
  assert.equal(many.ran, one.ran);
  assert.equal(many.operations, one.operations);
});

test('a parallel campaign with no failure runs every seed once', { timeout: 120_000 }, async () => {
  const one = runCampaign(1, 30);
  const c = runParallelCampaign(1, 30, { jobs: 2, block: 4 });
  const many = await c.done;
  assert.equal(many.failure, undefined);
  assert.equal(many.ran, 30);
  assert.equal(many.operations, one.operations);
  assert.equal(c.heldThrough(), 30);
});
