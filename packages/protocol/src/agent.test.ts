// The agent wire protocol from both ends: signing, sealing, and narrowing every frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AgentErrorCodes, buildAgentRequest, isAgentError, newBoxKeyPair, newLaunchId, newSigningKey, openLaunch, parseAgentHello,
  parseAgentReply, parseAgentRequestBody, parseAgentRequestFrame, parseTicketLine, sealLaunch, signAgentHello, ticketLineText,
  verifyAgentRequest, type AgentLaunchOp, type AgentSealedLaunchOp,
} from './agent.js';
import { isDpnsError } from './errors.js';

const ticket = { service: '/demo/echo', ticket: 'a1'.repeat(32), nameserverTicket: 'b2'.repeat(32), servers: ['127.0.0.1:7700', '[::1]:7700'] };

function plainLaunch(): AgentLaunchOp {
  return {
    op: 'launch', service: '/demo/echo', launchId: newLaunchId(), program: 'echo', args: ['--port', '0'], env: { A: 'b' }, servers: ['127.0.0.1:7700'],
    ticketLine: ticketLineText(ticket), user: 'svc',
  };
}

function launchOp(boxKey: string): AgentSealedLaunchOp {
  return sealLaunch(plainLaunch(), boxKey);
}

const AGENT = 'ab'.repeat(32);
const to = (boxKey: string, epoch: number, now?: number) => ({ boxKey, epoch, target: 'host-a', agent: AGENT, ...(now === undefined ? {} : { now }) });

test('a hello signed by the agent verifies; one with another box key or identity does not', () => {
  const identity = newSigningKey();
  const box = newBoxKeyPair();
  const hello = signAgentHello(identity, box.publicKey, 'host-a', '0.1.0');
  assert.deepEqual(parseAgentHello(JSON.stringify(hello)), hello);
  const other = newBoxKeyPair();
  assert.throws(() => parseAgentHello(JSON.stringify({ ...hello, boxKey: other.publicKey })), (e: unknown) => isDpnsError(e, 'BAD_RESPONSE') && /signature/.test(e.message));
  assert.throws(() => parseAgentHello(JSON.stringify({ ...hello, identity: newSigningKey().publicKey })), /signature/);
  assert.throws(() => parseAgentHello(JSON.stringify({ ...hello, agent: 'sshd' })), /hello\.agent/);
  assert.throws(() => parseAgentHello('{'), /malformed frame/);
});

test('a request built by the name server parses and verifies at the agent, for each operation', () => {
  const ns = newSigningKey();
  const box = newBoxKeyPair();
  for (const op of [launchOp(box.publicKey), { op: 'kill' as const, service: '/demo/echo', launchId: newLaunchId(), pid: 42, graceMs: 100 }, { op: 'status' as const }]) {
    const frame = parseAgentRequestFrame(JSON.stringify(buildAgentRequest(ns, op, to(box.publicKey, 3, 1000))));
    assert.equal(frame.key, ns.publicKey);
    assert.ok(verifyAgentRequest(frame));
    const body = parseAgentRequestBody(frame.body);
    assert.equal(body.op, op.op);
    assert.equal(body.epoch, 3);
    assert.equal(body.ts, 1000);
    assert.equal(body.boxKey, box.publicKey);
    assert.match(body.nonce, /^[0-9a-f]{64}$/);
    assert.equal(body.target, 'host-a');
    assert.equal(body.agent, AGENT);
  }
});

test('a request whose body or key was changed does not verify', () => {
  const ns = newSigningKey();
  const box = newBoxKeyPair();
  const frame = buildAgentRequest(ns, { op: 'status' }, to(box.publicKey, 0));
  assert.equal(verifyAgentRequest({ ...frame, body: frame.body.replace('"epoch":0', '"epoch":1') }), false);
  assert.equal(verifyAgentRequest({ ...frame, key: newSigningKey().publicKey }), false);
});

test('the whole launch spec opens only with the box key it was sealed to, byte for byte', () => {
  const box = newBoxKeyPair();
  const plain = plainLaunch();
  const sealed = sealLaunch(plain, box.publicKey);
  assert.deepEqual(JSON.parse(JSON.stringify(openLaunch(sealed, box.secretKey))), plain);
  assert.throws(() => openLaunch(sealed, newBoxKeyPair().secretKey), (e: unknown) => isAgentError(e, 'BAD_REQUEST'));
  const wire = JSON.stringify(sealed);
  for (const clear of [ticket.ticket, 'echo', '--port', '/demo/echo', 'svc']) assert.ok(!wire.includes(clear), `${clear} is not in the clear`);
  assert.deepEqual(parseTicketLine(`${plain.ticketLine}\n`), ticket);
  assert.notEqual(sealLaunch(plain, box.publicKey).sealed.from, sealed.sealed.from, 'a fresh ephemeral key per seal');
});

