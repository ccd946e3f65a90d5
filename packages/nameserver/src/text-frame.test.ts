import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeTextFrame, sendTextFrame } from './text-frame.js';

/** A server connection and the client at its other end, whose messages are collected as text. */
async function pair(t: TestContext) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  t.after(() => new Promise<void>((resolve) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => resolve());
  }));
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  const received: { text: string; binary: boolean }[] = [];
  client.on('message', (data: Buffer, binary: boolean) => received.push({ text: data.toString('utf8'), binary }));
  const waitFor = async (n: number): Promise<void> => {
    while (received.length < n) await once(client, 'message');
  };
  return { server, client, received, waitFor };
}

test('frames of every length class, with and without shared bytes after them, arrive as the very text (ws parses them)', async (t) => {
  const { server, received, waitFor } = await pair(t);
  // 7-bit, 16-bit and 64-bit payload lengths on both sides of each boundary, and UTF-8 of 2, 3 and 4 bytes.
  const texts = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000].map((n) => (n >= 9 ? `é€😀${'x'.repeat(n - 9)}` : 'x'.repeat(n)));
  const want: string[] = [];
  for (const text of texts) {
    sendTextFrame(server, text);
    want.push(text);
    const tail = Buffer.from(`,"tail":"ü${text.length}"}`);
    sendTextFrame(server, text, tail);
    want.push(text + tail.toString());
  }
  await waitFor(want.length);
  assert.deepEqual(received.map((r) => r.text), want);
  assert.ok(received.every((r) => !r.binary), 'all text frames');
});

test('the bytes are those ws itself sends for the same text', () => {
  // ws's own framing (its Sender's static frame()) of an unmasked, final text frame.
  const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, o: object): Buffer[] } };
  for (const n of [0, 5, 125, 126, 65_535, 65_536]) {
    const text = `é${'a'.repeat(n)}`;
    const ws = Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }));
    assert.deepEqual(encodeTextFrame(text), ws, `${n + 2} bytes`);
    assert.deepEqual(encodeTextFrame('é', Buffer.from('a'.repeat(n))), ws, `${n + 2} bytes, in two parts`);
  }
});

test('once the connection is closing, nothing is written past its close frame', async (t) => {
  const { server, client, received } = await pair(t);
  const bytes: Buffer[] = [];
  (client as unknown as { _socket: NodeJS.EventEmitter })._socket.on('data', (b: Buffer) => bytes.push(b));
  sendTextFrame(server, 'before');
  server.close(1000, 'bye');
  sendTextFrame(server, 'after', Buffer.from('!'));
  const [code] = (await once(client, 'close')) as [number];
  assert.equal(code, 1000);
  assert.deepEqual(received.map((r) => r.text), ['before']);
  // On the wire: the text frame, then the close frame (1000, "bye"), and nothing after it.
  assert.deepEqual(Buffer.concat(bytes), Buffer.concat([encodeTextFrame('before'), Buffer.from([0x88, 5, 0x03, 0xe8]), Buffer.from('bye')]));
});
