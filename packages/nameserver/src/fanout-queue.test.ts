import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FanoutQueue } from './fanout-queue.js';

const tail = new Uint8Array(0);

/** Takes up to `max` frames of the first sink in line, as the fan-out does; the sink's name and its heads. */
function take(q: FanoutQueue<{ name: string }>, max: number): [string, string[]] | undefined {
  const w = q.first();
  if (w === undefined) return undefined;
  const n = Math.min(max, w.heads.length - w.from);
  const heads = w.heads.slice(w.from, w.from + n);
  q.takenFromFirst(n);
  return [w.sink.name, heads];
}

test('sinks take turns in the order they came to have frames, each its own frames in order', () => {
  const q = new FanoutQueue<{ name: string }>();
  const [a, b, c] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
  q.push(a, 'a1', tail);
  q.push(b, 'b1', tail);
  q.push(a, 'a2', tail);
  q.push(c, 'c1', tail);
  q.push(a, 'a3', tail);
  assert.equal(q.length, 5);
  assert.deepEqual(take(q, 2), ['a', ['a1', 'a2']], 'a goes first, two at most');
  assert.deepEqual(take(q, 2), ['b', ['b1']]);
  q.push(b, 'b2', tail);
  assert.deepEqual(take(q, 2), ['c', ['c1']]);
  assert.deepEqual(take(q, 2), ['a', ['a3']], 'a, with a frame left, went to the back of the line');
  assert.deepEqual(take(q, 2), ['b', ['b2']], 'b came to have frames again after a did');
  assert.equal(take(q, 2), undefined);
  assert.equal(q.length, 0);
});

test('thousands of sinks and long backlogs go through whole and in order', () => {
  const q = new FanoutQueue<{ name: string }>();
  const sinks = Array.from({ length: 3000 }, (_, i) => ({ name: `s${i}` }));
  const want = new Map<string, string[]>();
  for (let round = 0; round < 5; round++) {
    for (const s of sinks) q.push(s, `${s.name}/${round}`, tail);
  }
  const busy = sinks[7] as { name: string };
  for (let i = 5; i < 5000; i++) q.push(busy, `${busy.name}/${i}`, tail);
  for (const s of sinks) want.set(s.name, Array.from({ length: s === busy ? 5000 : 5 }, (_, i) => `${s.name}/${i}`));
  const got = new Map<string, string[]>();
  let turns = 0;
  for (let t = take(q, 3); t !== undefined; t = take(q, 3)) {
    got.set(t[0], [...(got.get(t[0]) ?? []), ...t[1]]);
    turns++;
  }
  assert.deepEqual(got, want);
  assert.equal(turns, 2999 * 2 + Math.ceil(5000 / 3));
  assert.equal(q.length, 0);
});
