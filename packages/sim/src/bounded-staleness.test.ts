// The staleness check for reads from backups: a read may miss the writes of the last `staleMs`
// before its call and no more, it may never show what was not yet written, and it must fit the
// same order of writes as the primary's operations. Then properties over random histories: a read
// that really saw an older state, by at most the bound, is always accepted, and with a bound of 0
// the check is linearizability itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkBoundedStaleness } from './bounded-staleness.js';
import { checkLinearizable } from './linearizability.js';
import { registryModel, type RegistryOperation } from './registry-model.js';
import { generate, type OpSpec } from './registry-histories.test.helper.js';

type Span = readonly [number, number];

const adv = (client: number, [call, ret]: Span, address: string): RegistryOperation =>
  Number.isFinite(ret) ? { client, call, return: ret, input: { op: 'advertise', name: '/a', address }, output: { op: 'advertise' } } : { client, call, input: { op: 'advertise', name: '/a', address } };
const find = (client: number, [call, ret]: Span, address: string | undefined): RegistryOperation =>
  ({ client, call, return: ret, input: { op: 'find', name: '/a' }, output: { op: 'find', address } });

const check = (primary: RegistryOperation[], backupReads: RegistryOperation[], staleMs = 10): ReturnType<typeof checkBoundedStaleness<string | undefined, RegistryOperation['input'], NonNullable<RegistryOperation['output']>>> =>
  checkBoundedStaleness(registryModel, { primary, backupReads }, { staleMs });

test('a backup read may miss the writes acknowledged within the bound before its call, not older ones', () => {
  const writes = [adv(0, [0, 1], 'h:1'), adv(0, [20, 21], 'h:2')];
  // Called 9 ms after h:2 was acknowledged, bound 10: h:1 is still allowed.
  assert.deepEqual(check(writes, [find(1, [30, 31], 'h:1')]), { ok: true });
  assert.deepEqual(check(writes, [find(1, [30, 31], 'h:2')]), { ok: true });
  // Even the state before any write, while the first write is within the bound.
  assert.deepEqual(check(writes, [find(1, [5, 6], undefined)]), { ok: true });
  // 11 ms after: h:1 is too old.
  const r = check(writes, [find(1, [32, 33], 'h:1')]);
  assert.ok(r.ok === false && r.verdict === 'violation', JSON.stringify(r));
  assert.equal(r.key, '/a');
  assert.deepEqual(r.witness.blocked.output, { op: 'find', address: 'h:1' });
  assert.equal(r.witness.blocked.client, '1 (backup)');
  // The explanation shows the read as checked, moved back by the bound, and says so.
  assert.match(r.explanation, /client 1 \(backup\) \[22\.0–33\.0\] find \/a → h:1/);
  assert.match(r.explanation, /shown as called 10 ms before it was/);
  // The same read from the primary is no read from a backup: not linearizable even 9 ms after.
  assert.equal(check([...writes, find(1, [30, 31], 'h:1')], []).ok, false);
});

test('a backup read never shows a value from its future, nor one never written', () => {
  const writes = [adv(0, [0, 1], 'h:1'), adv(0, [20, 21], 'h:2')];
  assert.equal(check(writes, [find(1, [5, 6], 'h:2')]).ok, false);
  assert.equal(check(writes, [find(1, [30, 31], 'h:9')]).ok, false);
  // A write that never returned may explain it, once called.
  assert.deepEqual(check([...writes, adv(2, [25, Infinity], 'h:3')], [find(1, [30, 31], 'h:3')]), { ok: true });
  assert.equal(check([...writes, adv(2, [32, Infinity], 'h:3')], [find(1, [30, 31], 'h:3')]).ok, false);
});