test('malformed requests are BAD_REQUEST naming the field, what was given and what was expected', () => {
  const box = newBoxKeyPair();
  const ns = newSigningKey();
  const body = (over: Record<string, unknown>) => {
    const b = JSON.parse(buildAgentRequest(ns, launchOp(box.publicKey), to(box.publicKey, 0)).body) as Record<string, unknown>;
    return JSON.stringify({ ...b, ...over });
  };
  const cases: [string, RegExp][] = [
    [body({ target: 7 }), /body\.target: expected a string/],
    [body({ agent: 'x' }), /body\.agent: expected 64 lowercase hex digits/],
    [body({ nonce: 'short' }), /body\.nonce: expected 64 lowercase hex digits/],
    [body({ epoch: -1 }), /body\.epoch: expected an integer from 0/],
    [body({ extra: 1 }), /unknown field "extra"/],
    [body({ sealed: { from: '00', nonce: '00', box: '00' } }), /body\.sealed/],
    [body({ op: 'reboot' }), /body\.op: expected "launch", "kill", "status" or "load"/],
    ['[]', /body: expected an object/],
    ['nope', /body: expected JSON text/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseAgentRequestBody(text), (e: unknown) => {
      assert.ok(isAgentError(e, 'BAD_REQUEST'), String(e));
      assert.match(e.message, message);
      return true;
    });
  }
  assert.throws(() => parseAgentRequestFrame(JSON.stringify({ type: 'request', key: 'x', body: '{}', sig: '' })), /request\.key/);
});

test('replies parse per operation; refusals carry a known code; anything else is BAD_RESPONSE', () => {
  assert.deepEqual(parseAgentReply('{"type":"reply","ok":true,"pid":123,"startTime":"456"}', 'launch'), { type: 'reply', ok: true, pid: 123, startTime: '456' });
  assert.deepEqual(parseAgentReply('{"type":"reply","ok":true,"killed":true,"signal":"SIGKILL","alreadyGone":false}', 'kill'),
    { type: 'reply', ok: true, killed: true, signal: 'SIGKILL', alreadyGone: false });
  const entry = { launchId: 'cc'.repeat(16), service: '/a', pid: 5, pgid: 5, startTime: '9', program: '/bin/a', user: 'nobody', launchedAt: 1 };
  assert.deepEqual(parseAgentReply(JSON.stringify({ type: 'reply', ok: true, entries: [entry] }), 'status'), { type: 'reply', ok: true, entries: [entry] });
  for (const code of Object.keys(AgentErrorCodes)) {
    assert.deepEqual(parseAgentReply(JSON.stringify({ type: 'reply', ok: false, code, message: 'why' }), 'launch'), { type: 'reply', ok: false, code, message: 'why' });
  }
  assert.throws(() => parseAgentReply('{"type":"reply","ok":false,"code":"WHATEVER","message":"x"}', 'launch'), (e: unknown) => isDpnsError(e, 'BAD_RESPONSE') && /reply\.code/.test(e.message));
  assert.throws(() => parseAgentReply('{"type":"reply","ok":true}', 'launch'), /reply\.pid/);
  assert.throws(() => parseAgentReply('{"type":"reply","ok":true,"killed":1,"alreadyGone":false}', 'kill'), /reply\.killed/);

  assert.deepEqual(parseAgentReply('{"type":"reply","ok":true,"loadavg":0.42,"cpus":2,"children":3}', 'load'), { type: 'reply', ok: true, loadavg: 0.42, cpus: 2, children: 3 });
  for (const [bad, field] of [['"loadavg":-1,"cpus":2,"children":0', 'loadavg'], ['"loadavg":"1","cpus":2,"children":0', 'loadavg'], ['"loadavg":0,"cpus":0,"children":0', 'cpus'], ['"loadavg":0,"cpus":2,"children":1.5', 'children']]) {
    assert.throws(() => parseAgentReply(`{"type":"reply","ok":true,${bad as string}}`, 'load'), (e: unknown) => isDpnsError(e, 'BAD_RESPONSE') && new RegExp(`reply\\.${field as string}`).test(e.message));
  }
});
