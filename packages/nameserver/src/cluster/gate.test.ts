import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsError } from '@dpns/protocol';
import { refusalFor, type RoleCheck } from './gate.js';

const backup = (servesReads: boolean): RoleCheck => ({
  writeRefusal: () => new DpnsError('NOT_PRIMARY', 'backup'),
  readRefusal: () => (servesReads ? undefined : new DpnsError('NOT_PRIMARY', 'backup')),
});

test('a backup answers only what needs no primary, and reads when it serves them', () => {
  const plain = backup(false);
  const reads = backup(true);
  for (const m of ['ping', 'servers', 'login', 'identify', 'unwatch']) assert.equal(refusalFor(m, {}, plain), undefined, m);
  assert.equal(refusalFor('listServices', { pattern: '*' }, plain)?.code, 'NOT_PRIMARY');
  assert.equal(refusalFor('listServices', { pattern: '*' }, reads), undefined);
  assert.equal(refusalFor('watch', { pattern: '*' }, reads), undefined);
  assert.equal(refusalFor('findServices', { pattern: '/a/*' }, reads), undefined, 'a pattern never launches');
  assert.equal(refusalFor('findServices', { pattern: '/a', launch: false }, reads), undefined);
  assert.equal(refusalFor('findServices', { pattern: '/a' }, reads)?.code, 'NOT_PRIMARY', 'may launch: the primary');
  for (const m of ['register.add', 'advertiseService', 'launchService', 'killService', 'authenticateService', 'reportLoad']) {
    assert.equal(refusalFor(m, {}, reads)?.code, 'NOT_PRIMARY', m);
  }
});

test('every read a backup may serve, and what it answers in any role', () => {
  const plain = backup(false);
  const reads = backup(true);
  for (const m of ['modules.list', 'ping']) assert.equal(refusalFor(m, {}, plain), undefined, m);
  for (const m of ['listServices', 'serviceState', 'watch', 'register.info', 'agents.list', '@module']) {
    assert.equal(refusalFor(m, {}, reads), undefined, m);
    assert.equal(refusalFor(m, {}, plain)?.code, 'NOT_PRIMARY', m);
  }
});

test('a find that cannot launch anything is a read, whatever its params look like', () => {
  const reads = backup(true);
  for (const raw of [undefined, null, 'x', 5, { pattern: 5 }, { launch: true }]) {
    assert.equal(refusalFor('findServices', raw, reads), undefined, JSON.stringify(raw));
  }
  assert.equal(refusalFor('findServices', { pattern: '/a', launch: true }, reads)?.code, 'NOT_PRIMARY');
});
