import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { corkable, corkPerRead } from './cork.js';

/** An echo server that batches with `corkPerRead`, and a client whose socket's reads are counted. */
async function rig(t: TestContext) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  // The server's close waits for its connections, so they go first.
  t.after(() => new Promise<void>((resolve) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => resolve());
  }));
  wss.on('connection', (ws) => {
    const batchRead = corkPerRead(ws);
    ws.on('message', (data) => {
      batchRead();
      ws.send(data);
    });
  });
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  await once(client, 'open');
  const socket = corkable(client) as Socket;
  const reads: number[] = [];
  socket.on('data', (chunk: Buffer) => reads.push(chunk.length));
  const received: string[] = [];
  client.on('message', (data: Buffer) => received.push(String(data)));
  /** Sends `frames` in one write (the client's socket corked around them) and waits for every echo. */
  const burst = async (frames: string[]): Promise<void> => {
    const want = received.length + frames.length;
    socket.cork();
    for (const f of frames) client.send(f);
    socket.uncork();
    while (received.length < want) await once(client, 'message');
  };
  return { reads, received, burst };
}

test('the answers to the frames of one read leave the server in one write', async (t) => {
  const { reads, received, burst } = await rig(t);
  const frames = Array.from({ length: 20 }, (_, i) => `frame ${i}`);
  await burst(frames);
  assert.deepEqual(received, frames);
  // One write of 20 small frames arrives over loopback as one segment: one read here.
  assert.equal(reads.length, 1, `answers arrived in ${reads.length} reads`);
});

test('the socket is uncorked after each read: a later read is answered too, in a write of its own', async (t) => {
  const { reads, received, burst } = await rig(t);
  await burst(['a', 'b', 'c']);
  await burst(['d', 'e']);
  assert.deepEqual(received, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(reads.length, 2);
});
