// The registry's rules over random sequences of requests (fast-check): whatever is accepted or
// refused, in any order, the registry keeps its invariants. A refused request changes nothing;
// an alias always names an entry that exists; no alias chain cycles or outgrows the limit; every
// alias is listed under its target; and a snapshot reloads to the same registry. A failure
// prints the seed and the shrunk sequence; FC_SEED=<seed> replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileGlob, isDpnsError, type LaunchSpec } from '@dpns/protocol';
import type { Op } from './ops.js';
import { MAX_ALIAS_DEPTH as MAX_ALIAS_CHAIN, Registry } from './registry.js';
import { planAdd, planAdvertise, planAlias, planDelete, planLost, planUnadvertise, type Actor, type Bindings } from './rules.js';

const replay = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };
const NAMES = ['/a', '/b', '/c', '/d', '/e', '/x/1', '/x/2'] as const;
const spec: LaunchSpec = { host: 'h1', program: '/usr/bin/echo-server', args: [], env: {}, startTimeoutMs: 10_000 };
const admin: Actor = { admin: true, connId: 1 };
const nobodyBound: Bindings = { liveConn: () => undefined };

type Request =
  | { kind: 'add'; name: string }
  | { kind: 'advertise'; name: string; port: number }
  | { kind: 'unadvertise'; name: string }
  | { kind: 'alias'; name: string; target: string }
  | { kind: 'delete'; name: string }
  | { kind: 'lost'; name: string };

const name = fc.constantFrom(...NAMES);
const request: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), name }),
  fc.record({ kind: fc.constant('advertise' as const), name, port: fc.integer({ min: 1, max: 65535 }) }),
  fc.record({ kind: fc.constant('unadvertise' as const), name }),
  // Aliases are drawn more often: cycles and long chains are what this test is after.
  fc.record({ kind: fc.constant('alias' as const), name, target: name }),
  fc.record({ kind: fc.constant('alias' as const), name, target: name }),
  fc.record({ kind: fc.constant('delete' as const), name }),
  fc.record({ kind: fc.constant('lost' as const), name }),
);

function plan(reg: Registry, r: Request, now: number): Op[] {
  switch (r.kind) {
    case 'add': return planAdd(reg, r.name, spec, now);
    case 'advertise': return planAdvertise(reg, { name: r.name, host: 'h', port: r.port, static: true }, admin, nobodyBound, now);
    case 'unadvertise': return planUnadvertise(reg, r.name, admin, nobodyBound, now);
    case 'alias': return planAlias(reg, r.name, r.target, now);
    case 'delete': return planDelete(reg, r.name);
    case 'lost': return planLost(reg, r.name, 'its connection closed', now);
  }
}

function picture(reg: Registry): unknown {
  return [...reg.select(compileGlob('*'))].map((e) => ({ ...e }));
}

function checkInvariants(reg: Registry): void {
  for (const e of reg.all()) {
    if (e.kind !== 'alias') continue;
    const target = reg.get(e.target);
    assert.ok(target !== undefined, `alias ${e.name} names ${e.target}, which does not exist`);
    assert.ok(reg.aliasesTo(e.target).includes(e.name), `${e.name} is not listed under its target ${e.target}`);
    // Following the chain ends at a service within the limit, never coming back round.
    const seen = new Set<string>([e.name]);
    let at = target;
    while (at.kind === 'alias') {
      assert.ok(!seen.has(at.name), `alias chain from ${e.name} cycles at ${at.name}`);
      seen.add(at.name);
      assert.ok(seen.size <= MAX_ALIAS_CHAIN, `alias chain from ${e.name} is longer than ${MAX_ALIAS_CHAIN}`);
      const next = reg.get(at.target);
      assert.ok(next !== undefined, `alias ${at.name} names ${at.target}, which does not exist`);
      at = next;
    }
  }
}

test('random requests keep the registry\'s invariants; a refused request changes nothing', () => {
  fc.assert(fc.property(fc.array(request, { minLength: 1, maxLength: 60 }), (requests) => {
    const reg = new Registry();
    let revision = 0;
    requests.forEach((r, k) => {
      const before = picture(reg);
      let ops: Op[];
      try {
        ops = plan(reg, r, 1000 + k);
      } catch (err) {
        assert.ok(isDpnsError(err), `a refusal is a coded error, not ${String(err)}`);
        assert.deepEqual(picture(reg), before, `refused ${JSON.stringify(r)} changed the registry`);
        return;
      }
      if (ops.length > 0) reg.apply(ops, ++revision);
      checkInvariants(reg);
    });
    const copy = new Registry();
    copy.load(reg.snapshot());
    assert.deepEqual(picture(copy), picture(reg), 'a snapshot reloads to the same registry');
  }), { numRuns: 400, ...replay });
});
