// The name server's DNS interface end to end, with real resolvers: dig over UDP and TCP, Node's
// dns.Resolver, and dnsmasq forwarding the domain to it. Static entries, aliases, a host name
// and an IPv6 host, the negative answers, case, truncation, and the counters in /metrics.
// Launches by query are dns-launch.test.ts's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { dig, runCli, startDnsmasq, startDnsServer, teardown, type CliResult, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
let dnsPort: number;
/** Five alias segments of 60 characters: a chain whose answer passes 512 bytes. */
const LONG = (n: number) => `${'x'.repeat(58)}-${n}`;

before(async () => {
  ({ ns, dnsPort } = await startDnsServer(['--log-level', 'warn']));
  await ok(['advertise', '/vods/qs', '127.0.0.1', '7007']);
  await ok(['advertise', '/web/main', 'localhost', '8080']);
  await ok(['advertise', '/v6/svc', '::1', '9000']);
  await ok(['advertise', '/Case/Upper', '127.0.0.2', '7100']);
  await ok(['alias', '/vods/latest', '/vods/qs']);
  await ok(['advertise', `/tc/${LONG(0)}`, '127.0.0.1', '7200']);
  for (let i = 1; i <= 5; i++) await ok(['alias', `/tc/${LONG(i)}`, `/tc/${LONG(i - 1)}`]);
});

after(teardown);

