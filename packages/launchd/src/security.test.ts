// Who the agent obeys: requests signed by a trusted key, correctly, freshly, once, for this
// connection, from the current epoch. In every refused case nothing is started.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as wire from './wire.js';
import nacl from 'tweetnacl';
import { EpochStore } from './epoch.js';
import {
  exchange, fixture, launchOp, MARKER, readIfExists, request, signed, startTestAgent, type TestAgent,
} from './agent.test.helper.js';

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(): Promise<{ t: TestAgent; program: string; marker: string }> {
  t = await startTestAgent({ allow: (dir) => [{ name: 'marker', path: join(dir, 'marker.js') }] });
  const program = await fixture(t.dir, 'marker.js', MARKER);
  return { t, program, marker: join(t.outDir, 'ran') };
}

/** Nothing was started: the ledger is empty and the program's marker file does not exist. */
async function assertNothingStarted(a: TestAgent, marker: string, epoch = 0): Promise<void> {
  assert.deepEqual(a.agent.ledger?.entries(), []);
  assert.equal(await readIfExists(marker), undefined, 'the program must not have run');
  const status = await request(a, () => ({ op: 'status' }), { epoch });
  assert.ok(status.ok);
  assert.deepEqual(status.entries, []);
}

function refusal(reply: string): { code: string; message: string } {
  const r = wire.parseAgentReply(reply, 'launch');
  assert.equal(r.ok, false, `expected a refusal, got ${reply}`);
  return r as { code: string; message: string };
}

function refusalLogged(a: TestAgent, code: string): void {
  const line = a.logs.find((l) => l.msg === 'refused' && l.code === code);
  assert.ok(line, `a refusal with ${code} is logged`);
  assert.match(String(line.remote), /^127\.0\.0\.1:\d+$/, 'with the remote address');
  assert.equal(typeof line.reason, 'string');
}

test('a valid signed request is obeyed; the same frame replayed on a new connection is REPLAYED and starts nothing', async () => {
  const { t: a, marker } = await setup();
  let frame = '';
  const first = await exchange(a.url, (hello) => (frame = signed(a.nsKey, hello, launchOp(hello, { program: 'marker', args: [marker] }).op)));
  const ok = wire.parseAgentReply(first.reply, 'launch');
  assert.ok(ok.ok, first.reply);
  assert.equal(a.agent.ledger?.entries().length, 1);

  // A captured frame, sent again: it names the first connection's box key.
  const again = await exchange(a.url, () => frame);
  const r = refusal(again.reply);
  assert.equal(r.code, 'REPLAYED');
  assert.equal(a.agent.ledger?.entries().length, 1, 'still only the first launch');
  refusalLogged(a, 'REPLAYED');
});

test('the same nonce on the same connection key is REPLAYED (the nonce cache, not only the box key)', async () => {
  const { t: a, marker } = await setup();
  // Build one body, then present it twice as if both connections had the same box key: only
  // possible in a test, by rewriting the body for each hello and keeping the nonce.
  const body = { op: 'status' as const, nonce: wire.newLaunchId() + wire.newLaunchId(), ts: Date.now(), epoch: 0, target: '127.0.0.1' };
  const sign = (hello: wire.AgentHello) => {
    const text = JSON.stringify({ ...body, boxKey: hello.boxKey, agent: hello.identity });
    return JSON.stringify({ type: 'request', key: a.nsKey.publicKey, body: text, sig: resign(a.nsKey, text) });
  };
  assert.ok(wire.parseAgentReply((await exchange(a.url, sign)).reply, 'status').ok);
  const r = refusal((await exchange(a.url, sign)).reply);
  assert.equal(r.code, 'REPLAYED');
  assert.match(r.message, /already used/);
  await assertNothingStarted(a, marker);
});

test('a request signed by a key the agent does not trust is UNKNOWN_KEY and starts nothing', async () => {
  const { t: a, marker } = await setup();
  const stranger = wire.newSigningKey();
  const ex = await exchange(a.url, (hello) => signed(stranger, hello, launchOp(hello, { program: 'marker', args: [marker] }).op));
  const r = refusal(ex.reply);
  assert.equal(r.code, 'UNKNOWN_KEY');
  assert.match(r.message, /trustedKeys/);
  refusalLogged(a, 'UNKNOWN_KEY');
  await assertNothingStarted(a, marker);
});

test('a request whose body was altered after signing is BAD_SIGNATURE and starts nothing', async () => {
  const { t: a, marker } = await setup();
  const ex = await exchange(a.url, (hello) => {
    const frame = JSON.parse(signed(a.nsKey, hello, launchOp(hello, { program: 'marker', args: [marker] }).op)) as wire.AgentRequestFrame;
    const body = JSON.parse(frame.body) as Record<string, unknown>;
    body.launchId = wire.newLaunchId();
    return JSON.stringify({ ...frame, body: JSON.stringify(body) });
  });
  assert.equal(refusal(ex.reply).code, 'BAD_SIGNATURE');
  refusalLogged(a, 'BAD_SIGNATURE');
  await assertNothingStarted(a, marker);
});

