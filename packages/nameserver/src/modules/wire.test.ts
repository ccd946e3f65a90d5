import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameError, FrameReader } from './frames.js';
import { parseFromChild } from './wire.js';

const frame = (header: unknown, payload = ''): { header: unknown; payload: string } => ({ header, payload });

test('messages from a child are narrowed; anything malformed is dropped', () => {
  for (const m of [frame(null), frame(1), frame('x'), frame({}), frame({ t: 'nope' }), frame({ t: 'result', id: 0 }, '1'), frame({ t: 'result', id: 1 }),
    frame({ t: 'manifest', prefix: 'x' }), frame({ t: 'log', level: 'loud', message: 'x' }), frame({ t: 'pong', seq: -1 }), frame({ t: 'error' }),
    // An answer that is not one JSON value would end the client's response early or add to it.
    frame({ t: 'result', id: 1 }, '1,"error":{}'), frame({ t: 'result', id: 1 }, '{"a":'), frame({ t: 'store', id: 1, key: 'k', op: 'set' }, 'nope'),
    frame({ t: 'store', id: 1, key: 'k', op: 'chmod' })]) {
    assert.equal(parseFromChild(m), undefined, JSON.stringify(m));
  }
  assert.deepEqual(parseFromChild(frame({ t: 'result', id: 3 }, '{"a":1}')), { t: 'result', id: 3, json: '{"a":1}' });
  assert.deepEqual(parseFromChild(frame({ t: 'store', id: 2, key: 'k', op: 'delete' })), { t: 'store', id: 2, key: 'k', json: null });
});

test('an error passes its code only when a module may use it; anything else is MODULE_FAILED', () => {
  const refusal = parseFromChild(frame({ t: 'error', id: 1, code: 'NOT_FOUND', message: 'no ann', details: { person: 'ann', __proto__: { admin: true } } }));
  assert.ok(refusal?.t === 'error');
  assert.deepEqual([refusal.code, refusal.message, { ...refusal.details }], ['NOT_FOUND', 'no ann', { person: 'ann' }]);
  assert.deepEqual(parseFromChild(frame({ t: 'error', id: 1, code: 'INTERNAL', message: 'x' })), { t: 'error', id: 1, code: 'MODULE_FAILED', cause: 'THREW', message: 'x' });
  assert.deepEqual(parseFromChild(frame({ t: 'error', id: 1, code: 'UNAUTHORIZED', message: 'x', details: { big: 'y'.repeat(5000) } })),
    { t: 'error', id: 1, code: 'UNAUTHORIZED', message: 'x' });
  const long = parseFromChild(frame({ t: 'log', level: 'info', message: 'z'.repeat(5000) }));
  assert.ok(long?.t === 'log' && long.message.length < 2100);
});

test('frames: cut from a stream in any pieces; one over the limit, or malformed, is refused before it is buffered', () => {
  const bytes = Buffer.concat([encodeFrame({ t: 'a' }, 'ü'.repeat(10)), encodeFrame({ t: 'b' })]);
  const r = new FrameReader(1000);
  const got = [];
  for (let i = 0; i < bytes.length; i += 3) got.push(...r.push(bytes.subarray(i, i + 3)));
  assert.deepEqual(got, [{ header: { t: 'a' }, payload: 'ü'.repeat(10) }, { header: { t: 'b' }, payload: '' }]);
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(0xffffffff, 0);
  assert.throws(() => new FrameReader(1000).push(huge), FrameError);
  const bad = Buffer.alloc(8);
  bad.writeUInt32BE(8, 0);
  bad.writeUInt32BE(100, 4);
  assert.throws(() => new FrameReader(1000).push(bad), FrameError);
  const notJson = Buffer.concat([Buffer.from([0, 0, 0, 11, 0, 0, 0, 3]), Buffer.from('{{{')]);
  assert.throws(() => new FrameReader(1000).push(notJson), FrameError);
});