async function ok(args: string[]): Promise<CliResult> {
  const r = await runCli(['--server', ns.server, ...args], { env: { DPNS_TOKEN: ns.token }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, `dpns ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

test('dig over UDP and TCP: SRV gives port and target, the address rides along; AA is set', async () => {
  for (const tcp of [[], ['+tcp']]) {
    const r = await dig(dnsPort, ['qs.vods.dpns', 'SRV', ...tcp]);
    assert.equal(r.status, 'NOERROR', r.text);
    assert.ok(r.flags.includes('aa'), r.text);
    assert.deepEqual(r.answer, ['qs.vods.dpns. 5 IN SRV 0 0 7007 qs.vods.dpns.'], r.text);
    assert.deepEqual(r.additional, ['qs.vods.dpns. 5 IN A 127.0.0.1'], r.text);
  }
  const a = await dig(dnsPort, ['qs.vods.dpns', 'A']);
  assert.deepEqual(a.answer, ['qs.vods.dpns. 5 IN A 127.0.0.1'], a.text);
});

test('an alias is a CNAME followed in the same answer; a host name is a CNAME to the host; an IPv6 host is AAAA only', async () => {
  const alias = await dig(dnsPort, ['latest.vods.dpns', 'A']);
  assert.deepEqual(alias.answer, ['latest.vods.dpns. 5 IN CNAME qs.vods.dpns.', 'qs.vods.dpns. 5 IN A 127.0.0.1'], alias.text);
  const srv = await dig(dnsPort, ['latest.vods.dpns', 'SRV', '+tcp']);
  assert.deepEqual(srv.answer, ['latest.vods.dpns. 5 IN CNAME qs.vods.dpns.', 'qs.vods.dpns. 5 IN SRV 0 0 7007 qs.vods.dpns.'], srv.text);
  const named = await dig(dnsPort, ['main.web.dpns', 'A']);
  assert.deepEqual(named.answer, ['main.web.dpns. 5 IN CNAME localhost.'], named.text);
  const namedSrv = await dig(dnsPort, ['main.web.dpns', 'SRV']);
  assert.deepEqual(namedSrv.answer, ['main.web.dpns. 5 IN SRV 0 0 8080 localhost.'], namedSrv.text);
  const v6 = await dig(dnsPort, ['svc.v6.dpns', 'AAAA']);
  assert.deepEqual(v6.answer, ['svc.v6.dpns. 5 IN AAAA ::1'], v6.text);
  const v6a = await dig(dnsPort, ['svc.v6.dpns', 'A']);
  assert.equal(v6a.status, 'NOERROR', v6a.text);
  assert.deepEqual(v6a.answer, [], v6a.text);
});

test('unknown names are NXDOMAIN, known names of another type and names with names below them NODATA, both with the SOA; outside the domain REFUSED', async () => {
  const soa = /^dpns\. 5 IN SOA dpns\. hostmaster\.dpns\. \d+ 3600 600 86400 5$/;
  const nx = await dig(dnsPort, ['nope.vods.dpns', 'SRV']);
  assert.equal(nx.status, 'NXDOMAIN', nx.text);
  assert.ok(nx.flags.includes('aa'), nx.text);
  assert.match(nx.authority[0] ?? '', soa, nx.text);
  for (const [name, type] of [['qs.vods.dpns', 'TXT'], ['vods.dpns', 'SRV'], ['dpns', 'A']] as const) {
    const r = await dig(dnsPort, [name, type]);
    assert.equal(r.status, 'NOERROR', r.text);
    assert.deepEqual(r.answer, [], r.text);
    assert.match(r.authority[0] ?? '', soa, r.text);
  }
  // A label no dpns name can have (a character outside the name rules): NXDOMAIN.
  assert.equal((await dig(dnsPort, ['a+b.dpns', 'A'])).status, 'NXDOMAIN');
  const out = await dig(dnsPort, ['example.com', 'A']);
  assert.equal(out.status, 'REFUSED', out.text);
  assert.ok(!out.flags.includes('aa'), out.text);
  // Counted in /metrics by transport and rcode.
  const metrics = await (await fetch(`http://127.0.0.1:${ns.port}/metrics`)).text();
  for (const rcode of ['NXDOMAIN', 'REFUSED', 'NOERROR']) {
    const m = new RegExp(`^dpns_dns_queries_total\\{transport="udp",rcode="${rcode}"\\} (\\d+)$`, 'm').exec(metrics);
    assert.ok(m !== null && Number(m[1]) >= 1, `dpns_dns_queries_total for ${rcode} in:\n${metrics.split('\n').filter((l) => l.includes('dns')).join('\n')}`);
  }
});

test('case: the exact spelling is found first, then the name in lowercase; a mixed-case name needs its own case', async () => {
  assert.deepEqual((await dig(dnsPort, ['Upper.Case.dpns', 'A'])).answer, ['Upper.Case.dpns. 5 IN A 127.0.0.2']);
  assert.deepEqual((await dig(dnsPort, ['QS.VODS.DPNS', 'A'])).answer, ['QS.VODS.DPNS. 5 IN A 127.0.0.1']);
  assert.equal((await dig(dnsPort, ['upper.case.dpns', 'A'])).status, 'NXDOMAIN');
});

test('an answer over 512 bytes is truncated over UDP without EDNS, whole with EDNS and over TCP', async () => {
  const name = `${LONG(5)}.tc.dpns`;
  const udp = await dig(dnsPort, [name, 'A', '+noedns', '+ignore']);
  assert.ok(udp.flags.includes('tc'), udp.text);
  assert.deepEqual(udp.answer, [], udp.text);
  // With EDNS offering 1232 bytes, the same answer (about 750 bytes) comes whole over UDP.
  const edns = await dig(dnsPort, [name, 'A', '+bufsize=1232', '+ignore']);
  assert.ok(!edns.flags.includes('tc'), edns.text);
  assert.equal(edns.answer.length, 6, edns.text);
  const tcp = await dig(dnsPort, [name, 'A', '+tcp']);
  assert.equal(tcp.answer.length, 6, tcp.text);
  assert.equal(tcp.answer[5], `${LONG(0)}.tc.dpns. 5 IN A 127.0.0.1`);
});

test("Node's dns.Resolver: SRV, A through an alias, ENOTFOUND and ENODATA", async () => {
  const r = new Resolver({ timeout: 5000, tries: 1 });
  r.setServers([`127.0.0.1:${dnsPort}`]);
  assert.deepEqual(await r.resolveSrv('qs.vods.dpns'), [{ name: 'qs.vods.dpns', port: 7007, priority: 0, weight: 0 }]);
  assert.deepEqual(await r.resolve4('latest.vods.dpns'), ['127.0.0.1']);
  await assert.rejects(r.resolveSrv('nope.dpns'), { code: 'ENOTFOUND' });
  await assert.rejects(r.resolveTxt('qs.vods.dpns'), { code: 'ENODATA' });
});

test('dnsmasq forwarding the domain: names, aliases, NXDOMAIN and NODATA', async () => {
  const fwd = await startDnsmasq('dpns', dnsPort);
  try {
    const srv = await dig(fwd.port, ['qs.vods.dpns', 'SRV', '+recurse']);
    assert.equal(srv.status, 'NOERROR', srv.text);
    assert.deepEqual(srv.answer, ['qs.vods.dpns. 5 IN SRV 0 0 7007 qs.vods.dpns.'], srv.text);
    const alias = await dig(fwd.port, ['latest.vods.dpns', 'A', '+recurse']);
    assert.deepEqual(alias.answer, ['latest.vods.dpns. 5 IN CNAME qs.vods.dpns.', 'qs.vods.dpns. 5 IN A 127.0.0.1'], alias.text);
    assert.equal((await dig(fwd.port, ['nope.dpns', 'A', '+recurse'])).status, 'NXDOMAIN');
    const nodata = await dig(fwd.port, ['qs.vods.dpns', 'TXT', '+recurse']);
    assert.equal(nodata.status, 'NOERROR', nodata.text);
    assert.deepEqual(nodata.answer, []);
  } finally {
    await fwd.stop();
  }
});
