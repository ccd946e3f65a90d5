import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, type EntryView } from '@dpns/protocol';
import { RegistryView } from './view.js';

const svc = (name: string, port: number, state: 'running' | 'stopped' = 'running'): EntryView => ({ kind: 'service', name, state, since: 1, host: 'h', port });

test('the snapshot, then changes after it; a revision the snapshot already holds is skipped', () => {
  const v = new RegistryView();
  v.load(5, [svc('/a', 1), { kind: 'alias', name: '/al', target: '/a', since: 1 }]);
  assert.deepEqual(v.apply({ revision: 4, changes: [{ revision: 4, type: 'delete', name: '/a' }] }), []);
  assert.equal(v.facade.get('/a')?.name, '/a');
  const applied = v.apply({ revision: 6, changes: [{ revision: 6, type: 'put', name: '/b', entry: svc('/b', 2) }] });
  assert.equal(applied.length, 1);
  assert.equal(v.facade.revision, 6);
  assert.deepEqual(v.facade.list(), ['/a', '/al', '/b']);
  assert.deepEqual(v.facade.find('/al'), [{ name: '/al', service: '/a', host: 'h', port: 1 }]);
  v.apply({ revision: 7, changes: [{ revision: 7, type: 'delete', name: '/a' }] });
  assert.throws(() => v.facade.find('/al'), (e: unknown) => isDpnsError(e, 'NOT_FOUND'));
});

test('what the module is handed is frozen, and the facade reaches no write path', () => {
  const v = new RegistryView();
  v.load(1, [svc('/a', 1), svc('/s', 2, 'stopped')]);
  const e = v.facade.get('/a') as { port: number };
  assert.throws(() => {
    'use strict';
    e.port = 2;
  }, TypeError);
  assert.ok(Object.isFrozen(v.facade));
  assert.ok(Object.isFrozen(v.facade.find('/a')[0]));
  assert.ok(Object.isFrozen(v.facade.entries()));
  assert.equal((v.facade as unknown as Record<string, unknown>).apply, undefined);
  assert.equal((v.facade as unknown as Record<string, unknown>).load, undefined);
  assert.throws(() => v.facade.find('/s'), (err: unknown) => isDpnsError(err, 'NOT_RUNNING'));
  assert.deepEqual(v.facade.find('/*').map((l) => l.name), ['/a']);
});
