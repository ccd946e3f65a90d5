// The DNS port's global bounds with the real server: a flood from many forged-looking sources
// (UDP from 512 loopback addresses 127.77.x.y, each on its own port, every one well within
// --dns-queries-per-second) is held to --dns-global-queries-per-second, is counted in
// dpns_dns_limited_total, and a well-behaved client is answered again once it has passed. With a
// real agent, queries from three sources that would launch three services meet
// --dns-max-launches-in-flight 2: the third is SERVFAIL and launches nothing. The UDP in-flight
// cap is dns-server.test.ts's.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import * as packet from 'dns-packet';
import { dig, runCli, startDnsServer, startServiceRig, teardown } from './harness/index.js';

after(teardown);

const SOURCES = 512;
const PER_SOURCE = 2;
const GLOBAL_QPS = 50;

/** A UDP socket bound to `address` on a free port, handing what it gets to `onAnswer`. */
function bound(address: string, onAnswer: (m: Buffer) => void): Promise<UdpSocket> {
  const sock = createSocket('udp4');
  sock.on('message', onAnswer);
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, address, () => resolve(sock));
  });
}

function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

test('a flood from many source addresses is held to the global rate, and a well-behaved client is answered after it', async () => {
  const { ns, dnsPort } = await startDnsServer(['--log-level', 'error', '--dns-global-queries-per-second', String(GLOBAL_QPS)]);
  const r = await runCli(['--server', ns.server, 'advertise', '/lim/ok', '127.0.0.1', '7007'], { env: { DPNS_TOKEN: ns.token }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  let answered = 0;
  const socks: UdpSocket[] = [];
  try {
    for (let i = 0; i < SOURCES; i++) socks.push(await bound(`127.77.${Math.floor(i / 200)}.${1 + (i % 200)}`, () => answered++));
    const q = packet.encode({ type: 'query', id: 1, flags: 0, questions: [{ name: 'nope.lim.dpns', type: 'A', class: 'IN' }] });
    const started = performance.now();
    // In slices with a pause between, so that the kernel's receive buffer holds them all: the
    // server, not a full socket buffer, must be what leaves them unanswered.
    for (let round = 0; round < PER_SOURCE; round++) {
      for (let i = 0; i < SOURCES; i += 64) {
        await Promise.all(socks.slice(i, i + 64).map((s) => new Promise<void>((resolve, reject) => s.send(q, dnsPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())))));
        await new Promise((res) => setTimeout(res, 5));
      }
    }
    await new Promise((res) => setTimeout(res, 500));
    const elapsed = (performance.now() - started) / 1000;
    const sent = SOURCES * PER_SOURCE;
    // The bucket holds GLOBAL_QPS at most when the flood starts and refills GLOBAL_QPS a second.
    const bound_ = GLOBAL_QPS + Math.ceil(GLOBAL_QPS * elapsed);
    assert.ok(answered >= 1 && answered <= bound_, `${answered} of ${sent} answered in ${elapsed.toFixed(2)} s; the global rate allows at most ${bound_}`);
    const metrics = await (await fetch(`http://127.0.0.1:${ns.port}/metrics`)).text();
    const dns = metrics.split('\n').filter((l) => l.startsWith('dpns_dns_')).join('\n');
    // What the server read, it answered or dropped for the global rate (what a loaded machine's
    // full socket buffer lost never reached it), and no source passed its own rate.
    const globalDropped = metric(metrics, 'dpns_dns_limited_total{limit="global_rate"}');
    assert.ok(globalDropped >= 1, `nothing dropped for the global rate:\n${dns}`);
    assert.equal(metric(metrics, 'dpns_dns_queries_total{transport="udp",rcode="NXDOMAIN"}'), answered, `answers sent and received:\n${dns}`);
    assert.equal(metric(metrics, 'dpns_dns_queries_total{transport="udp",rcode="dropped"}'), globalDropped, `every query dropped was dropped for the global rate:\n${dns}`);
    assert.equal(metric(metrics, 'dpns_dns_limited_total{limit="source_rate"}'), 0, 'no source passed its own rate: the global one held the flood');
  } finally {
    for (const s of socks) s.close();
  }
  // Past the flood the bucket refills in a second: a client that asks once is answered.
  await new Promise((res) => setTimeout(res, 1200));
  const out = await dig(dnsPort, ['ok.lim.dpns', 'SRV']);
  assert.equal(out.status, 'NOERROR', out.text);
  assert.deepEqual(out.answer, ['ok.lim.dpns. 5 IN SRV 0 0 7007 ok.lim.dpns.'], out.text);
});

test('past --dns-max-launches-in-flight a query that would launch is SERVFAIL and launches nothing; others are answered', async () => {
  const { rig, dnsPort } = await startServiceRig({ allow: { sleep: '/bin/sleep' }, args: ['--dns-max-launches-in-flight', '2'] });
  try {
    // Programs that never advertise: their queries wait out the whole 3.5 s launch wait.
    for (const n of ['a', 'b', 'c']) await rig.ok(['add', `/slow/${n}`, '--host', '127.0.0.1', '--program', 'sleep', '--arg', '30', '--start-timeout', '20000']);
    await rig.ok(['advertise', '/lim/ok', '127.0.0.1', '7007']);
    const rcodes = new Map<string, number>();
    const socks: UdpSocket[] = [];
    for (const n of ['a', 'b', 'c']) {
      socks.push(await bound(`127.78.0.${socks.length + 1}`, (m) => rcodes.set(n, m.readUInt16BE(2) & 0xf)));
    }
    try {
      // In order, each sent once the last is: the server starts the first two waits before it reads the third.
      for (const [i, n] of ['a', 'b', 'c'].entries()) {
        const q = packet.encode({ type: 'query', id: i + 1, flags: 0, questions: [{ name: `${n}.slow.dpns`, type: 'SRV', class: 'IN' }] });
        await new Promise<void>((resolve, reject) => socks[i]?.send(q, dnsPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      }
      for (let waited = 0; rcodes.size < 3; waited += 50) {
        if (waited > 15_000) assert.fail(`answers after 15 s: ${JSON.stringify([...rcodes])}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      for (const s of socks) s.close();
    }
    // All SERVFAIL (2): the first two because their launch outlasted the wait, the third at the cap.
    assert.deepEqual([...rcodes.entries()].sort(), [['a', 2], ['b', 2], ['c', 2]]);
    const metrics = await (await fetch(`http://127.0.0.1:${rig.ns.port}/metrics`)).text();
    assert.equal(metric(metrics, 'dpns_dns_limited_total{limit="launches_in_flight"}'), 1, 'the third query was refused at the cap');
    assert.equal(metric(metrics, 'dpns_on_demand_launches_total{via="dns"}'), 2, 'only the first two launched');
    assert.equal((await rig.entry('/slow/c')).state, 'registered', 'the refused query launched nothing');
    for (const n of ['a', 'b']) assert.equal((await rig.entry(`/slow/${n}`)).state, 'starting');
    // A well-behaved client is answered all along.
    const out = await dig(dnsPort, ['ok.lim.dpns', 'SRV']);
    assert.equal(out.status, 'NOERROR', out.text);
    await rig.ok(['kill', '/slow/a']);
    await rig.ok(['kill', '/slow/b']);
  } finally {
    await rig.close();
  }
});
