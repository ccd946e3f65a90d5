// The checker on the textbook histories, on the registry model: what must pass, what must not,
// what a failure says, and that running out of budget is never a pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizable } from './linearizability.js';
import { registryModel, type RegistryOperation } from './registry-model.js';

/** `[call, return]`; a return of Infinity: the operation never returned. */
type Span = readonly [number, number];

const adv = (client: number, [call, ret]: Span, address: string, name = '/a'): RegistryOperation =>
  Number.isFinite(ret) ? { client, call, return: ret, input: { op: 'advertise', name, address }, output: { op: 'advertise' } } : { client, call, input: { op: 'advertise', name, address } };
const unadv = (client: number, [call, ret]: Span, existed: boolean, name = '/a'): RegistryOperation =>
  ({ client, call, return: ret, input: { op: 'unadvertise', name }, output: { op: 'unadvertise', existed } });
const find = (client: number, [call, ret]: Span, address: string | undefined, name = '/a'): RegistryOperation =>
  ({ client, call, return: ret, input: { op: 'find', name }, output: { op: 'find', address } });

const check = (h: RegistryOperation[]): ReturnType<typeof checkLinearizable<string | undefined, RegistryOperation['input'], NonNullable<RegistryOperation['output']>>> =>
  checkLinearizable(registryModel, h);

test('an empty history, and a sequential one, are linearizable', () => {
  assert.deepEqual(check([]), { ok: true });
  assert.deepEqual(check([find(0, [0, 1], undefined), adv(0, [2, 3], 'h:1'), find(1, [4, 5], 'h:1'), unadv(0, [6, 7], true), unadv(1, [8, 9], false), find(1, [10, 11], undefined)]), { ok: true });
});

test('a stale read after a completed write is not linearizable', () => {
  const r = check([adv(0, [0, 1], 'h:1'), adv(0, [2, 3], 'h:2'), find(1, [4, 5], 'h:1')]);
  assert.equal(r.ok, false);
  assert.equal(r.ok === false && r.verdict, 'violation');
});

test('a read concurrent with a write may see either value', () => {
  const before = [adv(0, [0, 1], 'h:1')];
  assert.deepEqual(check([...before, adv(0, [2, 6], 'h:2'), find(1, [3, 5], 'h:1')]), { ok: true });
  assert.deepEqual(check([...before, adv(0, [2, 6], 'h:2'), find(1, [3, 5], 'h:2')]), { ok: true });
  // But two reads by one client cannot see the new value and then the old one.
  const r = check([...before, adv(0, [2, 10], 'h:2'), find(1, [3, 4], 'h:2'), find(1, [5, 6], 'h:1')]);
  assert.equal(r.ok, false);
});

test('a write that never returned may explain a later read, and need not have happened', () => {
  // It must have happened: the read saw its value.
  assert.deepEqual(check([adv(0, [0, Infinity], 'h:9'), find(1, [5, 6], 'h:9')]), { ok: true });
  // It may not have happened: the read saw nothing.
  assert.deepEqual(check([adv(0, [0, Infinity], 'h:9'), find(1, [5, 6], undefined)]), { ok: true });
  // It happened late: first nothing, then its value.
  assert.deepEqual(check([adv(0, [0, Infinity], 'h:9'), find(1, [5, 6], undefined), find(1, [7, 8], 'h:9')]), { ok: true });
  // But not before it was called.
  assert.equal(check([find(1, [0, 1], 'h:9'), adv(0, [2, Infinity], 'h:9')]).ok, false);
  // Nor twice: seen, overwritten, then seen again.
  assert.equal(check([adv(0, [0, Infinity], 'h:9'), find(1, [1, 2], 'h:9'), adv(1, [3, 4], 'h:2'), find(1, [5, 6], 'h:9')]).ok, false);
});

