// The newest snapshot read before the program loads: for the directory named, handed over once.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { namedDataDir, readEarly, takeEarlyReads } from './early-read.js';
import { encodeSnapshot, snapshotName } from './snapshot.js';
import { Store } from './store.js';
import { Scratch } from './testing.js';

void test('the data directory is the one --data-dir names (once), else DPNS_DATA_DIR, made absolute', () => {
  const env = { DPNS_DATA_DIR: '/from/env' };
  assert.equal(namedDataDir(['--listen', '127.0.0.1:0', '--data-dir', '/d'], env), '/d');
  assert.equal(namedDataDir(['--data-dir=/d'], env), '/d');
  assert.equal(namedDataDir(['--data-dir', 'rel'], {}), resolve('rel'));
  assert.equal(namedDataDir(['--listen', ':0'], env), '/from/env');
  assert.equal(namedDataDir([], {}), undefined);
  assert.equal(namedDataDir([], { DPNS_DATA_DIR: '' }), undefined);
  // Named twice, without a value, or in a spelling not followed here: no guess.
  assert.equal(namedDataDir(['--data-dir', '/a', '--data-dir=/b'], {}), undefined);
  assert.equal(namedDataDir(['--data-dir'], env), undefined);
  assert.equal(namedDataDir(['--data-dir', '--listen', ':0'], env), undefined);
  assert.equal(namedDataDir(['--dataDir', '/d'], env), undefined);
  // A subcommand reads no snapshot.
  assert.equal(namedDataDir(['key', '--data-dir', '/d'], env), undefined);
  // After `--`, nothing is a flag.
  assert.equal(namedDataDir(['--', '--data-dir', '/d'], {}), undefined);
});

void test('reads started early are handed over once, to the store of the same directory, and the store opens with them', async (t) => {
  const s = await Scratch.create(t);
  const index = 7;
  await writeFile(join(s.dir, snapshotName(index)), encodeSnapshot(index, { early: true }));
  readEarly(['--data-dir', s.dir], {});
  assert.equal(takeEarlyReads(join(s.dir, 'other')), undefined, 'another directory gets none');
  assert.equal(takeEarlyReads(s.dir), undefined, 'dropped once asked for by another');

  readEarly(['--data-dir', s.dir], {});
  const early = takeEarlyReads(s.dir);
  assert.ok(early !== undefined);
  assert.equal(takeEarlyReads(s.dir), undefined, 'handed over once');
  readEarly(['--data-dir', s.dir], {});
  const slot = (globalThis as Record<symbol, { ahead: unknown } | undefined>)[Symbol.for('dpns.storage.earlyReads')];
  const ahead = Store.readAhead(s.dir);
  assert.equal(ahead, slot?.ahead, 'the store reads on with what was started early');
  const { store, recovered } = await Store.open({ dir: s.dir, logger: s.logger, ahead });
  assert.deepEqual(recovered.snapshot, { index, state: { early: true } });
  await store.close();
});
