import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_LOGIN_FAILURES, onLoginFailure } from './login-guard.js';

test('two free failures, then doubling delays, and the fifth closes', () => {
  const v = Array.from({ length: MAX_LOGIN_FAILURES }, (_, i) => onLoginFailure(i));
  assert.deepEqual(v.map((x) => x.delayMs), [0, 0, 500, 1000, 2000]);
  assert.deepEqual(v.map((x) => x.close), [false, false, false, false, true]);
});

test('proofs pipelined after the closing one cost no timer and close nothing again', () => {
  for (const failures of [MAX_LOGIN_FAILURES, MAX_LOGIN_FAILURES + 1, 1000]) {
    assert.deepEqual(onLoginFailure(failures), { delayMs: 0, close: false });
  }
});
