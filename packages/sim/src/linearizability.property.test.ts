// Properties of the checker over random histories: what a real sequential execution produces is
// always accepted, and one read changed to an answer no order could give is always refused.
// And the figure docs/CLUSTER.md states: a history of 2,000 operations over 50 names, 8 clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkLinearizable } from './linearizability.js';
import { registryModel, type RegistryOperation } from './registry-model.js';
import { seededRandom } from './random.js';
import { generate, randomOps, type OpSpec } from './registry-histories.test.helper.js';

const opSpec: fc.Arbitrary<OpSpec> = fc.record({
  client: fc.nat(7), key: fc.nat(3), kind: fc.nat(4), gap: fc.nat(5), duration: fc.integer({ min: 1, max: 30 }),
  at: fc.nat(1000), lost: fc.nat(9).map((n) => n === 0), applied: fc.boolean(),
});
const world = fc.record({ clients: fc.integer({ min: 1, max: 8 }), keys: fc.integer({ min: 1, max: 4 }), ops: fc.array(opSpec, { maxLength: 60 }) });

test('every history made by a real sequential execution, with overlapping timings and lost answers, is linearizable', () => {
  fc.assert(fc.property(world, ({ clients, keys, ops }) => {
    const { history } = generate(ops, clients, keys);
    const r = checkLinearizable(registryModel, history);
    assert.deepEqual(r, { ok: true }, r.ok ? '' : r.explanation);
  }), { numRuns: 300 });
});

test('changing one read to a value no order could make current there makes the history not linearizable', () => {
  fc.assert(fc.property(world, fc.nat(), fc.boolean(), ({ clients, keys, ops }, pick, future) => {
    const { history, reads } = generate(ops, clients, keys);
    fc.pre(reads.length > 0);
    const i = reads[pick % reads.length] as number;
    const read = history[i] as RegistryOperation;
    // Values are unique per write, so a value is impossible for this read when every write of it
    // was called after the read returned (or there is none).
    const later = history.find((op) => op.input.op === 'advertise' && op.input.name === read.input.name && op.call > (read.return as number));
    const address = future && later?.input.op === 'advertise' ? later.input.address : 'never:0';
    const mutated = history.map((op, j) => (j === i ? { ...op, output: { op: 'find' as const, address } } : op));
    const r = checkLinearizable(registryModel, mutated);
    assert.ok(r.ok === false && r.verdict === 'violation', `read #${i} changed to ${address}: ${JSON.stringify(r)}`);
    assert.equal(r.key, read.input.name);
  }), { numRuns: 300 });
});

test('2,000 operations over 50 names by 8 clients: checked, and the time printed', () => {
  const { history } = generate(randomOps(seededRandom(15), 2000, 8, 50), 8, 50);
  const t0 = performance.now();
  const r = checkLinearizable(registryModel, history);
  const ms = performance.now() - t0;
  assert.deepEqual(r, { ok: true }, r.ok ? '' : r.explanation);
  const lost = history.filter((op) => op.return === undefined).length;
  console.log(`# checked ${history.length} operations (${lost} never returned) over 50 names by 8 clients in ${ms.toFixed(1)} ms`);
});
