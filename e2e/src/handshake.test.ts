// The WebSocket handshake as PROTOCOL.md §2.1 describes it, checked byte for byte on a raw socket.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startServerProcess, teardown, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
before(async () => {
  ns = await startServerProcess({ args: ['--log-level', 'warn'] });
});
after(() => teardown());

/** Sends an upgrade request and returns the response head. */
function upgrade(extraHeaders: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: ns.port });
    let got = '';
    s.on('error', reject);
    s.on('data', (d) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) {
        s.destroy();
        resolve(got.slice(0, end));
      }
    });
    s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${ns.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`);
  });
}

test('no subprotocol is chosen, whatever the client offers, and no compression', async () => {
  const head = await upgrade('Sec-WebSocket-Protocol: dpns, jsonrpc\r\nSec-WebSocket-Extensions: permessage-deflate\r\n');
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.doesNotMatch(head, /sec-websocket-protocol/i);
  assert.doesNotMatch(head, /sec-websocket-extensions/i);
});
