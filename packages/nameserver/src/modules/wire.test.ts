import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWorker } from './wire.js';

test('messages from a worker are narrowed; anything malformed is dropped', () => {
  for (const m of [null, 1, 'x', {}, { t: 'nope' }, { t: 'result', id: 0, json: '1' }, { t: 'result', id: 1 }, { t: 'manifest', prefix: 'x' },
    { t: 'log', level: 'loud', message: 'x' }, { t: 'pong', seq: -1 }, { t: 'error' }]) {
    assert.equal(parseFromWorker(m), undefined, JSON.stringify(m));
  }
  assert.deepEqual(parseFromWorker({ t: 'result', id: 3, json: '{"a":1}' }), { t: 'result', id: 3, json: '{"a":1}' });
});

test('an error passes its code only when a module may use it; anything else is MODULE_FAILED', () => {
  const refusal = parseFromWorker({ t: 'error', id: 1, code: 'NOT_FOUND', message: 'no ann', details: { person: 'ann', __proto__: { admin: true } } });
  assert.ok(refusal?.t === 'error');
  assert.deepEqual([refusal.code, refusal.message, { ...refusal.details }], ['NOT_FOUND', 'no ann', { person: 'ann' }]);
  assert.deepEqual(parseFromWorker({ t: 'error', id: 1, code: 'INTERNAL', message: 'x' }), { t: 'error', id: 1, code: 'MODULE_FAILED', cause: 'THREW', message: 'x' });
  assert.deepEqual(parseFromWorker({ t: 'error', id: 1, code: 'UNAUTHORIZED', message: 'x', details: { big: 'y'.repeat(5000) } }),
    { t: 'error', id: 1, code: 'UNAUTHORIZED', message: 'x' });
  const long = parseFromWorker({ t: 'log', level: 'info', message: 'z'.repeat(5000) });
  assert.ok(long?.t === 'log' && long.message.length < 2100);
});
