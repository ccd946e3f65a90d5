import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError } from '@dpns/protocol';
import { parseFrame } from './frames.js';

test('results, errors, hello, watch events and unknown notifications', () => {
  assert.deepEqual(parseFrame('{"jsonrpc":"2.0","id":1,"result":{"ok":true}}'), { kind: 'result', id: 1, result: { ok: true } });
  const err = parseFrame('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":{"code":"PARSE_ERROR"}}}');
  assert.deepEqual(err, { kind: 'error', id: null, error: { code: -32700, message: 'bad', data: { code: 'PARSE_ERROR' } } });
  const hello = parseFrame(JSON.stringify({
    jsonrpc: '2.0', method: 'hello',
    params: { server: 'dpns', version: '1', protocol: 1, nonce: 'a'.repeat(64), heartbeatMs: 1000, maxFrameBytes: 1024, revision: 0 },
  }));
  assert.equal(hello.kind, 'hello');
  const ev = parseFrame('{"jsonrpc":"2.0","method":"watch.event","params":{"watchIds":["w1"],"revision":2,"type":"delete","name":"/a"}}');
  assert.deepEqual(ev, { kind: 'watch.event', params: { watchIds: ['w1'], revision: 2, type: 'delete', name: '/a' } });
  assert.deepEqual(parseFrame('{"jsonrpc":"2.0","method":"future.thing","params":{}}'), { kind: 'unknown', method: 'future.thing' });
});

test('anything malformed is BAD_RESPONSE', () => {
  for (const bad of [
    'not json', '[]', '{"id":1,"result":1}', '{"jsonrpc":"2.0","id":{},"result":1}', '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":1,"error":{"message":"x"}}',
    '{"jsonrpc":"2.0","method":"hello","params":{"server":"dpns"}}',
    '{"jsonrpc":"2.0","method":"watch.event","params":{"watchIds":["w1"],"revision":2,"type":"put","name":"/a"}}',
  ]) {
    assert.throws(() => parseFrame(bad), (e) => isDpnsError(e, 'BAD_RESPONSE'), bad);
  }
});

test('a server request (it has an id and a method) and a ticket.pair notification', () => {
  assert.deepEqual(
    parseFrame('{"jsonrpc":"2.0","id":"c1","method":"ticket.challenge","params":{"name":"/a","challenge":"00"}}'),
    { kind: 'request', id: 'c1', method: 'ticket.challenge', params: { name: '/a', challenge: '00' } },
  );
  assert.deepEqual(parseFrame('{"jsonrpc":"2.0","id":7,"method":"future.request"}'), { kind: 'request', id: 7, method: 'future.request', params: undefined });
  const sealed = { nonce: 'ab'.repeat(24), box: 'cd'.repeat(40) };
  assert.deepEqual(
    parseFrame(JSON.stringify({ jsonrpc: '2.0', method: 'ticket.pair', params: { name: '/a', pairId: 'p1', sealed } })),
    { kind: 'ticket.pair', params: { name: '/a', pairId: 'p1', sealed } },
  );
  for (const bad of [
    '{"jsonrpc":"2.0","id":null,"method":"ticket.challenge","params":{}}',
    `{"jsonrpc":"2.0","id":"${'x'.repeat(129)}","method":"ticket.challenge","params":{}}`,
    '{"jsonrpc":"2.0","method":"ticket.pair","params":{"name":"/a","pairId":"p1","sealed":{"nonce":"zz","box":"00"}}}',
    '{"jsonrpc":"2.0","method":"ticket.pair","params":{"name":"/a","sealed":{"nonce":"00","box":"00"}}}',
  ]) {
    assert.throws(() => parseFrame(bad), (e) => isDpnsError(e, 'BAD_RESPONSE'), bad);
  }
});

test('the cluster part of a hello is parsed, and refused when malformed', () => {
  const base = { server: 'dpns', version: '1', protocol: 1, nonce: 'a'.repeat(64), heartbeatMs: 1000, maxFrameBytes: 1024, revision: 0 };
  const cluster = { sid: 1, role: 'backup', epoch: 3, primary: 'ws://a:7700', servers: ['ws://a:7700', 'ws://b:7700'], readFromBackups: true };
  const hello = parseFrame(JSON.stringify({ jsonrpc: '2.0', method: 'hello', params: { ...base, cluster } }));
  assert.deepEqual(hello, { kind: 'hello', params: { ...base, cluster } });
  for (const bad of [{ ...cluster, role: 'leader' }, { ...cluster, servers: 'ws://a:7700' }, { ...cluster, primary: 7 }, { ...cluster, sid: 1.5 }, 'primary']) {
    const frame = JSON.stringify({ jsonrpc: '2.0', method: 'hello', params: { ...base, cluster: bad } });
    assert.throws(() => parseFrame(frame), (e) => isDpnsError(e, 'BAD_RESPONSE'), JSON.stringify(bad));
  }
});
