import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdsLease, LEASE_FRACTION, leaseSpanMs, leaseUntil } from './read-lease.js';

const WINDOW = 600;

test('a stand-alone server (quorum 1) always holds the lease, with or without backups', () => {
  assert.equal(leaseUntil([], 1, WINDOW), Number.POSITIVE_INFINITY);
  assert.equal(holdsLease(leaseUntil([], 1, WINDOW), 1e12), true);
});

test('the lease runs from the (quorum-1)-th newest acknowledged send time, plus the margin-adjusted window', () => {
  // 3 members: the primary and one backup are a majority, so the newest backup counts.
  assert.equal(leaseUntil([1000, 1200], 2, WINDOW), 1200 + WINDOW * LEASE_FRACTION);
  // 5 members: two backups needed, so the second newest.
  assert.equal(leaseUntil([1000, 1300, 1200, 900], 3, WINDOW), 1200 + WINDOW * LEASE_FRACTION);
});

test('too few backups heard from: no lease at all', () => {
  assert.equal(leaseUntil([], 2, WINDOW), Number.NEGATIVE_INFINITY);
  assert.equal(leaseUntil([5000], 3, WINDOW), Number.NEGATIVE_INFINITY);
  assert.equal(holdsLease(leaseUntil([5000], 3, WINDOW), 5001), false);
});

test('the lease ends strictly before the failure window after the round it rests on', () => {
  const until = leaseUntil([1000], 2, WINDOW);
  assert.equal(holdsLease(until, 1000 + leaseSpanMs(WINDOW) - 1), true);
  assert.equal(holdsLease(until, 1000 + leaseSpanMs(WINDOW)), false);
  assert.ok(leaseSpanMs(WINDOW) < WINDOW);
  // Longer than one heartbeat round at --cluster-misses 2, so a healthy primary renews in time.
  assert.ok(leaseSpanMs(2 * 150) > 150);
});

test('after a pause every acknowledged round is old, however fresh the acks look on arrival: refused', () => {
  // The primary sent its last rounds at 10_000 and 10_150, then stood still for 6 s; the acks
  // queued in its socket arrive at 16_150 but carry those send times.
  const until = leaseUntil([10_000, 10_150], 2, WINDOW);
  assert.equal(holdsLease(until, 16_150), false);
  assert.equal(holdsLease(until, 10_150 + 1), true);
});

test('the order of the inputs does not matter, and the input is not changed', () => {
  const times = [3, 1, 2];
  assert.equal(leaseUntil(times, 3, 10), 2 + 10 * LEASE_FRACTION);
  assert.deepEqual(times, [3, 1, 2]);
});
