import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envPairs, name, nameOrPattern, optInt, pattern, stringList } from './args.js';
import { table } from './table.js';
import { resolveToken } from './token.js';
import { UsageError } from './usage-error.js';

const usage = (code?: string) => (e: unknown) => e instanceof UsageError && (code === undefined || e.code === code);

test('--env KEY=VALUE pairs; a pair without "=" is bad usage', () => {
  assert.deepEqual(envPairs(['A=1', 'B=x=y', 'C=']), { A: '1', B: 'x=y', C: '' });
  assert.throws(() => envPairs(['NOEQ']), usage('USAGE'));
  assert.throws(() => envPairs(['=v']), usage('USAGE'));
});

test('names and patterns are checked with the protocol rules', () => {
  assert.equal(name({ name: '/a/b' }), '/a/b');
  assert.throws(() => name({ name: 'a/b' }), usage('INVALID_NAME'));
  assert.equal(pattern({}), '*');
  assert.throws(() => pattern({ pattern: '[a' }), usage('INVALID_PATTERN'));
  assert.equal(nameOrPattern({ t: '/x/*' }, 't'), '/x/*');
  assert.throws(() => nameOrPattern({ t: '/x/../y' }, 't'), usage('INVALID_NAME'));
});

test('repeatable options and integers', () => {
  assert.deepEqual(stringList({ arg: 'one' }, 'arg'), ['one']);
  assert.deepEqual(stringList({ arg: ['-v', 'two'] }, 'arg'), ['-v', 'two']);
  assert.equal(optInt({ t: '250' }, 't', 100, 1000), 250);
  assert.throws(() => optInt({ t: '2.5' }, 't', 1, 10), usage());
  assert.throws(() => optInt({ t: '50' }, 't', 100, 1000), usage());
});

test('tables align every column but the last', () => {
  assert.deepEqual(table([['A', 'BB', 'C'], ['xxx', 'y', '']]), ['A    BB  C', 'xxx  y']);
});

test('token precedence: --token, --token-file, DPNS_TOKEN, DPNS_TOKEN_FILE', () => {
  assert.equal(resolveToken({ token: ' t1 ', tokenFile: '/nonexistent', env: { DPNS_TOKEN: 't3' } }), 't1');
  assert.equal(resolveToken({ env: { DPNS_TOKEN: 't3', DPNS_TOKEN_FILE: '/nonexistent' } }), 't3');
  assert.equal(resolveToken({ env: {} }), undefined);
  assert.throws(() => resolveToken({ tokenFile: '/nonexistent/token', env: {} }), usage());
});
