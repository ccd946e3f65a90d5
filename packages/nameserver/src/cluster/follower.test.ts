import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@dpns/node-kit';
import { Follower, type ReplicaSink } from './follower.js';
import type { PeerLink } from './peer-link.js';
import type { WireRecord } from './peer-messages.js';

/** A follower of epoch 3 over a link that records what it sends, on a sink that stores at once. */
function rig() {
  const sent: unknown[] = [];
  const broken: string[] = [];
  let last = 5;
  let now = 1000;
  const link = { send: (m: unknown) => void sent.push(m) } as unknown as PeerLink;
  const sink: ReplicaSink = {
    position: () => ({ lastIndex: last, lastEpoch: 3 }),
    applied: () => last,
    append: (recs: WireRecord[]) => {
      last = (recs.at(-1) as WireRecord).i;
      return Promise.resolve();
    },
    install: () => Promise.resolve(),
  };
  const f = new Follower(0, 3, link, sink, createLogger({ level: 'silent', format: 'json' }), () => now, (why) => void broken.push(why));
  return { f, sent, broken, advance: (ms: number) => (now += ms) };
}

test('a tick with a lease round is echoed at once, repeating only an index already acknowledged', async () => {
  const { f, sent, advance } = rig();
  assert.deepEqual(sent.shift(), { t: 'follow', epoch: 3, lastIndex: 5, lastEpoch: 3 });
  advance(50);
  f.onTick(3, 5, 7);
  assert.deepEqual(sent.shift(), { t: 'ack', index: 0, seq: 7 }, 'nothing acknowledged yet: index 0, which no primary counts');
  assert.equal(f.lastHeard, 1050, 'the echo vouches for a frame heard now');
  f.onAppend({ t: 'append', epoch: 3, recs: [{ i: 6, d: { ops: [], ep: 3 } }] });
  await f.drained();
  assert.deepEqual(sent.shift(), { t: 'ack', index: 6 });
  f.onTick(3, 6, 8);
  assert.deepEqual(sent.shift(), { t: 'ack', index: 6, seq: 8 });
});

test('a tick without a round (an older primary) gets no answer; one of another epoch breaks off, unechoed', () => {
  const { f, sent, broken } = rig();
  sent.length = 0;
  f.onTick(3, 5, undefined);
  assert.deepEqual(sent, []);
  f.onTick(4, 5, 9);
  assert.deepEqual(sent, []);
  assert.equal(broken.length, 1);
});

test('it serves reads only once it has applied what the primary had sent when its first tick came', async () => {
  const { f } = rig();
  assert.equal(f.caughtUp, false, 'no tick yet: what it holds may be long out of date');
  f.onTick(3, 0, 1);
  assert.equal(f.caughtUp, false, 'a tick of index 0: the primary is still making a snapshot for it');
  f.onTick(3, 7, 2);
  assert.equal(f.caughtUp, false, 'the primary had sent up to 7; it holds 5');
  f.onAppend({ t: 'append', epoch: 3, recs: [{ i: 6, d: { ops: [], ep: 3 } }] });
  await f.drained();
  f.onTick(3, 9, 3);
  assert.equal(f.caughtUp, false, 'still short of 7: a later tick does not move the mark');
  f.onAppend({ t: 'append', epoch: 3, recs: [{ i: 7, d: { ops: [], ep: 3 } }] });
  await f.drained();
  assert.equal(f.caughtUp, true);
  f.onAppend({ t: 'append', epoch: 3, recs: [{ i: 8, d: { ops: [], ep: 3 } }, { i: 9, d: { ops: [], ep: 3 } }] });
  f.onTick(3, 12, 4);
  assert.equal(f.caughtUp, true, 'once caught up it lags only by what is in flight');
});
