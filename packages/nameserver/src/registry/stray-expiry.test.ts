import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LaunchSpec } from '@dpns/protocol';
import { Registry } from './registry.js';
import { MAX_EXPIRED_PER_RECORD, planExpireStrays } from './stray-expiry.js';
import { planAdd, planAdvertise, planAlias, planLost, type Actor, type Bindings } from './rules.js';
import type { Op } from './ops.js';

const EXPIRY = 1000;
const anon: Actor = { admin: false, connId: 2 };
const owner: Actor = { admin: false, connId: 3, owner: 'a'.repeat(64) };
const admin: Actor = { admin: true, connId: 1 };
const nobodyBound: Bindings = { liveConn: () => undefined };
const spec: LaunchSpec = { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000 };

let rev = 0;
function apply(reg: Registry, ops: Op[]): void {
  reg.apply(ops, ++rev);
}
function lostAt(reg: Registry, name: string, who: Actor, at: number, holdMs = 0): void {
  apply(reg, planAdvertise(reg, { name, host: 'h', port: 1, static: false }, who, nobodyBound, at - 1));
  apply(reg, planLost(reg, name, 'gone', at, holdMs));
}

test('a lost entry nobody keeps is deleted once it has been lost for the expiry time', () => {
  const reg = new Registry();
  lostAt(reg, '/stray', anon, 100);
  assert.deepEqual(planExpireStrays(reg, 100 + EXPIRY - 1, EXPIRY), []);
  assert.deepEqual(planExpireStrays(reg, 100 + EXPIRY, EXPIRY), [{ t: 'del', n: '/stray' }]);
});

test('not deleted: a running entry, a static one, an auto-start one, one still reserved, one an alias points at', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, { name: '/live', host: 'h', port: 1, static: false }, anon, nobodyBound, 0));
  apply(reg, planAdvertise(reg, { name: '/static', host: 'h', port: 1, static: true }, admin, nobodyBound, 0));
  apply(reg, planAdd(reg, '/auto', spec, 0));
  lostAt(reg, '/held', owner, 100, 10 * EXPIRY);
  lostAt(reg, '/target', anon, 100);
  apply(reg, planAlias(reg, '/alias', '/target', 100));
  assert.deepEqual(planExpireStrays(reg, 100 + 2 * EXPIRY, EXPIRY), []);
  // Once the reservation has passed, the held one goes too.
  assert.deepEqual(planExpireStrays(reg, 100 + 10 * EXPIRY, EXPIRY), [{ t: 'del', n: '/held' }]);
});

test('a name that comes back is no longer a stray; one deleted is forgotten; a snapshot keeps the list', () => {
  const reg = new Registry();
  lostAt(reg, '/back', anon, 100);
  apply(reg, planAdvertise(reg, { name: '/back', host: 'h', port: 2, static: false }, anon, nobodyBound, 200));
  lostAt(reg, '/gone', anon, 100);
  apply(reg, [{ t: 'del', n: '/gone' }]);
  lostAt(reg, '/kept', anon, 100);
  assert.deepEqual([...reg.strays()], ['/kept']);
  const copy = new Registry();
  copy.load(reg.snapshot());
  assert.deepEqual([...copy.strays()], ['/kept']);
});

test('a sweep over many strays is written in bounded records', () => {
  const reg = new Registry();
  for (let i = 0; i < MAX_EXPIRED_PER_RECORD + 10; i++) lostAt(reg, `/s/${i}`, anon, 100);
  const first = planExpireStrays(reg, 100 + EXPIRY, EXPIRY);
  assert.equal(first.length, MAX_EXPIRED_PER_RECORD);
  apply(reg, first);
  assert.equal(planExpireStrays(reg, 100 + EXPIRY, EXPIRY).length, 10);
});

test('past the most strays kept, the oldest go at once, whatever their age or reservation, except one an alias points at', () => {
  const reg = new Registry();
  lostAt(reg, '/s/1', anon, 100);
  lostAt(reg, '/s/2', owner, 200, 100 * EXPIRY);
  lostAt(reg, '/s/3', anon, 300);
  lostAt(reg, '/s/4', anon, 400);
  apply(reg, planAlias(reg, '/al', '/s/1', 500));
  assert.deepEqual(planExpireStrays(reg, 500, EXPIRY, 4), [], 'at the limit: none');
  assert.deepEqual(planExpireStrays(reg, 500, EXPIRY, 2), [{ t: 'del', n: '/s/2' }, { t: 'del', n: '/s/3' }]);
  assert.deepEqual(planExpireStrays(reg, 500, 0, 3), [{ t: 'del', n: '/s/2' }], 'no expiry by age, but the limit still holds');
});

test('with no expiry time nothing goes for its age', () => {
  const reg = new Registry();
  lostAt(reg, '/old', anon, 100);
  assert.deepEqual(planExpireStrays(reg, 100 + 1000 * EXPIRY, 0), []);
});

test('the strays past the limit are also written in bounded records', () => {
  const reg = new Registry();
  for (let i = 0; i < MAX_EXPIRED_PER_RECORD + 5; i++) lostAt(reg, `/m/${i}`, anon, 100);
  const ops = planExpireStrays(reg, 100, 0, 0);
  assert.equal(ops.length, MAX_EXPIRED_PER_RECORD);
  assert.deepEqual(ops[0], { t: 'del', n: '/m/0' });
});
