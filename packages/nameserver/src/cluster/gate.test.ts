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
