import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsError, METHOD_NAMES, type MethodName } from '@dpns/protocol';
import { MODULE_CALL, refusalFor, type Refusal, type RoleCheck } from './gate.js';

/** The code of a refusal decided at once (these role checks never wait). */
const codeOf = (r: Refusal): string | undefined => (r instanceof Promise ? 'a wait' : r?.code);

const backup = (servesReads: boolean): RoleCheck => ({
  writeRefusal: () => new DpnsError('NOT_PRIMARY', 'backup'),
  readRefusal: () => (servesReads ? undefined : new DpnsError('NOT_PRIMARY', 'backup')),
});

test('a backup answers only what needs no primary, and reads when it serves them', () => {
  const plain = backup(false);
  const reads = backup(true);
  for (const m of ['ping', 'servers', 'login', 'identify', 'unwatch', 'modules.list'] as const) assert.equal(refusalFor(m, {}, plain), undefined, m);
  assert.equal(codeOf(refusalFor('listServices', { pattern: '*' }, plain)), 'NOT_PRIMARY');
  assert.equal(refusalFor('listServices', { pattern: '*' }, reads), undefined);
  assert.equal(refusalFor('watch', { pattern: '*' }, reads), undefined);
  assert.equal(refusalFor('findServices', { pattern: '/a/*' }, reads), undefined, 'a pattern never launches');
  assert.equal(refusalFor('findServices', { pattern: '/a', launch: false }, reads), undefined);
  assert.equal(codeOf(refusalFor('findServices', { pattern: '/a' }, reads)), 'NOT_PRIMARY', 'may launch: the primary');
  for (const m of ['register.add', 'advertiseService', 'launchService', 'killService', 'authenticateService', 'reportLoad', 'register.release', 'agents.enroll', 'modules.load'] as const) {
    assert.equal(codeOf(refusalFor(m, {}, reads)), 'NOT_PRIMARY', m);
  }
});

test('every read a backup may serve, and what it answers in any role', () => {
  const plain = backup(false);
  const reads = backup(true);
  for (const m of ['modules.list', 'ping'] as const) assert.equal(refusalFor(m, {}, plain), undefined, m);
  for (const m of ['listServices', 'serviceState', 'watch', 'register.info', 'agents.list', '@module'] as const) {
    assert.equal(refusalFor(m, {}, reads), undefined, m);
    assert.equal(codeOf(refusalFor(m, {}, plain)), 'NOT_PRIMARY', m);
  }
});

test('a find that cannot launch anything is a read, whatever its params look like', () => {
  const reads = backup(true);
  for (const raw of [undefined, null, 'x', 5, { pattern: 5 }, { launch: true }]) {
    assert.equal(refusalFor('findServices', raw, reads), undefined, JSON.stringify(raw));
  }
  assert.equal(codeOf(refusalFor('findServices', { pattern: '/a', launch: true }, reads)), 'NOT_PRIMARY');
});

test('the role of every method comes from the method table: a primary answers all, a backup what the table says', () => {
  const primary: RoleCheck = { writeRefusal: () => undefined, readRefusal: () => undefined };
  const reads = backup(true);
  const plain = backup(false);
  const answeredByReadsBackup = new Set<MethodName>();
  const answeredByAnyBackup = new Set<MethodName>();
  for (const m of METHOD_NAMES) {
    assert.equal(refusalFor(m, { pattern: '/a/*' }, primary), undefined, m);
    if (refusalFor(m, { pattern: '/a/*' }, reads) === undefined) answeredByReadsBackup.add(m);
    if (refusalFor(m, { pattern: '/a/*' }, plain) === undefined) answeredByAnyBackup.add(m);
  }
  // PROTOCOL.md §19.3's table.
  assert.deepEqual([...answeredByAnyBackup].sort(), ['identify', 'login', 'modules.list', 'ping', 'servers', 'unwatch']);
  assert.deepEqual([...answeredByReadsBackup].sort(), [
    'agents.list', 'findServices', 'identify', 'listServices', 'login', 'modules.list', 'ping', 'register.info', 'servers', 'serviceState', 'unwatch', 'watch',
  ]);
  assert.equal(refusalFor(MODULE_CALL, [], reads), undefined, 'module calls are reads');
  assert.equal(codeOf(refusalFor(MODULE_CALL, {}, plain)), 'NOT_PRIMARY');
});
