import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntryView } from '@dpns/protocol';
import { Registry } from '../registry/registry.js';
import { planAnswer, type Planned } from './dns-answer.js';

const o = { domain: 'dpns.', ttl: 5 };
const running = (name: string, host: string, port: number): EntryView => ({ kind: 'service', name, state: 'running', since: 0, host, port, advertiser: { kind: 'static' } });

function registry(): Registry {
  const reg = new Registry();
  reg.apply([
    { t: 'put', e: running('/vods/qs', '10.0.0.5', 7007) },
    { t: 'put', e: running('/web/main', 'media-1', 80) },
    { t: 'put', e: { kind: 'alias', name: '/vods/latest', target: '/vods/qs', since: 0 } },
    { t: 'put', e: { kind: 'service', name: '/demo/auto', state: 'stopped', since: 0, spec: { host: 'h', program: '/bin/x', args: [], env: {}, startTimeoutMs: 1000 } } },
    { t: 'put', e: { kind: 'service', name: '/demo/gone', state: 'lost', since: 0 } },
  ], 1);
  return reg;
}

function answer(qname: string, qtype: string, launched = false): Planned {
  const p = planAnswer(registry(), qname, qtype, o, launched);
  assert.ok('answer' in p, `${qname} ${qtype} answered, not launched`);
  return p.answer;
}

test('SRV of an address host targets the name itself, with the A beside it', () => {
  const a = answer('qs.vods.dpns', 'SRV');
  assert.equal(a.rcode, 'NOERROR');
  assert.deepEqual(a.answers, [{ name: 'qs.vods.dpns', type: 'SRV', ttl: 5, data: { priority: 0, weight: 0, port: 7007, target: 'qs.vods.dpns.' } }]);
  assert.deepEqual(a.additionals, [{ name: 'qs.vods.dpns', type: 'A', ttl: 5, data: '10.0.0.5' }]);
});

test('a host name is a CNAME for A and the SRV target; an alias is a CNAME followed', () => {
  assert.deepEqual(answer('main.web.dpns', 'A').answers, [{ name: 'main.web.dpns', type: 'CNAME', ttl: 5, data: 'media-1.' }]);
  assert.deepEqual(answer('main.web.dpns', 'SRV').answers, [{ name: 'main.web.dpns', type: 'SRV', ttl: 5, data: { priority: 0, weight: 0, port: 80, target: 'media-1.' } }]);
  assert.deepEqual(answer('latest.vods.dpns', 'A').answers.map((r) => r.type), ['CNAME', 'A']);
  assert.deepEqual(answer('latest.vods.dpns', 'CNAME').answers.map((r) => r.type), ['CNAME']);
});

test('negative answers: NXDOMAIN, NODATA (wrong type, not running, names below), each with the SOA; REFUSED outside', () => {
  const nx = answer('nope.dpns', 'A');
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.authorities[0]?.type, 'SOA');
  for (const [q, t] of [['qs.vods.dpns', 'TXT'], ['gone.demo.dpns', 'SRV'], ['vods.dpns', 'A'], ['auto.demo.dpns', 'TXT']]) {
    const a = answer(q as string, t as string);
    assert.equal(a.rcode, 'NOERROR', `${q} ${t}`);
    assert.deepEqual(a.answers, []);
    assert.equal(a.authorities[0]?.type, 'SOA');
  }
  const out = answer('example.com', 'A');
  assert.equal(out.rcode, 'REFUSED');
  assert.equal(out.authoritative, false);
});

test('a stopped auto-start service asks for a launch, once', () => {
  assert.deepEqual(planAnswer(registry(), 'auto.demo.dpns', 'SRV', o), { launch: '/demo/auto' });
  assert.equal(answer('auto.demo.dpns', 'SRV', true).rcode, 'SERVFAIL', 'still not running after its launch');
});

test('case: exact first, then lowercase', () => {
  assert.equal(answer('QS.VODS.dpns', 'A').answers[0]?.name, 'QS.VODS.dpns');
  assert.equal(answer('QS.VODS.dpns', 'A').rcode, 'NOERROR');
});
