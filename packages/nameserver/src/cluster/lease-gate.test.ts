import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsError } from '@dpns/protocol';
import { LeaseGate } from './lease-gate.js';

/** A gate over a fake node: `leased` says whether the lease is back, `renewals` counts rounds asked for. */
function rig() {
  const state = { leased: false, renewals: 0 };
  const gate = new LeaseGate({
    renew: () => void state.renewals++,
    refusalNow: () => (state.leased ? undefined : new DpnsError('NOT_PRIMARY', 'no lease')),
    maxWaitMs: 150,
  });
  return { gate, state };
}

test('reads without a lease ask for one round and are answered as soon as the lease is back', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { gate, state } = rig();
  const a = gate.wait();
  const b = gate.wait();
  assert.equal(state.renewals, 1, 'one round for every read waiting');
  assert.equal(gate.size, 2);
  state.leased = true;
  gate.settle();
  assert.deepEqual(await Promise.all([a, b]), [undefined, undefined]);
  assert.equal(gate.size, 0);
  t.mock.timers.tick(1000);
  const c = gate.wait();
  assert.equal(state.renewals, 2, 'a later read asks again');
  gate.settle();
  assert.equal(await c, undefined);
});

test('a paused primary: no lease comes back, and after one heartbeat the reads are refused', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { gate } = rig();
  let answered: DpnsError | undefined | 'pending' = 'pending';
  const a = gate.wait().then((r) => (answered = r));
  t.mock.timers.tick(149);
  await Promise.resolve();
  assert.equal(answered, 'pending', 'held up to the heartbeat');
  t.mock.timers.tick(1);
  await a;
  assert.equal((answered as unknown as DpnsError | undefined)?.code, 'NOT_PRIMARY');
  assert.equal(gate.size, 0);
});

test('settling with nothing waiting does nothing; settling twice answers once', async () => {
  const { gate } = rig();
  gate.settle();
  const seen: (DpnsError | undefined)[] = [];
  const a = gate.wait().then((r) => seen.push(r));
  gate.settle();
  gate.settle();
  await a;
  assert.equal(seen.length, 1);
});
