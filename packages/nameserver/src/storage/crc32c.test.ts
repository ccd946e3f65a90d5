// CRC-32C against published vectors and a bit-at-a-time reference.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32c } from './crc32c.js';

// One bit at a time, straight from the definition: the reference the table version must match.
function bitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

void test('crc32c of "123456789" is the check value 0xE3069283', () => {
  assert.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
});

void test('crc32c matches the iSCSI test vectors of RFC 3720', () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, k) => k))), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, k) => 31 - k))), 0x113fdb5c);
});

void test('crc32c agrees with the bitwise definition at every length and alignment', () => {
  const data = randomBytes(300);
  for (let start = 0; start < 8; start++) {
    for (let end = start; end <= data.length; end += 7) {
      const slice = data.subarray(start, end);
      assert.equal(crc32c(slice), bitwise(slice), `bytes ${start}..${end}`);
    }
  }
});

void test('crc32c continues over split input', () => {
  const data = randomBytes(100);
  const whole = crc32c(data);
  for (let cut = 0; cut <= data.length; cut++) {
    assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole, `cut at ${cut}`);
  }
});

void test('crc32c of a range is that of the same bytes on their own', () => {
  const data = randomBytes(200);
  for (const [from, to] of [[0, 200], [3, 3], [5, 6], [7, 150], [13, 200]] as const) {
    assert.equal(crc32c(data, 0, from, to), crc32c(data.subarray(from, to)), `bytes ${from}..${to}`);
    assert.equal(crc32c(data, 0x1234, from, to), crc32c(data.subarray(from, to), 0x1234), `continued, bytes ${from}..${to}`);
  }
});
