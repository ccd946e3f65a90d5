import { test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { Heartbeat } from './heartbeat.js';

/** A heartbeat of 1000 ms on a clock the test moves; never started, so no socket is needed. */
function beat(): { hb: Heartbeat; clock: { t: number } } {
  const clock = { t: 0 };
  const hb = new Heartbeat(undefined as unknown as WebSocket, 1000, () => undefined, () => undefined, () => clock.t);
  return { hb, clock };
}

test('a request with nothing heard for a quarter beat makes the server suspect, long before a missed ping would', () => {
  const { hb, clock } = beat();
  clock.t = 100;
  hb.sent();
  clock.t = 300;
  assert.equal(hb.silent, false);
  clock.t = 351;
  assert.equal(hb.silent, true, 'a quarter beat after the request, with nothing heard');
  hb.heard();
  assert.equal(hb.silent, false, 'anything heard (an answer, a pong) clears the suspicion');
});

test('the quarter beat runs from the first unanswered request, not the latest', () => {
  const { hb, clock } = beat();
  hb.sent();
  clock.t = 200;
  hb.sent();
  clock.t = 260;
  assert.equal(hb.silent, true);
});

test('with no request out, only a missed ping (1.25 beats of silence) makes the server suspect', () => {
  const { hb, clock } = beat();
  clock.t = 1000;
  assert.equal(hb.silent, false);
  clock.t = 1251;
  assert.equal(hb.silent, true);
});
