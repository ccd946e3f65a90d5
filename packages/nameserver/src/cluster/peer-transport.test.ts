// The cluster core's PeerTransport over a PeerLink: the guard on frames (every message type
// passes, nothing else does) and the snapshot's chunks on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerMessage, SnapshotChunk } from '@dpns/cluster-core';
import type { PeerLink } from './peer-link.js';
import { goesOnDialedLink, isPeerMessage, PeerTransportLink, piecesOfParts, SNAPSHOT_CHUNK, type SnapshotPieces } from './peer-transport.js';

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

/** A frame as the fake link saw it sent: a frame of bytes is its header with `bytes`. */
type Sent = SnapshotChunk & { bytes?: Buffer };

/**
 * A PeerLink's surface as PeerTransportLink uses it: what is sent, and a way to deliver frames.
 * `takesBytes`: whether the member at the other end said it takes frames of bytes.
 */
function fakeLink(takesBytes = true): { link: PeerLink; frames: unknown[]; deliver: (m: unknown, bytes?: Buffer) => void; fake: { open: boolean; buffered: number }; closed: string[] } {
  const frames: unknown[] = [];
  const closed: string[] = [];
  const fake = {
    peerSid: 2, open: true, buffered: 0, peerTakesBytes: takesBytes,
    onMessage: (_m: unknown, _b?: Buffer) => undefined as void, onClose: (_why: string) => undefined as void,
    send: (m: unknown) => frames.push(m),
    sendBytes: (h: object, b: Buffer) => frames.push({ ...h, bytes: Buffer.from(b) }),
    close: (why: string) => closed.push(why),
  };
  return { link: fake as unknown as PeerLink, frames, deliver: (m, b) => fake.onMessage(m, b), fake, closed };
}

