import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationText } from './duration-text.js';

test('durations read as Go prints them', () => {
  assert.equal(durationText(800), '800ms');
  assert.equal(durationText(1000), '1s');
  assert.equal(durationText(2500), '2.5s');
  assert.equal(durationText(45_000), '45s');
  assert.equal(durationText(600_000), '10m0s');
  assert.equal(durationText(5_400_000), '1h30m0s');
  assert.equal(durationText(30 * 86_400_000), '720h0m0s');
});