test('backup reads must fit the one order of writes the primary\'s operations allow', () => {
  // Two concurrent writes; the primary's reads say h:1 landed first and h:2 after 7.
  const primary = [adv(0, [0, 10], 'h:1'), adv(1, [0, 10], 'h:2'), find(2, [7, 8], 'h:1'), find(2, [11, 12], 'h:2')];
  assert.deepEqual(check(primary, []), { ok: true });
  // A backup may lag behind: h:1 long after ...
  assert.deepEqual(check(primary, [find(3, [15, 16], 'h:1')]), { ok: true });
  // ... but it cannot have shown h:2 before 6: h:2 came after the primary's h:1 at 7.
  const r = check(primary, [find(3, [5, 6], 'h:2')]);
  assert.ok(r.ok === false && r.verdict === 'violation', JSON.stringify(r));
  // Nor does the bound order reads among themselves: one reader's two reads (overlapping once
  // moved back) may come in either order; a backup's monotonic reads are not checked here.
  assert.deepEqual(check(primary, [find(3, [13, 14], 'h:2'), find(3, [15, 16], 'h:1')]), { ok: true });
});

test('a backup read that never returned observed nothing; a backup write is a mistake of the caller', () => {
  const unanswered: RegistryOperation = { client: 1, call: 50, input: { op: 'find', name: '/a' } };
  assert.deepEqual(check([adv(0, [0, 1], 'h:1')], [unanswered]), { ok: true });
  assert.throws(() => check([], [adv(1, [0, 1], 'h:1')]), /a backup's operation must be a read/);
  assert.throws(() => check([], [], -1), RangeError);
  assert.throws(() => check([], [], Infinity), RangeError);
});

const opSpec: fc.Arbitrary<OpSpec> = fc.record({
  client: fc.nat(5), key: fc.nat(2), kind: fc.nat(4), gap: fc.nat(5), duration: fc.integer({ min: 1, max: 30 }),
  at: fc.nat(1000), lost: fc.nat(9).map((n) => n === 0), applied: fc.boolean(),
});
const world = fc.record({ clients: fc.integer({ min: 1, max: 6 }), keys: fc.integer({ min: 1, max: 3 }), ops: fc.array(opSpec, { maxLength: 50 }) });

test('reads delayed by at most the bound, answers kept (a backup that lagged), are always accepted from a backup', () => {
  fc.assert(fc.property(world, fc.array(fc.nat(20), { maxLength: 50 }), fc.integer({ min: 0, max: 20 }), ({ clients, keys, ops }, delays, staleMs) => {
    const { history, reads } = generate(ops, clients, keys);
    const late = new Set(reads.filter((_, k) => (delays[k] ?? 0) % 2 === 0));
    const primary = history.filter((_, i) => !late.has(i));
    const backupReads = [...late].map((i, k) => {
      const op = history[i] as RegistryOperation;
      const d = Math.min(staleMs, delays[k] ?? 0);
      return { ...op, call: op.call + d, return: (op.return as number) + d };
    });
    const r = checkBoundedStaleness(registryModel, { primary, backupReads }, { staleMs });
    assert.deepEqual(r, { ok: true }, r.ok ? '' : r.explanation);
  }), { numRuns: 300 });
});

test('with a bound of 0, reads from backups are held to linearizability', () => {
  fc.assert(fc.property(world, fc.nat(), fc.nat(30), ({ clients, keys, ops }, pick, shift) => {
    const { history, reads } = generate(ops, clients, keys);
    fc.pre(reads.length > 0);
    // One read moved later with its answer kept: linearizable or not, both checks must agree.
    const i = reads[pick % reads.length] as number;
    const op = history[i] as RegistryOperation;
    const moved = { ...op, call: op.call + shift, return: (op.return as number) + shift };
    const primary = history.filter((_, j) => j !== i);
    const split = checkBoundedStaleness(registryModel, { primary, backupReads: [moved] }, { staleMs: 0 });
    assert.equal(split.ok, checkLinearizable(registryModel, [...primary, moved]).ok);
  }), { numRuns: 300 });
});
