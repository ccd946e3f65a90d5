import { test } from 'node:test';
import assert from 'node:assert/strict';
import { query, read, responderRig } from './responder-rig.test.helper.js';

test('the global query rate drops queries from every source past it, forged addresses or not', async () => {
  const now = 0;
  const rig = responderRig({ globalQueriesPerSecond: 3, now: () => now });
  const outs = [];
  for (let i = 0; i < 6; i++) outs.push(read(await rig.responder.respond(query('nope.dpns', i), `127.0.${i}.1`, 'udp'))?.rcode);
  assert.deepEqual(outs, ['NXDOMAIN', 'NXDOMAIN', 'NXDOMAIN', undefined, undefined, undefined]);
  assert.deepEqual(rig.limited, ['global_rate', 'global_rate', 'global_rate']);
});

test('a source past its own rate does not spend the global allowance', async () => {
  const rig = responderRig({ queriesPerSecond: 1, globalQueriesPerSecond: 2, now: () => 0 });
  const ask = async (from: string) => read(await rig.responder.respond(query('nope.dpns'), from, 'udp'))?.rcode;
  assert.equal(await ask('10.0.0.1'), 'NXDOMAIN');
  assert.equal(await ask('10.0.0.1'), undefined, 'past its own share');
  assert.equal(await ask('10.0.0.2'), 'NXDOMAIN', 'the global allowance still has this one');
  assert.equal(await ask('10.0.0.3'), undefined, 'and no more');
  assert.deepEqual(rig.limited, ['source_rate', 'global_rate']);
});

test('queries waiting for launches are capped over all sources: past the cap SERVFAIL at once, and a finished wait frees its place', async () => {
  const rig = responderRig({ maxLaunchWaits: 2 });
  const first = rig.responder.respond(query('auto.demo.dpns', 1), '10.0.0.1', 'udp');
  const second = rig.responder.respond(query('auto.demo.dpns', 2), '10.0.0.2', 'tcp');
  // The third is answered while the two launches are still held.
  const third = read(await rig.responder.respond(query('auto.demo.dpns', 3), '10.0.0.3', 'udp'));
  assert.deepEqual(third, { rcode: 'SERVFAIL', questions: ['auto.demo.dpns'] });
  assert.deepEqual(rig.limited, ['launches_in_flight']);
  assert.deepEqual(rig.launched, ['/demo/auto', '/demo/auto'], 'the refused query launched nothing');
  rig.release();
  // Released, the launch left the service stopped in this registry: SERVFAIL, but not a refusal.
  assert.equal(read(await first)?.rcode, 'SERVFAIL');
  assert.equal(read(await second)?.rcode, 'SERVFAIL');
  const fourth = rig.responder.respond(query('auto.demo.dpns', 4), '10.0.0.4', 'udp');
  await new Promise((r) => setImmediate(r));
  assert.equal(rig.launched.length, 3, 'once the waits ended, a new query launches again');
  rig.release();
  await fourth;
  assert.deepEqual(rig.limited, ['launches_in_flight']);
});

test('a query the transport marks overloaded is answered SERVFAIL with its question, and launches nothing', async () => {
  const rig = responderRig();
  const out = read(await rig.responder.respond(query('auto.demo.dpns'), '10.0.0.1', 'udp', true));
  assert.deepEqual(out, { rcode: 'SERVFAIL', questions: ['auto.demo.dpns'] });
  assert.deepEqual(rig.limited, ['udp_in_flight']);
  assert.deepEqual(rig.launched, []);
});

test('an overloaded query past the rates is dropped, not answered', async () => {
  const rig = responderRig({ globalQueriesPerSecond: 1, now: () => 0 });
  assert.notEqual(await rig.responder.respond(query('nope.dpns'), '10.0.0.1', 'udp', true), undefined);
  assert.equal(await rig.responder.respond(query('nope.dpns'), '10.0.0.2', 'udp', true), undefined);
  assert.deepEqual(rig.limited, ['udp_in_flight', 'global_rate']);
});