/** Frames as the other end's link hands them over: a frame of bytes as its header and bytes. */
function deliverAll(to: ReturnType<typeof fakeLink>, frames: readonly unknown[]): void {
  for (const f of frames as Sent[]) {
    const { bytes, ...header } = f;
    to.deliver(header, bytes);
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Turns of the event loop until `frames` holds `n` frames (at most `limit` turns). */
async function until(frames: unknown[], n: number, limit = 100): Promise<void> {
  for (let k = 0; k < limit && frames.length < n; k++) await turn();
}

test('a snapshot goes in chunks of bytes, the last one marked and carrying the voters, and comes out whole', async () => {
  const a = fakeLink();
  const t = new PeerTransportLink(a.link);
  const data = 'x'.repeat(SNAPSHOT_CHUNK * 2 + 5);
  t.send({ t: 'snap', epoch: 3, index: 40, data, last: true, voters: [0, 1, 2] });
  await until(a.frames, 3);
  const chunks = a.frames as Sent[];
  assert.deepEqual(chunks.map((c) => [c.bytes?.length, 'data' in c, c.last, c.voters]), [[SNAPSHOT_CHUNK, false, false, undefined], [SNAPSHOT_CHUNK, false, false, undefined], [5, false, true, [0, 1, 2]]]);
  const b = fakeLink();
  const got: PeerMessage[] = [];
  new PeerTransportLink(b.link).onMessage = (m) => got.push(m);
  deliverAll(b, chunks);
  assert.equal(got.length, 1);
  const whole = got[0] as SnapshotChunk;
  assert.ok(Buffer.isBuffer(whole.data), 'the core is handed the bytes, not text made of them');
  assert.deepEqual({ ...whole, data: whole.data.toString() }, { t: 'snap', epoch: 3, index: 40, data, last: true, voters: [0, 1, 2] });
  // A small one goes as it is; frames that are not peer messages never reach the core.
  t.send({ t: 'snap', epoch: 3, index: 41, data: '{}', last: true });
  assert.deepEqual(a.frames.at(-1), { t: 'snap', epoch: 3, index: 41, data: '{}', last: true });
  b.deliver({ t: 'hello' });
  assert.equal(got.length, 1);
});

test('a snapshot made in parts goes in chunks of at most SNAPSHOT_CHUNK bytes and comes out as the parts joined', async () => {
  const a = fakeLink();
  const t = new PeerTransportLink(a.link);
  // '€' is three bytes and '😀' a surrogate pair: chunks end inside characters, and a part's slice at a pair's middle.
  const pairAtCut = `${'d'.repeat(SNAPSHOT_CHUNK - 1)}😀${'d'.repeat(10)}`;
  const parts = ['{"format":3,"index":40}\n', 'a'.repeat(SNAPSHOT_CHUNK + 7), '', 'b'.repeat(100), 'c'.repeat(SNAPSHOT_CHUNK), '€'.repeat(SNAPSHOT_CHUNK), pairAtCut];
  t.sendSnapshot({ t: 'snap', epoch: 3, index: 40, data: '', last: true, voters: [0, 1] }, piecesOfParts(parts));
  await until(a.frames, 11);
  const chunks = a.frames as Sent[];
  assert.ok(chunks.length >= 10, `${chunks.length} chunks`);
  assert.ok(chunks.every((c) => (c.bytes?.length ?? Infinity) <= SNAPSHOT_CHUNK && c.index === 40 && c.epoch === 3));
  assert.deepEqual(chunks.map((c) => c.last), chunks.map((_, k) => k === chunks.length - 1));
  assert.deepEqual(chunks.at(-1)?.voters, [0, 1]);
  const b = fakeLink();
  const got: PeerMessage[] = [];
  new PeerTransportLink(b.link).onMessage = (m) => got.push(m);
  deliverAll(b, chunks);
  assert.equal(got.length, 1);
  assert.equal(((got[0] as SnapshotChunk).data as Buffer).toString('utf8'), parts.join(''));
});

test('a snapshot\'s first chunk says its size, and the chunks are joined into one buffer of that size as they come; a wrong size only costs the join', async () => {
  const a = fakeLink();
  const t = new PeerTransportLink(a.link);
  const parts = ['{"format":3,"index":40}\n', 'a'.repeat(3 * SNAPSHOT_CHUNK + 5), '€'.repeat(100)];
  const size = Buffer.byteLength(parts.join(''));
  t.sendSnapshot({ t: 'snap', epoch: 3, index: 40, data: '', last: true }, piecesOfParts(parts), size);
  await until(a.frames, 6);
  const chunks = a.frames as (Sent & { size?: number })[];
  assert.deepEqual(chunks.map((c) => c.size), chunks.map((_, k) => (k === 0 ? size : undefined)), 'the first chunk alone says it');
  // Joined as they come: the data handed over is a view of one buffer of the size said, not a join made at the last.
  for (const said of [size, size - 1, size + 3, 2, undefined]) {
    const b = fakeLink();
    const got: PeerMessage[] = [];
    new PeerTransportLink(b.link).onMessage = (m) => got.push(m);
    deliverAll(b, chunks.map((c, k) => (k === 0 ? { ...c, size: said } : c)));
    const data = (got[0] as SnapshotChunk).data as Buffer;
    assert.equal(data.toString('utf8'), parts.join(''), `said ${String(said)}`);
    if (said === size || said === size + 3) assert.equal(data.buffer.byteLength, said, `said ${String(said)}: one buffer of that size`);
    assert.deepEqual(b.closed, []);
  }
});

test('to a member that takes no frames of bytes (before 2026-12-07) a snapshot goes as text, never splitting a character', async () => {
  const a = fakeLink(false);
  const t = new PeerTransportLink(a.link);
  const parts = ['{"format":3,"index":40}\n', `x${'é€😀'.repeat(SNAPSHOT_CHUNK / 2)}\n`];
  t.sendSnapshot({ t: 'snap', epoch: 3, index: 40, data: '', last: true, voters: [0, 1] }, piecesOfParts(parts));
  await until(a.frames, 9);
  const chunks = a.frames as SnapshotChunk[];
  assert.ok(chunks.length > 4);
  chunks.forEach((c, k) => {
    assert.equal(typeof c.data, 'string', `chunk ${k} is text`);
    assert.ok(c.data.length <= SNAPSHOT_CHUNK, `chunk ${k}: ${c.data.length} characters`);
    assert.ok(!(c.data as string).includes('\ufffd'), `chunk ${k} split a character`);
  });
  assert.equal(chunks.map((c) => c.data).join(''), parts.join(''));
  // And a member of this version takes a snapshot sent as text (by such a member) as it did.
  const b = fakeLink();
  const got: PeerMessage[] = [];
  new PeerTransportLink(b.link).onMessage = (m) => got.push(m);
  for (const c of chunks) b.deliver(c);
  assert.deepEqual(got.map((m) => (m as SnapshotChunk).data), [parts.join('')]);
});

test('a frame of bytes that is not a snapshot chunk, or a snapshot partly text and partly bytes, closes the link and reaches no core', () => {
  const b = fakeLink();
  const got: PeerMessage[] = [];
  new PeerTransportLink(b.link).onMessage = (m) => got.push(m);
  b.deliver({ t: 'append', epoch: 3, recs: [] }, Buffer.from('x'));
  assert.match(b.closed.join(), /not a snapshot's \(append\)/);
  const c = fakeLink();
  new PeerTransportLink(c.link).onMessage = (m) => got.push(m);
  c.deliver({ t: 'snap', epoch: 3, index: 40, data: 'abc', last: false });
  c.deliver({ t: 'snap', epoch: 3, index: 40, last: true }, Buffer.from('def'));
  assert.match(c.closed.join(), /partly as text and partly as bytes/);
  assert.deepEqual(got, []);
});

test('a snapshot larger than can be joined closes the link at the chunk that passes the limit, and reaches no core', () => {
  const got: PeerMessage[] = [];
  const b = fakeLink();
  new PeerTransportLink(b.link, { bytes: 10, chars: 6 }).onMessage = (m) => got.push(m);
  b.deliver({ t: 'snap', epoch: 3, index: 40, last: false, size: 8 }, Buffer.from('abcd'));
  b.deliver({ t: 'snap', epoch: 3, index: 40, last: false }, Buffer.from('efgh'));
  assert.deepEqual(b.closed, [], 'eight bytes are within the limit, whatever the size said');
  b.deliver({ t: 'snap', epoch: 3, index: 40, last: false }, Buffer.from('ijk'));
  assert.match(b.closed.join(), /more than 10 bytes/);
  const c = fakeLink();
  new PeerTransportLink(c.link, { bytes: 10, chars: 6 }).onMessage = (m) => got.push(m);
  c.deliver({ t: 'snap', epoch: 3, index: 40, data: 'abcd', last: false });
  c.deliver({ t: 'snap', epoch: 3, index: 40, data: 'efg', last: true });
  assert.match(c.closed.join(), /more than 6 characters/);
  assert.deepEqual(got, []);
  // Within the limits, a snapshot is joined as before, and the count starts again for the next.
  const d = fakeLink();
  const joined: PeerMessage[] = [];
  new PeerTransportLink(d.link, { bytes: 10, chars: 6 }).onMessage = (m) => joined.push(m);
  for (let k = 0; k < 3; k++) {
    d.deliver({ t: 'snap', epoch: 3, index: 40 + k, last: false }, Buffer.from('abcde'));
    d.deliver({ t: 'snap', epoch: 3, index: 40 + k, last: true }, Buffer.from('fghij'));
  }
  assert.deepEqual(d.closed, []);
  assert.deepEqual(joined.map((m) => m.t === 'snap' && Buffer.from(m.data as Uint8Array).toString()), ['abcdefghij', 'abcdefghij', 'abcdefghij']);
});

test('a snapshot\'s chunks are made as they go, not when it is handed over', async () => {
  const a = fakeLink();
  const t = new PeerTransportLink(a.link);
  const made: number[] = [];
  async function* pieces(): SnapshotPieces {
    for (let k = 0; k < 4; k++) {
      made.push(k);
      yield Buffer.from(`p${k}`);
    }
  }
  t.sendSnapshot({ t: 'snap', epoch: 3, index: 40, data: '', last: true }, pieces());
  assert.deepEqual(made, [], 'nothing made yet');
  await until(a.frames, 1);
  assert.deepEqual(made, [0, 1], 'the first chunk, and the one after it read ahead (to know the first is not the last)');
  await until(a.frames, 4);
  assert.deepEqual(made, [0, 1, 2, 3]);
  assert.deepEqual(a.frames.map((f) => (f as SnapshotChunk).last), [false, false, false, true]);
  assert.deepEqual(a.frames.map((f) => (f as Sent).bytes?.toString()), ['p0', 'p1', 'p2', 'p3']);
});

test('frames sent at once stop for the turn once sending them took a few milliseconds; the rest follow in order', async () => {
  const a = fakeLink();
  const send = a.link.send.bind(a.link);
  // Each frame takes 1 ms to seal and send (a frame of 2,000 records takes several).
  (a.link as unknown as { send: (m: unknown) => void }).send = (m) => {
    const t0 = performance.now();
    while (performance.now() - t0 < 1);
    send(m as PeerMessage);
  };
  const t = new PeerTransportLink(a.link);
  for (let k = 0; k < 20; k++) t.send({ t: 'append', epoch: 3, recs: [{ i: k + 1, d: { ep: 3 } }] });
  t.send({ t: 'tick', epoch: 3, lastIndex: 20 });
  const firstTurn = a.frames.length;
  assert.ok(firstTurn >= 2 && firstTurn <= 5, `${firstTurn} frames in the first turn`);
  assert.equal((a.frames.at(-1) as PeerMessage).t, 'tick', 'a tick still goes at once');
  await until(a.frames, 21);
  const appends = (a.frames as PeerMessage[]).filter((f) => f.t === 'append').map((f) => (f.t === 'append' ? f.recs[0]?.i : 0));
  assert.deepEqual(appends, Array.from({ length: 20 }, (_, k) => k + 1), 'all of them, in order');
  await turn();
  t.send({ t: 'append', epoch: 3, recs: [] });
  assert.equal(a.frames.length, 22, 'a new turn: a frame goes at once again');
});

test('a snapshot\'s chunks go one a turn, and frames sent after it go after its chunks, in order, but ticks', async () => {
  const a = fakeLink();
  const t = new PeerTransportLink(a.link);
  t.send({ t: 'tick', epoch: 3, commit: 39 } as PeerMessage);
  assert.equal(a.frames.length, 1, 'nothing queued: a frame goes at once');
  t.send({ t: 'snap', epoch: 3, index: 40, data: 'y'.repeat(SNAPSHOT_CHUNK * 3), last: true });
  t.send({ t: 'append', epoch: 3, recs: [] } as unknown as PeerMessage);
  t.send({ t: 'refuse', epoch: 3 } as unknown as PeerMessage);
  assert.equal(a.frames.length, 1, 'the chunks and what follows wait for the next turn');
  t.send({ t: 'tick', epoch: 3, commit: 41 } as PeerMessage);
  assert.equal(a.frames.length, 2, 'a tick goes past the snapshot at once');
  await turn();
  assert.equal(a.frames.length, 3, 'one chunk a turn');
  await until(a.frames, 7);
  assert.deepEqual(a.frames.map((f) => (f as { t: string }).t), ['tick', 'tick', 'snap', 'snap', 'snap', 'append', 'refuse']);
  // The queue is empty again: the next frame goes at once.
  t.send({ t: 'append', epoch: 3, recs: [] } as unknown as PeerMessage);
  assert.equal(a.frames.length, 8);
});

test('a snapshot\'s next chunk waits while the socket holds unsent megabytes; a close drops what is left', async () => {
  const a = fakeLink();
  const t = new PeerTransportLink(a.link);
  a.fake.buffered = 64 * 1024 * 1024;
  t.send({ t: 'snap', epoch: 3, index: 40, data: 'z'.repeat(SNAPSHOT_CHUNK * 64), last: true });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(a.frames.length, 0, 'nothing sent while the socket is full');
  a.fake.buffered = 0;
  for (let k = 0; k < 100_000 && a.frames.length === 0; k++) await turn();
  t.close('going');
  const sent = a.frames.length;
  assert.ok(sent >= 1 && sent < 64, `${sent} chunks sent before the close`);
  t.send({ t: 'tick', epoch: 3, commit: 41 } as PeerMessage);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(a.frames.length, sent + 1, 'the rest of the snapshot is dropped; a frame after the close goes to the link (which drops it when closed)');
  assert.equal((a.frames.at(-1) as { t: string }).t, 'tick');
});

test('requests go on the link a member dialed, answers and the primary\'s stream on the one it accepted', () => {
  const dialed = ['beat', 'prevote', 'vote', 'follow', 'ack'];
  for (const t of ['beat', 'prevote', 'vote', 'prevote-ans', 'vote-ans', 'follow', 'append', 'snap', 'tick', 'ack', 'refuse']) {
    assert.equal(goesOnDialedLink({ t } as PeerMessage), dialed.includes(t), t);
  }
});
