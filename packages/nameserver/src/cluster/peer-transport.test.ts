// The cluster core's PeerTransport over a PeerLink: the guard on frames (every message type
// passes, nothing else does) and the snapshot's chunks on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPeerMessage } from './peer-transport.js';

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
