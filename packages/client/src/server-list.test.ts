// The servers a client may dial: members learned from hellos, and names matched whatever form they take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEndpoint } from './endpoints.js';
import { ServerList } from './server-list.js';

const backoff = { minDelayMs: 10, maxDelayMs: 40 };
const hello = (servers: string[]) => ({ sid: 0, role: 'backup' as const, epoch: 1, servers, readFromBackups: false });

test('a hello adds the members not yet listed, once, and only URLs that parse', () => {
  const list = new ServerList([parseEndpoint('127.0.0.1:7700')], backoff);
  list.learn(hello(['ws://127.0.0.1:7700', 'ws://127.0.0.1:7701/', 'not a url', 'ws://127.0.0.1:7701']));
  assert.equal(list.length, 2);
  assert.equal(list.find('ws://127.0.0.1:7701')?.label, '127.0.0.1:7701');
  assert.equal(list.find('127.0.0.1:7700')?.url, 'ws://127.0.0.1:7700');
  assert.equal(list.find('ws://10.0.0.9:7700'), undefined);
  assert.equal(list.find('wss://127.0.0.1:7700'), undefined, 'another scheme is another server');
});

test('a move starts the next round at the named primary, else after the server left; repeated moves are paced', () => {
  const a = parseEndpoint('h:1');
  const b = parseEndpoint('h:2');
  const c = parseEndpoint('h:3');
  const list = new ServerList([a, b, c], backoff);
  assert.equal(list.moveFrom(a, 'ws://h:3'), 0);
  assert.deepEqual(list.nextRound(), { start: 1, first: c });
  assert.deepEqual(list.nextRound(), { start: 1, first: undefined }, 'the hint is used once');
  assert.ok(list.moveFrom(c, 'ws://elsewhere:1') > 0, 'the second move in a row waits');
  assert.deepEqual(list.nextRound(), { start: 0, first: undefined });
  list.settled();
  assert.equal(list.moveFrom(b, undefined), 0);
});
