// One connection, one request: the hello, the limits on frames, the idle timeout, and shutdown.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as wire from './wire.js';
import { WebSocket } from 'ws';
import { exchange, signed, startTestAgent, type TestAgent } from './agent.test.helper.js';

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Opens a connection and resolves with it and the hello it received. */
async function open(url: string): Promise<{ ws: WebSocket; hello: wire.AgentHello; frames: string[]; closed: Promise<[number, Buffer]> }> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  const frames: string[] = [];
  const closed = once(ws, 'close') as Promise<[number, Buffer]>;
  const hello = await new Promise<wire.AgentHello>((resolve, reject) => {
    ws.on('message', (d: Buffer) => {
      if (frames.length === 0) resolve(wire.parseAgentHello(d.toString('utf8')));
      frames.push(d.toString('utf8'));
    });
    ws.once('close', () => reject(new Error('closed before hello')));
  });
  return { ws, hello, frames, closed };
}

test('the hello is signed by the agent\'s identity, with a fresh box key per connection', async () => {
  t = await startTestAgent();
  const a = await open(t.url);
  const b = await open(t.url);
  assert.equal(a.hello.identity, t.agent.identity?.key.publicKey);
  assert.equal((await stat(join(t.stateDir, 'identity.key'))).mode & 0o777, 0o600, 'the identity key is private');
  assert.equal(a.hello.agent, 'dpns-launchd');
  assert.notEqual(a.hello.boxKey, b.hello.boxKey);
  // A hello whose box key was swapped does not verify (the name server would refuse it).
  const forged = JSON.stringify({ ...a.hello, boxKey: b.hello.boxKey });
  assert.throws(() => wire.parseAgentHello(forged), /signature does not match/);
  a.ws.close();
  b.ws.close();
});

test('a connection that sends nothing is closed after the idle time, and that is logged', async () => {
  t = await startTestAgent({ idleMs: 150 });
  const c = await open(t.url);
  const [code] = await c.closed;
  assert.equal(code, 1008);
  assert.ok(t.logs.some((l) => l.msg === 'refused' && /no request within 150 ms/.test(String(l.reason))));
});

test('a frame over 256 KiB is refused with BAD_REQUEST; one over the hard cap is cut off; both are logged', async () => {
  t = await startTestAgent();
  const big = await exchange(t.url, () => 'x'.repeat(300 * 1024));
  const r = wire.parseAgentReply(big.reply, 'status');
  assert.equal(r.ok, false);
  assert.equal((r as wire.AgentErrorReply).code, 'BAD_REQUEST');
  assert.match((r as wire.AgentErrorReply).message, /307200 bytes, over the 262144-byte limit/);

  const huge = await open(t.url);
  huge.ws.send('x'.repeat(2 * 1024 * 1024));
  const [code] = await huge.closed;
  assert.equal(code, 1009);
  assert.ok(t.logs.some((l) => l.msg === 'refused' && /websocket error/.test(String(l.reason))));
});

test('only one request per connection: a second frame is ignored and logged; the connection closes after the reply', async () => {
  t = await startTestAgent();
  const c = await open(t.url);
  const frame = signed(t.nsKey, c.hello, { op: 'status' });
  c.ws.send(frame);
  c.ws.send(frame);
  const [code] = await c.closed;
  assert.equal(code, 1000);
  assert.equal(c.frames.length, 2, 'the hello and one reply');
  assert.ok(wire.parseAgentReply(c.frames[1] as string, 'status').ok);
  assert.ok(t.logs.some((l) => l.msg === 'refused' && /only one request per connection/.test(String(l.reason))));
});

test('plain HTTP gets 426; close() is safe twice and refuses new connections', async () => {
  t = await startTestAgent();
  const res = await fetch(t.url.replace('ws:', 'http:'));
  assert.equal(res.status, 426);
  await res.text();
  const waiting = await open(t.url);
  await Promise.all([t.agent.close(), t.agent.close()]);
  assert.equal(t.agent.state, 'closed');
  const [code] = await waiting.closed;
  assert.equal(code, 1001, 'a connection with no request in progress is closed as going away');
});
