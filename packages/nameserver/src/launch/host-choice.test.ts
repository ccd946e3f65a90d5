// Which hosts a launch of a service with spec.hosts asks and tries, in which order, and how it
// moves on to the next host when one fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateHosts, FinalFailure, HOST_CHOICE_LIMITS, orderByLoad, tryInTurn, type HostFailure } from './host-choice.js';

test('candidates: the trusted hosts the entries take in; a wide pattern is sampled down to the limit', () => {
  assert.deepEqual(candidateHosts(['media-*'], ['media-1', 'web-1', 'media-2']), ['media-1', 'media-2']);
  assert.deepEqual(candidateHosts(['media-1', 'media-9'], ['media-1', 'media-2']), ['media-1'], 'a named host without a trusted agent is no candidate');
  assert.deepEqual(candidateHosts(['x-*'], ['media-1']), []);
  const many = Array.from({ length: 40 }, (_, i) => `media-${i}`);
  let seed = 1;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const picked = candidateHosts(['media-*'], many, HOST_CHOICE_LIMITS.queried, random);
  assert.equal(picked.length, HOST_CHOICE_LIMITS.queried);
  assert.equal(new Set(picked).size, picked.length, 'no host twice');
  assert.ok(picked.every((h) => many.includes(h)));
  const first = candidateHosts(['media-*'], many, 3, () => 0);
  assert.deepEqual(first, ['media-0', 'media-1', 'media-2']);
});

test('order: least loaded first, ties by name; then hosts that refused to say; then hosts that did not answer', () => {
  const order = orderByLoad([
    { host: 'd', unreachable: 'ECONNREFUSED' },
    { host: 'c', figure: 2.5 },
    { host: 'b', refused: 'BAD_REQUEST: unknown op' },
    { host: 'a', figure: 0.25 },
    { host: 'e', figure: 0.25 },
    { host: 'f', unreachable: 'timeout' },
  ]);
  assert.deepEqual(order, ['a', 'e', 'c', 'b', 'd', 'f']);
  assert.deepEqual(orderByLoad([]), []);
});

const failureOf = (host: string, e: unknown): HostFailure => ({ host, cause: 'AGENT_UNREACHABLE', message: (e as Error).message });

test('fallback: a failed host is followed by the next, and the first success is the answer', async () => {
  const seen: string[] = [];
  const r = await tryInTurn(['a', 'b', 'c'], (host) => {
    seen.push(host);
    return host === 'a' ? Promise.reject(new Error('a is down')) : Promise.resolve(`on ${host}`);
  }, { tried: 3, deadline: Number.POSITIVE_INFINITY, now: () => 0, failureOf });
  assert.deepEqual(seen, ['a', 'b']);
  assert.ok('host' in r);
  assert.equal(r.host, 'b');
  assert.equal(r.value, 'on b');
  assert.deepEqual(r.failures, [{ host: 'a', cause: 'AGENT_UNREACHABLE', message: 'a is down' }]);
});

test('fallback is bounded: at most `tried` hosts, and none once the deadline has passed', async () => {
  const seen: string[] = [];
  const all = await tryInTurn(['a', 'b', 'c', 'd'], (host) => {
    seen.push(host);
    return Promise.reject(new Error(`${host} refused`));
  }, { tried: 3, deadline: Number.POSITIVE_INFINITY, now: () => 0, failureOf });
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.ok(!('host' in all));
  assert.deepEqual(all.failures.map((f) => f.host), ['a', 'b', 'c']);

  let clock = 0;
  const late: string[] = [];
  const timed = await tryInTurn(['a', 'b', 'c'], (host, remainingMs) => {
    late.push(`${host}:${remainingMs}`);
    clock += 600; // each attempt takes 600 ms of a 1000 ms budget
    return Promise.reject(new Error('slow'));
  }, { tried: 3, deadline: 1000, now: () => clock, failureOf });
  assert.deepEqual(late, ['a:1000', 'b:400'], 'the third host is not tried: the time is up');
  assert.equal(timed.failures.length, 2);
});

test('a final failure (time up, or stopped meanwhile) ends the turn at once', async () => {
  const seen: string[] = [];
  const r = await tryInTurn(['a', 'b'], (host) => {
    seen.push(host);
    return Promise.reject(new FinalFailure({ host, cause: 'START_TIMEOUT', message: 'did not advertise' }));
  }, { tried: 3, deadline: Number.POSITIVE_INFINITY, now: () => 0, failureOf });
  assert.deepEqual(seen, ['a']);
  assert.deepEqual(r.failures, [{ host: 'a', cause: 'START_TIMEOUT', message: 'did not advertise' }]);
});
