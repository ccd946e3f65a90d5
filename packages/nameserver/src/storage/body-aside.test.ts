// A large snapshot body's CRC-32 and lines found on another thread: the same as found here,
// wherever the bytes lie.
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { ASIDE_BYTES, bodyFacts, lineStarts, type LineStarts } from './body-aside.js';

/** Lines of random lengths (some empty), the body ending with a newline; `nonAscii` puts an é in one. */
function randomBody(bytes: number, nonAscii: boolean): Buffer {
  const all = Buffer.from(new SharedArrayBuffer(bytes + 8));
  all.fill(0x61);
  for (let at = randomInt(3); at < all.length; at += randomInt(1, 3000)) all[at] = 0x0a;
  if (nonAscii) all.write('é', 1000, 'utf8');
  all[all.length - 6] = 0x0a;
  // At an odd offset in its shared memory, as a snapshot's body is after its header.
  return all.subarray(3, all.length - 5);
}

function starts(l: LineStarts): number[] {
  return Array.from(l.starts.subarray(0, l.count));
}

void test('a shared body is looked at on another thread, and found as it is here; others here', async () => {
  for (const nonAscii of [false, true]) {
    const body = randomBody(ASIDE_BYTES + 4099, nonAscii);
    let done = false;
    const aside = bodyFacts(body).then((f) => {
      done = true;
      return f;
    });
    // A thread takes tens of milliseconds to start: nothing is known a turn of the loop later.
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'looked at aside, not here');
    const facts = await aside;
    assert.equal(facts.aside, true);
    assert.equal(facts.crc, crc32(body));
    const here = lineStarts(body, isAscii);
    assert.equal(facts.lines.ascii, !nonAscii);
    assert.equal(facts.lines.count, here.count);
    assert.deepEqual(starts(facts.lines), starts(here));
    const expected = [0];
    for (let k = 0; k < body.length - 1; k++) if (body[k] === 0x0a) expected.push(k + 1);
    assert.deepEqual(starts(here), expected);
  }
  // Too small to be worth a thread, or not shared: here, the same.
  const body = randomBody(ASIDE_BYTES + 100, false);
  const small = body.subarray(0, body.lastIndexOf(0x0a, 100_000) + 1);
  const copy = Buffer.from(body);
  for (const b of [small, copy]) {
    const f = await bodyFacts(b);
    assert.equal(f.aside, false);
    assert.equal(f.crc, crc32(b));
    assert.deepEqual(starts(f.lines), starts(lineStarts(b, isAscii)));
  }
});
