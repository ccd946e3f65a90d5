import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryView } from '@dpns/protocol';
import { diffEntries } from './watch-diff.js';

const svc = (name: string, port: number): EntryView => ({ kind: 'service', name, state: 'running', since: 1, host: 'h', port });

test('puts for new and changed entries, deletes for vanished ones, in name order', () => {
  const before = new Map([['/a', svc('/a', 1)], ['/b', svc('/b', 2)], ['/c', svc('/c', 3)]]);
  const after = new Map([['/c', svc('/c', 30)], ['/b', svc('/b', 2)], ['/0', svc('/0', 9)]]);
  assert.deepEqual(diffEntries(before, after).map((c) => `${c.type} ${c.name}`), ['put /0', 'delete /a', 'put /c']);
});

test('key order does not make equal entries differ', () => {
  const a: EntryView = { kind: 'alias', name: '/x', target: '/y', since: 1 };
  const b = JSON.parse('{"since":1,"target":"/y","name":"/x","kind":"alias"}') as EntryView;
  assert.deepEqual(diffEntries(new Map([['/x', a]]), new Map([['/x', b]])), []);
});
