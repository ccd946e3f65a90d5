import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { isDpnsError } from '@dpns/protocol';
import { readFirstLine } from './stdin-line.js';

test('reads the first line, across chunks, and leaves the rest', async () => {
  const input = new PassThrough();
  const line = readFirstLine(input);
  input.write('{"a":');
  input.write('1}\r\nmore');
  assert.equal(await line, '{"a":1}');
  const last = new PassThrough();
  last.end('no newline');
  assert.equal(await readFirstLine(last), 'no newline');
});

test('a terminal, an empty stdin, a long line or silence fail with a message saying what was expected', async () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  await assert.rejects(readFirstLine(tty), (e) => isDpnsError(e, 'INVALID_PARAMS') && /terminal/.test(e.message));
  const empty = new PassThrough();
  empty.end();
  await assert.rejects(readFirstLine(empty), (e) => isDpnsError(e, 'INVALID_PARAMS') && /dpns-launchd/.test(e.message));
  const long = new PassThrough();
  long.write('x'.repeat(100));
  await assert.rejects(readFirstLine(long, { maxBytes: 50 }), (e) => isDpnsError(e, 'INVALID_PARAMS'));
  await assert.rejects(readFirstLine(new PassThrough(), { timeoutMs: 20 }), (e) => isDpnsError(e, 'TIMEOUT'));
});
