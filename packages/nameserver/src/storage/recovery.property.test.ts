// WAL recovery over random histories and random power cuts (fast-check): whatever prefix of the
// last segment reached the disk, with or without a run of zeros after it (a block allocated but
// never written), the store opens with exactly the records that were whole, in order, and
// carries on appending after them. Earlier segments were fsynced before the next one was
// started, so a cut only ever reaches the last one. A failure prints fast-check's seed and the
// shrunk history; FC_SEED=<seed> replays it.
import assert from 'node:assert/strict';
import { appendFile, readFile, truncate } from 'node:fs/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeRecord } from './record.js';
import { appendAll, range, Scratch } from './testing.js';

const replay = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };

/** The byte length of every record in a segment file, in order. */
async function recordLengths(path: string): Promise<number[]> {
  const buf = await readFile(path);
  const out: number[] = [];
  for (let offset = 0; offset < buf.length;) {
    const r = decodeRecord(buf, offset);
    assert.ok(r.ok, `record at ${offset} of ${path} decodes before the cut`);
    out.push(r.bytes);
    offset += r.bytes;
  }
  return out;
}

const history = fc.record({
  payloads: fc.array(fc.string({ maxLength: 120 }), { minLength: 1, maxLength: 60 }),
  segmentBytes: fc.integer({ min: 128, max: 4096 }),
  /** Where the power cut lands in the last segment, as a share of its bytes. */
  cutAt: fc.double({ min: 0, max: 1, noNaN: true }),
  zeros: fc.integer({ min: 0, max: 64 }),
});

void test('a power cut anywhere in the last segment loses exactly the records it tore', async (t) => {
  await fc.assert(fc.asyncProperty(history, async ({ payloads, segmentBytes, cutAt, zeros }) => {
    const s = await Scratch.create(t);
    {
      const { store } = await s.open({ segmentBytes });
      assert.deepEqual(await appendAll(store, payloads.map((p, k) => ({ k: k + 1, p }))), range(1, payloads.length));
      await store.close();
    }
    const segments = await s.segments();
    const last = segments.at(-1);
    assert.ok(last !== undefined);
    const lengths = await recordLengths(last);
    const size = lengths.reduce((a, b) => a + b, 0);
    const cut = Math.floor(cutAt * size);
    await truncate(last, cut);
    if (zeros > 0) await appendFile(last, Buffer.alloc(zeros));

    // Whole records before the cut survive; the first one it reaches into, and all after, do not.
    let whole = 0;
    for (let end = 0, k = 0; k < lengths.length; k++) {
      end += lengths[k] ?? 0;
      if (end > cut) break;
      whole++;
    }
    const expected = payloads.length - lengths.length + whole;

    const { store, recovered } = await s.open({ segmentBytes });
    assert.deepEqual(recovered.records.map((r) => r.index), range(1, expected));
    assert.deepEqual(recovered.records.map((r) => r.data), payloads.slice(0, expected).map((p, k) => ({ k: k + 1, p })));
    assert.equal(recovered.lastIndex, expected);
    assert.deepEqual(await appendAll(store, ['after']), [expected + 1]);
    await store.close();
    const again = await s.open({ segmentBytes });
    assert.equal(again.recovered.lastIndex, expected + 1);
    assert.equal(again.recovered.droppedTail, undefined, 'the torn tail was cut off for good');
    assert.deepEqual(again.recovered.records.at(-1)?.data, 'after');
  }), { numRuns: 60, ...replay });
});
