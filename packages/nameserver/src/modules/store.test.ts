import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDpnsError } from '@dpns/protocol';
import { ModuleStore } from './store.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-store-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a missing store is empty; values are stored as JSON, on disk once set resolves, and survive a reopen', () => withDir(async (dir) => {
  const file = join(dir, 'modules', 'dir.json');
  const s = await ModuleStore.open(file, 1 << 20);
  assert.deepEqual(s.api.keys(), []);
  await s.api.set('person:ann', { server: '/conf/a', tags: ['x'] });
  const onDisk = JSON.parse(await readFile(file, 'utf8')) as { version: number; data: Record<string, unknown> };
  assert.deepEqual(onDisk, { version: 1, data: { 'person:ann': { server: '/conf/a', tags: ['x'] } } });
  // No temporary file is left beside it.
  assert.deepEqual(await readdir(join(dir, 'modules')), ['dir.json']);
  const again = await ModuleStore.open(file, 1 << 20);
  assert.deepEqual(again.api.get('person:ann'), { server: '/conf/a', tags: ['x'] });
  assert.equal(await again.api.delete('person:ann'), true);
  assert.equal(await again.api.delete('person:ann'), false);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { version: 1, data: {} });
}));

test('get hands out copies: changing one does not change what is stored', () => withDir(async (dir) => {
  const s = await ModuleStore.open(join(dir, 'm.json'), 1 << 20);
  await s.api.set('k', { n: 1 });
  (s.api.get('k') as { n: number }).n = 99;
  assert.deepEqual(s.api.get('k'), { n: 1 });
}));

test('a burst of writes resolves once each is on disk, with the last value of each key', () => withDir(async (dir) => {
  const file = join(dir, 'm.json');
  const s = await ModuleStore.open(file, 1 << 20);
  await Promise.all(Array.from({ length: 200 }, (_, i) => s.api.set(`k${i % 10}`, i)));
  const data = (JSON.parse(await readFile(file, 'utf8')) as { data: Record<string, number> }).data;
  assert.equal(Object.keys(data).length, 10);
  assert.equal(data.k9, 199);
}));

test('what cannot be stored is refused with a code: not JSON, a bad key, over the size limit', () => withDir(async (dir) => {
  const s = await ModuleStore.open(join(dir, 'm.json'), 200);
  await assert.rejects(s.api.set('f', () => 1), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS'));
  await assert.rejects(s.api.set('big', 10n), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS'));
  await assert.rejects(s.api.set('', 1), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS'));
  await assert.rejects(s.api.set('k', 'x'.repeat(300)), (e: unknown) => isDpnsError(e, 'LIMIT_EXCEEDED'));
  assert.equal(s.api.has('k'), false);
}));

test('a damaged store file refuses to open rather than starting empty', () => withDir(async (dir) => {
  const file = join(dir, 'm.json');
  await writeFile(file, '{"version":1,"data":');
  await assert.rejects(ModuleStore.open(file, 1 << 20), /not valid JSON.*move it away/);
  await writeFile(file, '[]');
  await assert.rejects(ModuleStore.open(file, 1 << 20), /no "data" object/);
}));
