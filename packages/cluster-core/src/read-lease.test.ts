import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { holdsLease, leaseUntil } from './read-lease.js';

test('the lease runs from the (quorum - 1)-th newest echoed send time', () => {
  assert.equal(leaseUntil([100, 300, 200], 2, 1000), 300 + 800);
  assert.equal(leaseUntil([100, 300, 200], 3, 1000), 200 + 800);
  assert.equal(leaseUntil([100], 3, 1000), Number.NEGATIVE_INFINITY);
  assert.equal(leaseUntil([], 1, 1000), Number.POSITIVE_INFINITY);
  assert.ok(holdsLease(1100, 1099) && !holdsLease(1100, 1100));
});
