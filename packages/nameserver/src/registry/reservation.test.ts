import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError, type DpnsError, type LaunchSpec, type ServiceView } from '@dpns/protocol';
import { AdminPrefixes, NO_ADMIN_PREFIXES } from './admin-prefixes.js';
import { Registry } from './registry.js';
import { DEFAULT_RESERVATION_MS, holdOnLoss, planRelease } from './reservation.js';
import { planAdd, planAdvertise, planLost, type Actor, type Bindings } from './rules.js';
import type { Op } from './ops.js';

const HOLD = 1000;
const admin: Actor = { admin: true, connId: 1 };
const alice: Actor = { admin: false, connId: 2, owner: 'a'.repeat(64) };
const bob: Actor = { admin: false, connId: 3 };
const carol: Actor = { admin: false, connId: 4, owner: 'c'.repeat(64) };
const nobodyBound: Bindings = { liveConn: () => undefined };
const adv = (name: string, port: number) => ({ name, host: 'h', port, static: false });

let rev = 0;
function apply(reg: Registry, ops: Op[]): void {
  reg.apply(ops, ++rev);
}
function svc(reg: Registry, name: string): ServiceView {
  return reg.get(name) as ServiceView;
}
const reserved = (e: unknown): boolean => isDpnsError(e, 'RESERVED');

test('a lost name an owner key advertised is held for that key until it comes back', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, adv('/a', 1), alice, nobodyBound, 10));
  apply(reg, planLost(reg, '/a', 'gone', 20, HOLD));
  assert.deepEqual(svc(reg, '/a').reservation, { owner: alice.owner, until: 20 + HOLD });
  assert.throws(() => planAdvertise(reg, adv('/a', 2), bob, nobodyBound, 30), reserved);
  let err: DpnsError | undefined;
  try {
    planAdvertise(reg, adv('/a', 2), carol, nobodyBound, 30);
  } catch (e) {
    err = e as DpnsError;
  }
  assert.equal(err?.code, 'RESERVED');
  assert.match(err.message, /aaaaaaaaaaaaaaaa/);
  assert.match(err.message, new RegExp(new Date(20 + HOLD).toISOString().replace(/\./g, '\\.')));
  assert.deepEqual(err.details, { name: '/a', owner: alice.owner, fingerprint: 'a'.repeat(16), until: 20 + HOLD });
  // The owner takes it back: running again, and no longer held.
  apply(reg, planAdvertise(reg, adv('/a', 3), { ...alice, connId: 9 }, nobodyBound, 40));
  assert.equal(svc(reg, '/a').state, 'running');
  assert.equal(svc(reg, '/a').reservation, undefined);
});

test('the hold ends on its own at `until`, and admins pass it', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, adv('/a', 1), alice, nobodyBound, 10));
  apply(reg, planLost(reg, '/a', 'gone', 20, HOLD));
  assert.throws(() => planAdvertise(reg, adv('/a', 2), bob, nobodyBound, 20 + HOLD - 1), reserved);
  assert.equal(planAdvertise(reg, adv('/a', 2), bob, nobodyBound, 20 + HOLD).length, 1);
  assert.equal(planAdvertise(reg, adv('/a', 2), admin, nobodyBound, 21).length, 1);
});

test('release drops the hold; a name not held releases nothing', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, adv('/a', 1), alice, nobodyBound, 10));
  assert.deepEqual(planRelease(reg, '/a'), { ops: [] });
  apply(reg, planLost(reg, '/a', 'gone', 20, HOLD));
  const { ops, released } = planRelease(reg, '/a');
  assert.deepEqual(released, { owner: alice.owner, until: 20 + HOLD });
  apply(reg, ops);
  assert.equal(svc(reg, '/a').state, 'lost');
  assert.equal(svc(reg, '/a').reservation, undefined);
  assert.equal(planAdvertise(reg, adv('/a', 2), bob, nobodyBound, 30).length, 1);
  assert.throws(() => planRelease(reg, '/nope'), (e: unknown) => isDpnsError(e, 'NOT_FOUND'));
});

