// The cluster core's PeerTransport over a PeerLink: the guard on frames (every message type
// passes, nothing else does) and the snapshot's chunks on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerMessage, SnapshotChunk } from '@dpns/cluster-core';
import type { PeerLink } from './peer-link.js';
import { goesOnDialedLink, isPeerMessage, PeerTransportLink, SNAPSHOT_CHUNK } from './peer-transport.js';

test('each kind of peer message is recognised by its tag', () => {
  for (const t of ['beat', 'prevote', 'vote', 'prevote-ans', 'vote-ans', 'follow', 'append', 'snap', 'tick', 'ack', 'refuse']) {
    assert.equal(isPeerMessage({ t }), true, t);
  }
});

test('anything else is not a peer message', () => {
  for (const v of [null, undefined, 'beat', 1, [], {}, { t: '' }, { t: 'hello' }, { t: 'BEAT' }, { type: 'beat' }]) {
    assert.equal(isPeerMessage(v), false, JSON.stringify(v));
  }
});

/** A PeerLink's surface as PeerTransportLink uses it: what is sent, and a way to deliver frames. */
function fakeLink(): { link: PeerLink; frames: unknown[]; deliver: (m: unknown) => void } {
  const frames: unknown[] = [];
  const fake = { peerSid: 2, open: true, onMessage: (_m: unknown) => undefined as void, onClose: (_why: string) => undefined as void, send: (m: unknown) => frames.push(m), close: () => undefined };
  return { link: fake as unknown as PeerLink, frames, deliver: (m) => fake.onMessage(m) };
}

test('a snapshot goes in chunks of 1 MiB, the last one marked and carrying the voters, and comes out whole', () => {
  const a = fakeLink();
  const t = new PeerTransportLink(a.link);
  const data = 'x'.repeat(SNAPSHOT_CHUNK * 2 + 5);
  t.send({ t: 'snap', epoch: 3, index: 40, data, last: true, voters: [0, 1, 2] });
  const chunks = a.frames as SnapshotChunk[];
  assert.deepEqual(chunks.map((c) => [c.data.length, c.last, c.voters]), [[SNAPSHOT_CHUNK, false, undefined], [SNAPSHOT_CHUNK, false, undefined], [5, true, [0, 1, 2]]]);
  const b = fakeLink();
  const got: PeerMessage[] = [];
  new PeerTransportLink(b.link).onMessage = (m) => got.push(m);
  for (const c of chunks) b.deliver(c);
  assert.deepEqual(got, [{ t: 'snap', epoch: 3, index: 40, data, last: true, voters: [0, 1, 2] }]);
  // A small one goes as it is; frames that are not peer messages never reach the core.
  t.send({ t: 'snap', epoch: 3, index: 41, data: '{}', last: true });
  assert.deepEqual(a.frames.at(-1), { t: 'snap', epoch: 3, index: 41, data: '{}', last: true });
  b.deliver({ t: 'hello' });
  assert.equal(got.length, 1);
});

test('requests go on the link a member dialed, answers and the primary\'s stream on the one it accepted', () => {
  const dialed = ['beat', 'prevote', 'vote', 'follow', 'ack'];
  for (const t of ['beat', 'prevote', 'vote', 'prevote-ans', 'vote-ans', 'follow', 'append', 'snap', 'tick', 'ack', 'refuse']) {
    assert.equal(goesOnDialedLink({ t } as PeerMessage), dialed.includes(t), t);
  }
});
