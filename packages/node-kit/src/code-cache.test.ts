// A program's code cache: where it is kept, when that folder is trusted, and V8 taking it back.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { codeCacheDir, removeOtherCaches, sourceKey } from './code-cache.js';

function temp(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpns-code-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the cache folder: systemd\'s CacheDirectory first, then $XDG_CACHE_HOME/APP, then ~/.cache/APP; made 0700', (t) => {
  const root = temp(t);
  const unit = join(root, 'unit');
  mkdirSync(unit, { mode: 0o700 });
  mkdirSync(join(root, 'xdg'), { mode: 0o700 });
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: `${unit}:${join(root, 'second')}`, XDG_CACHE_HOME: join(root, 'xdg'), HOME: root }), unit);
  assert.equal(codeCacheDir('app', { XDG_CACHE_HOME: join(root, 'xdg'), HOME: root }), join(root, 'xdg', 'app'));
  assert.equal(codeCacheDir('app', { HOME: root }), join(root, '.cache', 'app'));
  assert.deepEqual(readdirSync(join(root, '.cache')), ['app']);
  assert.equal(statSync(join(root, '.cache')).mode & 0o777, 0o700);
  assert.equal(statSync(join(root, '.cache', 'app')).mode & 0o777, 0o700);
  // Nothing is made where the unit's folder or $XDG_CACHE_HOME is missing: systemd or the user makes those.
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: join(root, 'none') }), undefined);
  assert.equal(codeCacheDir('app', { XDG_CACHE_HOME: join(root, 'none') }), undefined);
  assert.deepEqual(readdirSync(root).sort(), ['.cache', 'unit', 'xdg']);
  // Relative or missing: no cache at all, rather than one in the working directory.
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: 'relative', XDG_CACHE_HOME: 'also', HOME: 'no' }), undefined);
  assert.equal(codeCacheDir('app', {}), undefined);
});

test('a cache folder another user may write is not used; a link to one of this user\'s is', (t) => {
  const root = temp(t);
  const open = join(root, 'open');
  mkdirSync(open, { mode: 0o700 });
  chmodSync(open, 0o777);
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: open }), undefined);
  chmodSync(open, 0o720);
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: open }), undefined);
  chmodSync(open, 0o755);
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: open }), open);
  // systemd's DynamicUser makes /var/cache/NAME a link to /var/cache/private/NAME.
  const link = join(root, 'link');
  symlinkSync(open, link);
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: link }), link);
  // A file where the folder should be.
  writeFileSync(join(root, 'file'), '');
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: join(root, 'file') }), undefined);
});

test('a folder of another user is not used', { skip: process.getuid?.() !== 0 ? 'needs root to give a folder away' : false }, (t) => {
  const root = temp(t);
  const theirs = join(root, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, 65534, 65534);
  assert.equal(codeCacheDir('app', { CACHE_DIRECTORY: theirs }), undefined);
  // Another user's $HOME (sudo keeping the caller's): nothing is made in it.
  assert.equal(codeCacheDir('app', { HOME: theirs }), undefined);
  assert.deepEqual(readdirSync(theirs), []);
  const mine = join(root, 'mine');
  mkdirSync(join(mine, '.cache'), { recursive: true, mode: 0o700 });
  chownSync(join(mine, '.cache'), 65534, 65534);
  assert.equal(codeCacheDir('app', { HOME: mine }), undefined);
  assert.deepEqual(readdirSync(join(mine, '.cache')), []);
});

test('only the caches of other texts of the same program are removed', (t) => {
  const dir = temp(t);
  const key = sourceKey(Buffer.from('exports.x = 1;'));
  assert.match(key, /^[0-9a-f]{16}$/);
  assert.notEqual(sourceKey(Buffer.from('exports.x = 2;')), key);
  const mine = `p.cjs.${key}`;
  for (const f of [`${mine}.aaaaaaaaaaaa.v8cache`, `${mine}.bbbbbbbbbbbb.v8cache`, 'p.cjs.0123456789abcdef.aaaaaaaaaaaa.v8cache', 'q.cjs.0123456789abcdef.aaaaaaaaaaaa.v8cache', 'p.cjs.notes']) {
    writeFileSync(join(dir, f), '');
  }
  removeOtherCaches(dir, 'p.cjs', key);
  assert.deepEqual(readdirSync(dir).sort(), [`${mine}.aaaaaaaaaaaa.v8cache`, `${mine}.bbbbbbbbbbbb.v8cache`, 'p.cjs.notes', 'q.cjs.0123456789abcdef.aaaaaaaaaaaa.v8cache']);
  removeOtherCaches(join(dir, 'gone'), 'p.cjs', key);
});

/** Runs `source` through runCached in a process of its own (V8 keeps what it compiled for the rest of a process). */
function runInChild(root: string, source: string, cachePath: string): { result: unknown; codeCache: string } {
  const runner = join(root, 'runner.mjs');
  writeFileSync(runner, [
    `import { runCached } from ${JSON.stringify(new URL('./code-cache.js', import.meta.url).href)};`,
    'import { createRequire } from "node:module";',
    `const ran = runCached({ source: ${JSON.stringify(source)}, filename: ${JSON.stringify(join(root, 'p.cjs'))}, dirname: ${JSON.stringify(root)}, require: createRequire(${JSON.stringify(join(root, 'p.cjs'))}), cachePath: ${JSON.stringify(cachePath)}, cacheAfterMs: 0, onWritten: () => process.stdout.write(JSON.stringify({ result: ran.exports.f(), codeCache: ran.codeCache })) });`,
    'if (ran.codeCache === "accepted") process.stdout.write(JSON.stringify({ result: ran.exports.f(), codeCache: ran.codeCache }));',
    // The write's timer does not keep a process alive by itself.
    'else setTimeout(() => {}, 500);',
  ].join('\n'));
  const r = spawnSync(process.execPath, [runner], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { result: unknown; codeCache: string };
}

test('the cache is written after the script has run, V8 takes it at the next start, and a cache V8 refuses is written anew', (t) => {
  const root = temp(t);
  const source = 'const { basename } = require("node:path");\nexports.f = () => `${basename(__filename)} ${typeof module.exports.f}`;\n';
  const cachePath = join(root, 'p.v8cache');
  assert.deepEqual(runInChild(root, source, cachePath), { result: 'p.cjs function', codeCache: 'none' });
  assert.deepEqual(runInChild(root, source, cachePath), { result: 'p.cjs function', codeCache: 'accepted' });
  writeFileSync(cachePath, 'not a cache');
  assert.deepEqual(runInChild(root, source, cachePath), { result: 'p.cjs function', codeCache: 'rejected' });
  assert.deepEqual(runInChild(root, source, cachePath), { result: 'p.cjs function', codeCache: 'accepted' });
});
