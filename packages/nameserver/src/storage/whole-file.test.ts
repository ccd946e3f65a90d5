// Files read whole, and read ahead: what is taken is always the file at the path as it is then.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Scratch } from './testing.js';
import { FilesAhead, PART_BYTES, readWholeFile } from './whole-file.js';

void test('a file is read whole, empty, larger than one read, or in parts', async (t) => {
  const s = await Scratch.create(t);
  const big = Buffer.alloc((3 << 20) + 17, 7);
  big[big.length - 1] = 9;
  await writeFile(join(s.dir, 'big'), big);
  await writeFile(join(s.dir, 'empty'), '');
  assert.ok((await readWholeFile(join(s.dir, 'big'))).equals(big));
  // Read as two parts side by side: every byte where it was, an odd size split anywhere.
  const huge = randomBytes(2 * PART_BYTES + 4097);
  await writeFile(join(s.dir, 'huge'), huge);
  assert.ok((await readWholeFile(join(s.dir, 'huge'))).equals(huge));
  // Shared (for another thread to read where it lies) when read in parts; a file read in one part is not.
  const shared = await readWholeFile(join(s.dir, 'huge'), true);
  assert.ok(shared.equals(huge));
  assert.ok(shared.buffer instanceof SharedArrayBuffer);
  assert.ok(!((await readWholeFile(join(s.dir, 'big'), true)).buffer instanceof SharedArrayBuffer));
  assert.equal((await readWholeFile(join(s.dir, 'empty'))).length, 0);
  await assert.rejects(readWholeFile(join(s.dir, 'missing')), { code: 'ENOENT' });
});

void test('a read started ahead is handed over when the file is unchanged, and not when it was replaced, appended to or removed', async (t) => {
  const s = await Scratch.create(t);
  const path = (name: string): string => join(s.dir, name);
  for (const name of ['same', 'replaced', 'appended', 'removed']) await writeFile(path(name), `${name} before`);
  const ahead = new FilesAhead();
  for (const name of ['same', 'replaced', 'appended', 'removed', 'missing']) ahead.start(path(name));
  // Let the early reads finish before the files change, as a read ahead of the lock would.
  await new Promise((r) => setTimeout(r, 50));
  await writeFile(path('new'), 'replaced after');
  await rename(path('new'), path('replaced'));
  await appendFile(path('appended'), ' and after');
  await rm(path('removed'));
  await writeFile(path('missing'), 'made after');
  assert.equal((await ahead.take(path('same'))).toString(), 'same before');
  assert.equal((await ahead.take(path('replaced'))).toString(), 'replaced after');
  assert.equal((await ahead.take(path('appended'))).toString(), 'appended before and after');
  await assert.rejects(ahead.take(path('removed')), { code: 'ENOENT' });
  assert.equal((await ahead.take(path('missing'))).toString(), 'made after', 'a failed early read is tried again');
  // Not started: read now. Started and never taken: dropped without an unhandled rejection.
  assert.equal((await ahead.take(path('same'))).toString(), 'same before');
  ahead.start(path('never there'));
});
