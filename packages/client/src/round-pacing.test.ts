import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ELECTION_CEILING_MS, ELECTION_FAST_MS, ELECTION_PATIENCE_MS, RoundPacing } from './round-pacing.js';

const DEFAULTS = { minDelayMs: 50, maxDelayMs: 2000 };

/** A pacing on a clock the test moves: each wait it hands out is slept at once. */
function paced(random: () => number = () => 1): { pacing: RoundPacing; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  return { pacing: new RoundPacing(DEFAULTS, () => clock.t, random), clock };
}

/** The waits after failed rounds that all found servers but no primary, until `untilMs` has passed. */
function electionWaits(pacing: RoundPacing, clock: { t: number }, untilMs: number): number[] {
  const start = clock.t;
  const waits: number[] = [];
  while (clock.t - start < untilMs) {
    const d = pacing.after(true);
    waits.push(d);
    clock.t += d;
  }
  return waits;
}

test('while a cluster elects, rounds are never further apart than the ceiling, however long it takes (short of patience)', () => {
  const { pacing, clock } = paced();
  const waits = electionWaits(pacing, clock, ELECTION_PATIENCE_MS - 200);
  assert.ok(waits.every((d) => d <= ELECTION_CEILING_MS), waits.join());
  // The first rounds after a primary dies are the fast ones.
  const fast = waits.slice(0, 10);
  assert.ok(fast.every((d) => d >= 5 && d <= 15), fast.join());
  // A primary elected at any moment is found within one wait of it: no exponential tail.
  assert.equal(Math.max(...waits), ELECTION_CEILING_MS);
  assert.ok(waits.length > (ELECTION_PATIENCE_MS - ELECTION_FAST_MS) / ELECTION_CEILING_MS, String(waits.length));
});

test('a cluster that elects no one for the patience gets the ordinary back-off, up to its maximum', () => {
  const { pacing, clock } = paced();
  electionWaits(pacing, clock, ELECTION_PATIENCE_MS);
  const later = [1, 2, 3, 4, 5, 6, 7, 8].map(() => pacing.after(true));
  assert.deepEqual(later, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
});

test('rounds that reach no server back off exponentially from the first', () => {
  const { pacing } = paced();
  assert.deepEqual([1, 2, 3, 4].map(() => pacing.after(false)), [50, 100, 200, 400]);
  // Servers answering again starts a fast election phase.
  assert.ok(pacing.after(true) <= 15);
});

test('an open connection resets everything: the next failover starts fast again', () => {
  const { pacing, clock } = paced();
  electionWaits(pacing, clock, ELECTION_PATIENCE_MS + 3000);
  pacing.after(false);
  pacing.reset();
  assert.ok(pacing.after(true) <= 15);
  assert.equal(pacing.after(false), 50);
});

test('a reconnect maximum below the ceiling caps election rounds too', () => {
  const clock = { t: 0 };
  const pacing = new RoundPacing({ minDelayMs: 5, maxDelayMs: 20 }, () => clock.t, () => 1);
  const waits = electionWaits(pacing, clock, ELECTION_PATIENCE_MS - 100);
  assert.ok(waits.every((d) => d <= 20), waits.join());
});
