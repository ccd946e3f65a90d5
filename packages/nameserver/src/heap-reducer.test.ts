import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { createLogger } from './log.js';
import { HeapReducer, MAX_HEAP_BYTES, MIN_GROWTH_BYTES } from './heap-reducer.js';

const MB = 1024 * 1024;
/** Never by the timer: the tests call check() themselves. */
const NEVER = 3_600_000;

function rig(opts: { failing?: boolean } = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
  const state = { heap: 40 * MB, collections: 0 };
  const started = HeapReducer.start({
    log, checkMs: NEVER, heapBytes: () => state.heap,
    collect: async () => {
      state.collections++;
      if (opts.failing) throw new Error('no inspector today');
      state.heap = 45 * MB;
    },
  });
  return { lines, state, started };
}

/**
 * Looks after quiet intervals until one collects, as the timer would: on a loaded machine V8's
 * own GC tasks can make an interval busy. True once one did (within ~2 s).
 */
async function collects(r: HeapReducer): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    await sleep(200);
    if (await r.check()) return true;
  }
  return false;
}

/** Keeps the event loop busy for `ms`: what a server answering requests looks like to the check. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('collects once the process has been quiet and its heap has grown; not again until it grows again', async () => {
  const { lines, state, started } = rig();
  const r = await started;
  assert.ok(r !== undefined);
  try {
    state.heap = 40 * MB + MIN_GROWTH_BYTES - 1;
    await sleep(200);
    assert.equal(await r.check(), false, 'grown by less than the minimum');
    state.heap = 40 * MB + MIN_GROWTH_BYTES + MB;
    assert.equal(await collects(r), true);
    assert.equal(state.collections, 1);
    assert.match(lines.find((l) => l.includes('heap given back')) ?? '', /"heapBeforeMB":73,"heapAfterMB":45/);
    // Growth now counts from the heap after the collection (45 MB).
    state.heap = 45 * MB + MIN_GROWTH_BYTES - 1;
    await sleep(200);
    assert.equal(await r.check(), false);
    state.heap = 45 * MB + MIN_GROWTH_BYTES + 1;
    assert.equal(await collects(r), true);
    assert.equal(state.collections, 2);
  } finally {
    r.stop();
  }
});

test('an interval in which the event loop worked is not quiet: no collection until one is', async () => {
  const { state, started } = rig();
  const r = await started;
  assert.ok(r !== undefined);
  try {
    state.heap = 40 * MB + MIN_GROWTH_BYTES + MB;
    await sleep(50);
    busy(150);
    assert.equal(await r.check(), false, 'three quarters of the interval were work');
    assert.equal(state.collections, 0);
    assert.equal(await collects(r), true, 'then a quiet interval');
  } finally {
    r.stop();
  }
});

test('a heap above the limit is left to V8, and a heap that shrank by itself counts growth from there', async () => {
  const { state, started } = rig();
  const r = await started;
  assert.ok(r !== undefined);
  try {
    state.heap = MAX_HEAP_BYTES + MB;
    await sleep(200);
    assert.equal(await r.check(), false);
    assert.equal(state.collections, 0);
    // V8's own reducer ran: 20 MB, so 20 + the minimum is the next threshold, not 40 + it.
    state.heap = 20 * MB;
    await sleep(200);
    assert.equal(await r.check(), false);
    state.heap = 20 * MB + MIN_GROWTH_BYTES + MB;
    assert.equal(await collects(r), true);
  } finally {
    r.stop();
  }
});

test('a collection that fails is logged, and not tried again until the heap grows again', async () => {
  const { lines, state, started } = rig({ failing: true });
  const r = await started;
  assert.ok(r !== undefined);
  try {
    state.heap = 40 * MB + MIN_GROWTH_BYTES + MB;
    await sleep(200);
    assert.equal(await r.check(), false);
    assert.equal(state.collections, 1);
    assert.match(lines.find((l) => l.includes('could not ask V8')) ?? '', /no inspector today/);
    await sleep(200);
    assert.equal(await r.check(), false);
    assert.equal(state.collections, 1, 'not again at the same size');
    state.heap += MIN_GROWTH_BYTES;
    await collects(r);
    assert.equal(state.collections, 2);
  } finally {
    r.stop();
  }
});

test("V8's low-memory collection through the inspector gives a real heap back, and the event loop goes on after it", async () => {
  const lines: string[] = [];
  const r = await HeapReducer.start({ log: createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }), checkMs: NEVER, minGrowthBytes: 16 * MB, maxHeapBytes: 4096 * MB });
  assert.ok(r !== undefined, 'this Node has an inspector');
  try {
    // Garbage that lives long enough to reach the old generation, as a burst of requests leaves.
    let keep: unknown[] = [];
    for (let round = 0; round < 4; round++) {
      keep = [];
      for (let i = 0; i < 200_000; i++) keep.push({ name: `/garbage/${round}/${i}`, n: i });
      await sleep(1);
    }
    keep = [];
    const before = getHeapStatistics().total_heap_size;
    assert.ok(before > 40 * MB, `the test made a heap worth collecting (${(before / MB).toFixed(0)} MB)`);
    assert.equal(await r.check(), false, 'the interval with the allocations was not quiet');
    assert.equal(await collects(r), true);
    const after = getHeapStatistics().total_heap_size;
    assert.ok(after < before - 16 * MB, `the heap went from ${(before / MB).toFixed(0)} to ${(after / MB).toFixed(0)} MB`);
    const line = lines.find((l) => l.includes('heap given back after a burst'));
    assert.ok(line !== undefined);
    const { heapBeforeMB, heapAfterMB } = JSON.parse(line) as { heapBeforeMB: number; heapAfterMB: number };
    assert.ok(heapAfterMB < heapBeforeMB - 16, `the collection itself: ${heapBeforeMB} → ${heapAfterMB} MB`);
    // Disconnecting the inspector session at the wrong moment hangs the loop for good.
    await sleep(20);
    assert.equal(keep.length, 0);
  } finally {
    r.stop();
  }
});
