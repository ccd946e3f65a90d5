// The fast start runs a bundle only while every file it was made from is unchanged and in place,
// and keeps a V8 code cache beside it that V8 accepts on the next start.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { FAST_START_ENV, fastStartInfo, fastStartMain, type FastStartManifest } from './fast-start.js';

/** A tree with one input file and a bundle made from it, as the bundler leaves them. */
function tree(t: TestContext, bundle = 'const { basename } = require("node:path");\nexports.main = async (args) => `${basename(__filename)} ${args.join(" ")}`;\n'): { root: string; input: string; manifest: string; url: URL } {
  const root = mkdtempSync(join(tmpdir(), 'dpns-fast-start-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const input = join(root, 'src.js');
  writeFileSync(input, 'export const x = 1;\n');
  mkdirSync(join(root, 'fast'));
  writeFileSync(join(root, 'fast', 'app.cjs'), bundle);
  const manifest = join(root, 'fast', 'app.json');
  const st = statSync(input);
  const m: FastStartManifest = { format: 1, self: manifest, build: '0123abcd', bundle: 'app.cjs', inputs: [[input, st.size, st.mtimeMs]] };
  writeFileSync(manifest, JSON.stringify(m));
  return { root, input, manifest, url: pathToFileURL(manifest) };
}

function caches(root: string): string[] {
  return readdirSync(join(root, 'fast')).filter((f) => f.endsWith('.v8cache'));
}

/**
 * A process of its own starts the tree's bundle (V8 keeps what it compiled for the rest of a
 * process, so only a new one shows what it makes of a cache file) and waits for its cache.
 */
function startInChild(root: string, url: URL): { result: unknown; codeCache: string | undefined } {
  const runner = join(root, 'runner.mjs');
  writeFileSync(runner, [
    `import { fastStartMain, fastStartInfo } from ${JSON.stringify(new URL('./fast-start.js', import.meta.url).href)};`,
    `const main = fastStartMain(new URL(${JSON.stringify(url.href)}), { cacheAfterMs: 0 });`,
    'const result = main === undefined ? null : await main(["a", "b"]);',
    'await new Promise((r) => setTimeout(r, 100));',
    'process.stdout.write(JSON.stringify({ result, codeCache: fastStartInfo()?.codeCache }));',
  ].join('\n'));
  const r = spawnSync(process.execPath, [runner], { encoding: 'utf8', env: { ...process.env, [FAST_START_ENV]: '' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { result: unknown; codeCache: string | undefined };
}

test('a current bundle runs and writes its code cache once started; V8 accepts it at the next start', (t) => {
  const { root, url } = tree(t);
  assert.deepEqual(startInChild(root, url), { result: 'app.cjs a b', codeCache: 'none' });
  const [cache, ...more] = caches(root);
  assert.match(cache ?? '', /^app\.cjs\.0123abcd\.[0-9a-f]{12}\.v8cache$/);
  assert.deepEqual(more, []);
  assert.deepEqual(startInChild(root, url), { result: 'app.cjs a b', codeCache: 'accepted' });
  // In this process too, which says how it started (its own flags name another cache file).
  assert.equal(typeof fastStartMain(url), 'function');
  assert.equal(fastStartInfo()?.bundle, join(root, 'fast', 'app.cjs'));
});

test('a code cache V8 refuses is said so and written anew', (t) => {
  const { root, url } = tree(t);
  startInChild(root, url);
  const [name] = caches(root);
  assert.ok(name !== undefined);
  const cache = join(root, 'fast', name);
  const good = readFileSync(cache);
  writeFileSync(cache, Buffer.alloc(good.length, 7));
  assert.deepEqual(startInChild(root, url), { result: 'app.cjs a b', codeCache: 'rejected' });
  assert.notEqual(readFileSync(cache)[0], 7);
  assert.deepEqual(startInChild(root, url), { result: 'app.cjs a b', codeCache: 'accepted' });
});

test('an input changed, resized or gone since the bundle was made: the modules run instead', (t) => {
  for (const change of [
    (input: string) => utimesSync(input, new Date(), new Date(Date.now() + 5000)),
    (input: string) => writeFileSync(input, 'export const x = 22;\n'),
    (input: string) => rmSync(input),
  ]) {
    const { input, url } = tree(t);
    assert.ok(fastStartMain(url) !== undefined);
    change(input);
    assert.equal(fastStartMain(url), undefined);
  }
});

test('a copy of the tree elsewhere runs its own modules, not the bundle it was copied with', (t) => {
  const { root, url } = tree(t);
  const copy = `${root}-copy`;
  cpSync(root, copy, { recursive: true, preserveTimestamps: true });
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  assert.ok(fastStartMain(url) !== undefined);
  assert.equal(fastStartMain(pathToFileURL(join(copy, 'fast', 'app.json'))), undefined);
});

test(`${FAST_START_ENV}=0, no manifest, or a malformed one: the modules run`, (t) => {
  const { root, manifest, url } = tree(t);
  process.env[FAST_START_ENV] = '0';
  try {
    assert.equal(fastStartMain(url), undefined);
  } finally {
    delete process.env[FAST_START_ENV];
  }
  assert.equal(fastStartMain(pathToFileURL(join(root, 'fast', 'none.json'))), undefined);
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as FastStartManifest;
  for (const bad of ['{', JSON.stringify({ ...m, format: 2 }), JSON.stringify({ ...m, bundle: '../app.cjs' }), JSON.stringify({ ...m, build: 'x/y' })]) {
    writeFileSync(manifest, bad);
    assert.equal(fastStartMain(url), undefined, bad);
  }
});

test('a current bundle without a main is an error that says to rebuild', (t) => {
  const { url } = tree(t, 'exports.other = 1;\n');
  assert.throws(() => fastStartMain(url), /exports no main function: rebuild it with pnpm build/);
});
