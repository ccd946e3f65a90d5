// A large snapshot's CRC-32 computed on another thread: zlib's sum, wherever the bytes lie.
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { ASIDE_BYTES, crc32Aside } from './checksum-aside.js';

void test('bytes in shared memory are summed on another thread as zlib sums them here, at any offset; others here', async () => {
  const all = Buffer.from(new SharedArrayBuffer(ASIDE_BYTES + 4099));
  randomFillSync(all);
  const body = all.subarray(3, all.length - 5);
  let done = false;
  const aside = crc32Aside(body).then((crc) => {
    done = true;
    return crc;
  });
  // A thread takes tens of milliseconds to start: the sum is not known a turn of the loop later.
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'the sum is computed aside, not here');
  assert.equal(await aside, crc32(body));
  assert.equal(await crc32Aside(all), crc32(all));
  // Too small to be worth a thread, or not shared: summed here, the same.
  const small = all.subarray(7, 1007);
  assert.equal(await crc32Aside(small), crc32(small));
  const copy = Buffer.from(body);
  assert.equal(await crc32Aside(copy), crc32(body));
});
