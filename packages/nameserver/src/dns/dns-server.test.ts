import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createLogger } from '../log.js';
import { DnsServer } from './dns-server.js';
import { query, read, responderRig } from './responder-rig.test.helper.js';

test('UDP queries in flight are capped over all sources: past the cap SERVFAIL at once, and answered queries free their places', async () => {
  const rig = responderRig();
  const server = new DnsServer({
    host: '127.0.0.1', port: 0, maxUdpInFlight: 2, maxTcpConnections: 4, tcpIdleMs: 10_000, responder: rig.responder,
    log: createLogger({ level: 'error', format: 'json', write: () => undefined }),
  });
  await server.start();
  const sock = createSocket('udp4');
  const answers = new Map<number, Buffer>();
  sock.on('message', (m) => answers.set(m.readUInt16BE(0), m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const send = (buf: Buffer) => new Promise<void>((resolve, reject) => sock.send(buf, server.port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  const answer = async (id: number) => {
    for (let waited = 0; !answers.has(id); waited += 5) {
      if (waited > 5000) assert.fail(`no answer to query ${id}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return read(answers.get(id));
  };
  try {
    // Two queries held by their launches fill the cap.
    await send(query('auto.demo.dpns', 1));
    await send(query('auto.demo.dpns', 2));
    for (let waited = 0; rig.launched.length < 2; waited += 5) {
      if (waited > 5000) assert.fail('the two launches were not asked for');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(server.udpInFlight, 2);
    await send(query('nope.dpns', 3));
    assert.deepEqual(await answer(3), { rcode: 'SERVFAIL', questions: ['nope.dpns'] }, 'past the cap: SERVFAIL at once, while the two still wait');
    assert.deepEqual(rig.limited, ['udp_in_flight']);
    assert.equal(answers.has(1) || answers.has(2), false);
    rig.release();
    await answer(1);
    await answer(2);
    for (let waited = 0; server.udpInFlight > 0; waited += 5) {
      if (waited > 5000) assert.fail(`${server.udpInFlight} still in flight after every answer was sent`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await send(query('nope.dpns', 4));
    assert.deepEqual(await answer(4), { rcode: 'NXDOMAIN', questions: ['nope.dpns'] }, 'below the cap again: answered as usual');
    assert.deepEqual(rig.limited, ['udp_in_flight']);
  } finally {
    sock.close();
    await server.close();
  }
});
