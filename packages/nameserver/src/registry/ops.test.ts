// The guard on records read back from the log: every kind of op in its right shape passes,
// anything else fails the whole record (and never throws).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLogRecord } from './ops.js';

const OK_OPS = [
  { t: 'put', e: { kind: 'service', name: '/a', state: 'running', since: 0 } },
  { t: 'del', n: '/a' },
  { t: 'tickets', n: '/a', v: { launchId: 'l', service: 's', nameserver: 'n' } },
  { t: 'tickets', n: '/a', v: null },
  { t: 'agent', h: 'h', v: { host: 'h', key: 'k', at: 0, how: 'join' } },
  { t: 'agent', h: 'h', v: null },
  { t: 'join', id: 'j', v: { id: 'j', key: 'k', expires: 0 } },
  { t: 'join', id: 'j', v: null },
];

test('a record of well-formed ops of every kind passes, and so does an empty one', () => {
  assert.equal(isLogRecord({ ops: OK_OPS, ep: 1, rid: 'r' }), true);
  for (const op of OK_OPS) assert.equal(isLogRecord({ ops: [op] }), true, JSON.stringify(op));
  assert.equal(isLogRecord({ ops: [] }), true);
});

test('not a record: no object, or no array of ops', () => {
  for (const v of [null, undefined, 'x', 1, [], {}, { ops: 'x' }, { ops: {} }]) assert.equal(isLogRecord(v), false, JSON.stringify(v));
});

test('one op of the wrong shape fails the whole record', () => {
  const bad = [
    { t: 'put' }, { t: 'put', e: {} }, { t: 'put', e: { name: 1 } }, { t: 'put', n: '/a' },
    { t: 'del' }, { t: 'del', n: 1 }, { t: 'del', e: { name: '/a' } },
    { t: 'tickets', v: null }, { t: 'tickets', n: 1, v: null }, { t: 'tickets', n: '/a' }, { t: 'tickets', n: '/a', v: {} }, { t: 'tickets', n: '/a', v: { service: 1 } },
    { t: 'agent', v: null }, { t: 'agent', h: 1, v: null }, { t: 'agent', h: 'h' }, { t: 'agent', h: 'h', v: {} }, { t: 'agent', n: 'h', v: { key: 'k' } },
    { t: 'join', v: null }, { t: 'join', id: 1, v: null }, { t: 'join', id: 'j' }, { t: 'join', id: 'j', v: { key: 1 } }, { t: 'join', h: 'j', v: { key: 'k' } },
    { t: 'other', n: '/a', h: 'h', id: 'j', v: null, e: { name: '/a' } }, { n: '/a' }, {},
  ];
  for (const op of bad) {
    assert.equal(isLogRecord({ ops: [op] }), false, JSON.stringify(op));
    assert.equal(isLogRecord({ ops: [...OK_OPS, op] }), false, `after good ops: ${JSON.stringify(op)}`);
  }
});