test('a read of a value never written is not linearizable, and the explanation names it', () => {
  const r = check([adv(0, [0, 1], 'h:1'), find(1, [2, 3], 'h:1'), adv(2, [4, 8], 'h:2'), find(1, [5, 6], 'h:7')]);
  assert.ok(r.ok === false && r.verdict === 'violation', JSON.stringify(r));
  assert.equal(r.key, '/a');
  assert.deepEqual(r.witness.blocked.output, { op: 'find', address: 'h:7' });
  assert.deepEqual(r.witness.linearized.map((op) => op.input.op), ['advertise', 'find', 'advertise'], 'the longest order that fits');
  assert.equal(r.witness.stateAfter, '(advertised at h:2)');
  assert.deepEqual(r.witness.concurrent, []);
  // For a person: the key, the order that fits, the state, the operation that cannot go next (by
  // its place in the history).
  assert.match(r.explanation, /not linearizable on key "\/a"/);
  assert.match(r.explanation, /#0 client 0 \[0\.0–1\.0\] advertise \/a h:1 → ok/);
  assert.match(r.explanation, /#1 client 1 \[2\.0–3\.0\] find \/a → h:1/);
  assert.match(r.explanation, /leaves the state \(advertised at h:2\)/);
  assert.match(r.explanation, /no order places this one:\n {4}#3 client 1 \[5\.0–6\.0\] find \/a → h:7/);
  assert.match(r.explanation, /no operation outside that order was pending/);
});

test('the explanation lists the operations that were pending beside the one that cannot be placed', () => {
  const r = check([adv(0, [0, 1], 'h:1'), find(1, [2, 6], 'h:7'), find(2, [3, 8], 'h:8')]);
  assert.ok(r.ok === false && r.verdict === 'violation', JSON.stringify(r));
  assert.equal(r.witness.linearized.length, 1);
  assert.deepEqual(r.witness.concurrent.map((op) => op.output), [{ op: 'find', address: 'h:8' }]);
  assert.match(r.explanation, /#1 client 1 \[2\.0–6\.0\] find \/a → h:7\n {2}though these, outside that order, were also pending before it returned:\n {4}#2 client 2 \[3\.0–8\.0\] find \/a → h:8/);
  assert.match(r.explanation, /The longest order found that every answer fits \(1 operation\)/);
  // With nothing placeable at all.
  const first = check([find(1, [0, 1], 'h:7')]);
  assert.ok(first.ok === false && first.verdict === 'violation');
  assert.match(first.explanation, /^not linearizable on key "\/a"\.\nNo operation can go first:\n {4}#0 client 1/);
});

test('unadvertise answers are part of the state: NOT_FOUND only when there was no entry', () => {
  assert.deepEqual(check([adv(0, [0, 1], 'h:1'), unadv(1, [2, 5], true), unadv(2, [3, 4], false)]), { ok: true });
  assert.equal(check([adv(0, [0, 1], 'h:1'), unadv(1, [2, 3], false)]).ok, false);
  assert.equal(check([unadv(1, [0, 1], true)]).ok, false);
  const r = check([adv(0, [0, 1], 'h:1'), unadv(1, [2, 3], true), find(2, [4, 5], 'h:1')]);
  assert.ok(r.ok === false && r.verdict === 'violation');
  assert.match(r.explanation, /leaves the state \(no entry\)/);
});

test('names are checked apart: a violation is reported on its own name, others do not hide it', () => {
  const h = [
    adv(0, [0, 1], 'h:1', '/x'), adv(1, [0, 1], 'h:1', '/y'),
    find(2, [2, 3], 'h:1', '/x'), find(2, [2, 3], undefined, '/z'),
    adv(0, [4, 5], 'h:2', '/y'), find(3, [6, 7], 'h:1', '/y'),
  ];
  const r = check(h);
  assert.ok(r.ok === false && r.verdict === 'violation');
  assert.equal(r.key, '/y');
  // The operations are numbered by their place in the whole history, not in their name's part.
  assert.match(r.explanation, /#5 client 3 \[6\.0–7\.0\] find \/y → h:1/);
  assert.deepEqual(check(h.slice(0, 5)), { ok: true });
  const parts = registryModel.partition?.(h);
  assert.deepEqual([...(parts?.keys() ?? [])], ['/x', '/y', '/z']);
});

test('calls and returns at the same instant count as concurrent (never a false alarm)', () => {
  assert.deepEqual(check([adv(0, [0, 5], 'h:1'), find(1, [5, 6], undefined)]), { ok: true });
});

test('a search over its budget is unknown, never ok', () => {
  // Many concurrent writes and a final read of a value nobody wrote: every order must be tried.
  const h: RegistryOperation[] = [];
  for (let i = 0; i < 10; i++) h.push(adv(i, [0, 100], `h:${i}`));
  h.push(find(99, [101, 102], 'h:none'));
  const small = checkLinearizable(registryModel, h, { maxStates: 50 });
  assert.ok(small.ok === false && small.verdict === 'unknown', JSON.stringify(small));
  assert.equal(small.key, '/a');
  assert.match(small.explanation, /more than 50 states/);
  const late = checkLinearizable(registryModel, h, { timeoutMs: 0 });
  assert.ok(late.ok === false && late.verdict === 'unknown');
  assert.match(late.explanation, /time budget/);
  // With room, the memo makes short work of it: 2^10 sets of writes, not 10! orders.
  const full = checkLinearizable(registryModel, h);
  assert.ok(full.ok === false && full.verdict === 'violation');
});

test('a violation on one name is reported even when another name ran out of budget', () => {
  const h: RegistryOperation[] = [];
  for (let i = 0; i < 14; i++) h.push(adv(i, [0, 100], `h:${i}`, '/big'));
  h.push(find(99, [101, 102], 'h:none', '/big'));
  h.push(adv(0, [0, 1], 'h:1', '/small'), find(1, [2, 3], undefined, '/small'));
  const r = checkLinearizable(registryModel, h, { maxStates: 50 });
  assert.ok(r.ok === false && r.verdict === 'violation', JSON.stringify(r));
  assert.equal(r.key, '/small');
});
