// Encoding one WAL record and every way decoding one can fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from './crc32c.js';
import { checkRecord, decodeRecord, encodeRecord, MAX_RECORD_PAYLOAD_BYTES, RECORD_HEADER_BYTES, skipRecord } from './record.js';
import { StorageError } from './errors.js';

function rawRecord(payload: string, crc?: number): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  header.writeUInt32LE(body.length, 0);
  header.writeUInt32LE(crc ?? crc32c(body), 4);
  return Buffer.concat([header, body]);
}

function reasonOf(buf: Buffer, offset = 0): string {
  const r = decodeRecord(buf, offset);
  assert.equal(r.ok, false, 'expected a bad record');
  return r.ok ? '' : r.reason;
}

void test('a record is length, CRC-32C and {"i","d"} JSON, and decodes back', () => {
  const data = { name: '/vods/as/zonker', port: 7700, tags: ['ü', null] };
  const buf = encodeRecord(42, data);
  const payload = buf.subarray(RECORD_HEADER_BYTES);
  assert.equal(buf.readUInt32LE(0), payload.length);
  assert.equal(buf.readUInt32LE(4), crc32c(payload));
  assert.deepEqual(JSON.parse(payload.toString('utf8')), { i: 42, d: data });
  assert.deepEqual(decodeRecord(buf, 0), { ok: true, index: 42, data, bytes: buf.length });
});

void test('records decode one after another from an offset', () => {
  const a = encodeRecord(1, 'a');
  const b = encodeRecord(2, { b: true });
  const buf = Buffer.concat([a, b]);
  assert.deepEqual(decodeRecord(buf, a.length), { ok: true, index: 2, data: { b: true }, bytes: b.length });
});

void test('skipRecord reads only the index and checks the frame, not the checksum; it decodes a payload laid out otherwise', () => {
  const buf = encodeRecord(9_007_199_254_740_991, { big: 'x' });
  assert.deepEqual(skipRecord(buf, 0), { ok: true, index: 9_007_199_254_740_991, bytes: buf.length });
  const two = Buffer.concat([encodeRecord(4, 'a'), encodeRecord(5, { b: 'c' })]);
  assert.deepEqual(skipRecord(two, encodeRecord(4, 'a').length), { ok: true, index: 5, bytes: encodeRecord(5, { b: 'c' }).length });
  const other = rawRecord('{ "d": 1, "i": 7 }');
  assert.deepEqual(skipRecord(other, 0), { ok: true, index: 7, bytes: other.length });
  // A payload byte changed: passed over (what a snapshot covers is not needed), caught by decodeRecord.
  const damaged = Buffer.from(encodeRecord(3, 'abc'));
  damaged[damaged.length - 2] = 0x7a;
  assert.deepEqual(skipRecord(damaged, 0), { ok: true, index: 3, bytes: damaged.length });
  assert.match(reasonOf(damaged), /CRC-32C mismatch/);
  // Laid out otherwise, so decoded whole, checksum and all.
  const otherDamaged = rawRecord('{ "d": 1, "i": 7 }', 0x1234);
  assert.match((skipRecord(otherDamaged, 0) as { reason: string }).reason, /CRC-32C mismatch/);
  assert.equal((skipRecord(rawRecord('{"i":x}'), 0) as { ok: boolean }).ok, false);
  // The frame is checked the same: a length past the end, or zero.
  assert.match((skipRecord(buf.subarray(0, buf.length - 1), 0) as { reason: string }).reason, /runs past end of file/);
  assert.match((skipRecord(Buffer.alloc(16), 0) as { reason: string }).reason, /zero payload length/);
});

void test('encodeRecord refuses data with no JSON form and records over 16 MiB', () => {
  assert.throws(() => encodeRecord(1, undefined), TypeError);
  assert.throws(() => encodeRecord(1, () => 0), TypeError);
  assert.throws(() => encodeRecord(1, 10n), TypeError);
  assert.throws(() => encodeRecord(1, 'x'.repeat(MAX_RECORD_PAYLOAD_BYTES)), RangeError);
});

void test('decodeRecord names what is wrong with a bad record', () => {
  const good = encodeRecord(7, { x: 1 });
  assert.match(reasonOf(good.subarray(0, 5)), /short header/);
  assert.match(reasonOf(good.subarray(0, good.length - 1)), /past end of file/);
  assert.match(reasonOf(Buffer.alloc(64)), /zero payload length/);
  const huge = Buffer.from(good);
  huge.writeUInt32LE(MAX_RECORD_PAYLOAD_BYTES + 1, 0);
  assert.match(reasonOf(huge), /over the/);
  // Read as unsigned: a length with its top bit set is over the limit, not negative.
  huge.writeUInt32LE(0xffffffff, 0);
  assert.match(reasonOf(huge), /payload length 4294967295 is over the/);
  const flipped = Buffer.from(good);
  flipped[RECORD_HEADER_BYTES + 3]! ^= 0x10;
  assert.match(reasonOf(flipped), /CRC-32C mismatch/);
  assert.match(reasonOf(rawRecord('{"i":7,"d":')), /not valid JSON/);
  assert.match(reasonOf(rawRecord('{"d":1}')), /no integer "i"/);
  assert.match(reasonOf(rawRecord('[1,2]')), /no integer "i"/);
});

void test('checkRecord checks a record as decodeRecord does and parses its data when read, each time', () => {
  const data = { ops: [{ t: 'put', e: { name: '/a' } }], ep: 2 };
  const buf = Buffer.concat([encodeRecord(41, 'before'), encodeRecord(42, data)]);
  const at = encodeRecord(41, 'before').length;
  const r = checkRecord(buf, at);
  assert.ok(r.ok);
  assert.equal(r.bytes, buf.length - at);
  assert.equal(r.record.index, 42);
  const first = r.record.data;
  assert.deepEqual(first, data);
  assert.notEqual(r.record.data, first, 'parsed again: nothing is kept between two reads');
  // Every bad record decodeRecord refuses, checkRecord refuses the same.
  const good = encodeRecord(7, { x: 1 });
  const flipped = Buffer.from(good);
  flipped[RECORD_HEADER_BYTES + 9]! ^= 0x10;
  for (const bad of [good.subarray(0, 5), good.subarray(0, good.length - 1), Buffer.alloc(64), flipped, rawRecord('{"d":1}'), rawRecord('[1,2]')]) {
    assert.deepEqual(checkRecord(bad, 0), decodeRecord(bad, 0));
  }
  // Laid out otherwise than encodeRecord writes, it is parsed at once.
  const other = checkRecord(rawRecord('{"d":"x","i":9}'), 0);
  assert.ok(other.ok);
  assert.deepEqual({ index: other.record.index, data: other.record.data }, { index: 9, data: 'x' });
  // Data that passes its checksum but is not JSON (no writer makes it) is found when read.
  const notJson = checkRecord(rawRecord('{"i":7,"d":'), 0);
  assert.ok(notJson.ok);
  assert.throws(() => notJson.record.data, (err: unknown) => err instanceof StorageError && err.code === 'CORRUPT' && /record 7 passed its checksum/.test(err.message));
});
