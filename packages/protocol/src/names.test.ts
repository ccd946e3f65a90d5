import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertName, nameProblem } from './names.js';
import { isDpnsError } from './errors.js';

test('valid names', () => {
  for (const n of ['/a', '/demo/echo', '/vods/as/zonker', '/A-b_c.d/0', `/${'x'.repeat(254)}`]) {
    assert.equal(nameProblem(n), undefined, n);
  }
});

test('invalid names say which rule they break', () => {
  const cases: [unknown, RegExp][] = [
    ['', /empty/], ['a/b', /start with/], ['/', /at least one segment/], ['/a//b', /empty segment/], ['/a/', /empty segment/],
    ['/a/../b', /"\.\."/], ['/a/./b', /"\."/], ['/a b', /outside/], ['/a\0b', /outside/], ['/ä', /outside/],
    [`/${'x'.repeat(255)}`, /at most 255/], ['/'.padEnd(10_000, 'a'), /at most 255/], [42, /string/], [null, /string/],
  ];
  for (const [n, why] of cases) {
    const p = nameProblem(n);
    assert.ok(p !== undefined && why.test(p), `${String(n).slice(0, 20)}: ${p}`);
  }
});

test('assertName throws INVALID_NAME naming the field', () => {
  assert.throws(() => assertName('/a/..', 'params.name'), (e: unknown) => isDpnsError(e, 'INVALID_NAME') && e.message.startsWith('params.name:'));
});

test('a message quotes a long name cut at 64 characters, and says which segment is empty', () => {
  const long = `/${'a'.repeat(100)}//b`;
  const p = nameProblem(long) ?? '';
  assert.ok(p.includes(`"/${'a'.repeat(63)}…"`), p);
  assert.ok(!p.includes('a'.repeat(64)), p);
  assert.match(nameProblem('/a//b') ?? '', /at position 2 in "\/a\/\/b"/);
  assert.match(nameProblem('/a/b/') ?? '', /at position 3/);
  // Exactly 64 characters is shown whole.
  const sixtyFour = `/${'c'.repeat(62)}/`;
  assert.ok((nameProblem(sixtyFour) ?? '').includes(`"${sixtyFour}"`));
  assert.match(nameProblem(`/${'b'.repeat(70)} x`) ?? '', new RegExp(`segment "${'b'.repeat(64)}…" has a character`));
});

test('assertName names the field in its details, "name" unless told', () => {
  assert.throws(() => assertName('nope'), (e: unknown) => isDpnsError(e, 'INVALID_NAME') && e.message.startsWith('name: ') && e.details?.field === 'name');
  assert.throws(() => assertName(undefined, 'params.target'), (e: unknown) => isDpnsError(e, 'INVALID_NAME') && e.details?.field === 'params.target' && /missing/.test(e.message));
  assert.doesNotThrow(() => assertName('/ok'));
});