test('no hold for an anonymous advertiser, an auto-start name, or a hold time of 0', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, adv('/anon', 1), bob, nobodyBound, 10));
  apply(reg, planLost(reg, '/anon', 'gone', 20, HOLD));
  assert.equal(svc(reg, '/anon').reservation, undefined);
  apply(reg, planAdvertise(reg, adv('/zero', 1), alice, nobodyBound, 10));
  apply(reg, planLost(reg, '/zero', 'gone', 20, 0));
  assert.equal(svc(reg, '/zero').reservation, undefined);
  const spec: LaunchSpec = { host: 'h', program: '/bin/x', args: [], env: {}, startTimeoutMs: 1000 };
  apply(reg, planAdd(reg, '/auto', spec, 1));
  apply(reg, planAdvertise(reg, adv('/auto', 1), { ...admin, owner: alice.owner } as Actor, nobodyBound, 10));
  apply(reg, planLost(reg, '/auto', 'gone', 20, HOLD));
  assert.equal(svc(reg, '/auto').reservation, undefined, 'its launch ticket already guards an auto-start name');
});

test('admin prefixes: only admins advertise under them', () => {
  const reg = new Registry();
  const policy = { adminPrefixes: new AdminPrefixes(['/prod/*']) };
  assert.throws(() => planAdvertise(reg, adv('/prod/db', 1), alice, nobodyBound, 1, policy), (e: unknown) => isDpnsError(e, 'FORBIDDEN') && (e as DpnsError).details?.adminPrefix === '/prod/*');
  assert.throws(() => planAdvertise(reg, adv('/prod/db', 1), bob, nobodyBound, 1, policy), (e: unknown) => isDpnsError(e, 'FORBIDDEN'));
  assert.equal(planAdvertise(reg, adv('/prod/db', 1), admin, nobodyBound, 1, policy).length, 1);
  assert.equal(planAdvertise(reg, adv('/dev/db', 1), bob, nobodyBound, 1, policy).length, 1);
});

test('a hold is six hours unless configured, and only for a session advertiser with a lasting owner key', () => {
  assert.equal(DEFAULT_RESERVATION_MS, 6 * 60 * 60 * 1000);
  const base: ServiceView = { kind: 'service', name: '/a', state: 'running', since: 0, host: 'h', port: 1 };
  const key = 'a'.repeat(64);
  assert.deepEqual(holdOnLoss({ ...base, advertiser: { kind: 'session', owner: key } }, 10, HOLD), { owner: key, until: 10 + HOLD });
  assert.equal(holdOnLoss({ ...base, advertiser: { kind: 'session', owner: key, ephemeral: true } }, 10, HOLD), undefined);
  assert.equal(holdOnLoss({ ...base, advertiser: { kind: 'static' } }, 10, HOLD), undefined);
  assert.equal(holdOnLoss({ ...base, advertiser: { kind: 'session' } }, 10, HOLD), undefined);
  assert.equal(holdOnLoss(base, 10, HOLD), undefined);
});

test('a reserved name refused says until when and how to free it; release of nothing says so', () => {
  const reg = new Registry();
  apply(reg, planAdvertise(reg, adv('/a', 1), alice, nobodyBound, 10));
  apply(reg, planLost(reg, '/a', 'gone', 20, HOLD));
  assert.throws(() => planAdvertise(reg, adv('/a', 2), bob, nobodyBound, 30), (e: unknown) => isDpnsError(e, 'RESERVED') && e.message.endsWith('only that key may advertise it before then, unless an admin releases it (dpns release /a)'));
  assert.throws(() => planRelease(reg, '/nope'), (e: unknown) => isDpnsError(e, 'NOT_FOUND') && e.message === 'no service named /nope' && e.details?.name === '/nope');
});

test('admin prefixes: a bad pattern names the setting; with none, nothing is kept', () => {
  assert.throws(() => new AdminPrefixes(['/a[']), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && e.details?.field === 'adminPrefixes');
  assert.deepEqual(NO_ADMIN_PREFIXES.patterns, []);
  const prefixes = new AdminPrefixes(['/prod/*', '/ops/*']);
  assert.equal(prefixes.match('/ops/x'), '/ops/*');
  assert.throws(() => prefixes.check('/ops/x', false), (e: unknown) => isDpnsError(e, 'FORBIDDEN') && e.message.startsWith('/ops/x is under the admin prefix /ops/*: only an admin connection'));
});