test('a request signed outside the time window is STALE and starts nothing', async () => {
  const { t: a, marker } = await setup();
  const ex = await exchange(a.url, (hello) => signed(a.nsKey, hello, launchOp(hello, { program: 'marker', args: [marker] }).op, { now: Date.now() - 31_000 }));
  const r = refusal(ex.reply);
  assert.equal(r.code, 'STALE');
  assert.match(r.message, /clock/);
  const future = await exchange(a.url, (hello) => signed(a.nsKey, hello, launchOp(hello, { program: 'marker', args: [marker] }).op, { now: Date.now() + 31_000 }));
  assert.equal(refusal(future.reply).code, 'STALE');
  await assertNothingStarted(a, marker);
});

test('a request from an older epoch than one already seen is STALE_EPOCH, and the highest epoch is kept on disk', async () => {
  const { t: a, marker } = await setup();
  assert.ok((await request(a, () => ({ op: 'status' }), { epoch: 5 })).ok);
  const ex = await exchange(a.url, (hello) => signed(a.nsKey, hello, launchOp(hello, { program: 'marker', args: [marker] }).op, { epoch: 4 }));
  const r = refusal(ex.reply);
  assert.equal(r.code, 'STALE_EPOCH');
  assert.match(r.message, /epoch 4 is older than epoch 5/);
  assert.equal(await readIfExists(join(a.stateDir, 'epoch')), '5\n');
  assert.equal((await EpochStore.open(a.stateDir)).current, 5, 'a restarted agent still knows epoch 5');
  await assertNothingStarted(a, marker, 5);
});

test('malformed requests are BAD_REQUEST with the field named', async () => {
  const { t: a, marker } = await setup();
  const notJson = refusal((await exchange(a.url, () => 'not json')).reply);
  assert.equal(notJson.code, 'BAD_REQUEST');
  assert.match(notJson.message, /JSON/);
  const noSig = refusal((await exchange(a.url, (hello) => JSON.stringify({ ...JSON.parse(signed(a.nsKey, hello, { op: 'status' })) as object, sig: 'xyz' }))).reply);
  assert.equal(noSig.code, 'BAD_REQUEST');
  assert.match(noSig.message, /request\.sig: expected 128 lowercase hex digits/);
  const badOp = refusal((await exchange(a.url, (hello) => signed(a.nsKey, hello, { op: 'explode' } as unknown as wire.AgentOperation))).reply);
  assert.equal(badOp.code, 'BAD_REQUEST');
  assert.match(badOp.message, /body\.op/);
  const binary = refusal((await exchange(a.url, () => Buffer.from([1, 2, 3]))).reply);
  assert.equal(binary.code, 'BAD_REQUEST');
  await assertNothingStarted(a, marker);
});

test('a request meant for another host or another agent identity is WRONG_TARGET and starts nothing', async () => {
  const { t: a, marker } = await setup();
  const otherHost = refusal((await exchange(a.url, (hello) => signed(a.nsKey, hello, launchOp(hello, { program: 'marker', args: [marker] }).op, { target: '192.0.2.7' }))).reply);
  assert.equal(otherHost.code, 'WRONG_TARGET');
  assert.match(otherHost.message, /192\.0\.2\.7/);
  const otherAgent = wire.newSigningKey().publicKey;
  const wrongKey = refusal((await exchange(a.url, (hello) => signed(a.nsKey, hello, launchOp(hello, { program: 'marker', args: [marker] }).op, { agent: otherAgent }))).reply);
  assert.equal(wrongKey.code, 'WRONG_TARGET');
  assert.match(wrongKey.message, /identity/);
  refusalLogged(a, 'WRONG_TARGET');
  // Its own names pass: the hostname, localhost, an interface address.
  for (const target of [hostname(), 'localhost', '127.0.0.1']) {
    assert.ok((await request(a, () => ({ op: 'status' }), { target })).ok, target);
  }
  await assertNothingStarted(a, marker);
});

test('the launch spec travels sealed: no program, argument, env or ticket in the clear', async () => {
  const { t: a, marker } = await setup();
  let sent = '';
  let line = '';
  await exchange(a.url, (hello) => {
    const l = launchOp(hello, { program: 'marker', args: [marker], env: { SECRET_SETTING: 'hunter2' } });
    line = l.line;
    return (sent = signed(a.nsKey, hello, l.op));
  });
  const ticket = (JSON.parse(line) as { ticket: string }).ticket;
  for (const clear of ['marker', marker, 'hunter2', 'SECRET_SETTING', ticket, '/test/svc']) assert.ok(!sent.includes(clear), `${clear} is not in the frame`);
});

test('a launch sealed to another connection does not open: BAD_REQUEST, nothing started', async () => {
  const { t: a, marker } = await setup();
  const other = wire.newBoxKeyPair();
  const ex = await exchange(a.url, (hello) => {
    const { plain } = launchOp(hello, { program: 'marker', args: [marker] });
    return signed(a.nsKey, hello, wire.sealLaunch(plain, other.publicKey));
  });
  const r = refusal(ex.reply);
  assert.equal(r.code, 'BAD_REQUEST');
  assert.match(r.message, /does not open/);
  await assertNothingStarted(a, marker);
});

/** Ed25519 over the context line and the body text: the signature scheme, spelled out. */
function resign(key: wire.SigningKey, body: string): string {
  return Buffer.from(nacl.sign.detached(new Uint8Array(Buffer.from(`dpns-agent-request\n${body}`, 'utf8')), key.secretKey)).toString('hex');
}
