import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, hasWildcard } from './glob.js';
import { isDpnsError } from './errors.js';

const m = (p: string, s: string) => compileGlob(p).match(s);

test('* matches any run, "/" included, as in the paper\'s /vods/* listing', () => {
  assert.ok(m('/vods/*', '/vods/as/zonker'));
  assert.ok(m('/vods/*', '/vods/vmgr'));
  assert.ok(m('*', '/a'));
  assert.ok(!m('/vods/*', '/vod'));
  assert.ok(m('/vods/*/zonker', '/vods/as/zonker'));
  assert.ok(m('/a**b', '/ab'));
});

test('? matches exactly one character', () => {
  assert.ok(m('/a?c', '/abc'));
  assert.ok(!m('/a?c', '/ac'));
  assert.ok(!m('/a?c', '/abbc'));
});

test('[set] with ranges, in either order, and escapes', () => {
  assert.ok(m('/s[0-9]', '/s5'));
  assert.ok(!m('/s[0-9]', '/sx'));
  assert.ok(m('/s[9-0]', '/s5'));
  assert.ok(m('/s[abc]', '/sb'));
  assert.ok(m('/s[a\\]]', '/s]'));
  assert.ok(m('/s[-]', '/s-'));
  assert.ok(m('/x[.-]', '/x.'));
});

test('backslash makes the next character literal', () => {
  assert.ok(m('/a\\*', '/a*'));
  assert.ok(!m('/a\\*', '/ab'));
  assert.ok(m('/a\\?', '/a?'));
});

test('regex metacharacters in a pattern are literal', () => {
  assert.ok(m('/a.b', '/a.b'));
  assert.ok(!m('/a.b', '/axb'));
  assert.ok(m('/a(b)+', '/a(b)+'));
  assert.ok(m('/a$^{1}|', '/a$^{1}|'));
});

test('literal prefix and literal patterns', () => {
  assert.equal(compileGlob('/bench/g42/*').literalPrefix, '/bench/g42/');
  assert.equal(compileGlob('/a\\*b*').literalPrefix, '/a*b');
  assert.equal(compileGlob('*').literalPrefix, '');
  const lit = compileGlob('/demo/echo');
  assert.ok(lit.isLiteral);
  assert.equal(lit.literalPrefix, '/demo/echo');
  assert.ok(!compileGlob('/demo/*').isLiteral);
});

test('malformed patterns are refused with INVALID_PATTERN and a reason', () => {
  for (const [p, why] of [
    ['', /empty/], ['/a[bc', /unclosed/], ['/a\\', /lone/], ['/a[]', /empty set/], ['/a\0', /NUL/], ['x'.repeat(600), /at most/],
  ] as const) {
    assert.throws(() => compileGlob(p), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && why.test(e.message), p.slice(0, 20));
  }
  assert.throws(() => compileGlob(42), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN'));
});

test('many stars stay linear (no catastrophic backtracking)', () => {
  const p = `/${'*a'.repeat(30)}b`;
  const s = `/${'a'.repeat(200)}`;
  const t0 = process.hrtime.bigint();
  assert.ok(!m(p, s));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(ms < 1000, `took ${ms} ms`);
});

test('hasWildcard tells patterns from names', () => {
  assert.ok(hasWildcard('/a/*'));
  assert.ok(hasWildcard('/a?'));
  assert.ok(hasWildcard('/a[b]'));
  assert.ok(!hasWildcard('/a/b'));
});

test('the star matcher agrees with a reference on random patterns', () => {
  // A slow but obviously right matcher: recursion over pattern and string.
  const ref = (p: string, s: string): boolean => {
    if (p === '') return s === '';
    if (p[0] === '*') return ref(p.slice(1), s) || (s !== '' && ref(p, s.slice(1)));
    if (s === '') return false;
    if (p[0] === '?' || p[0] === s[0]) return ref(p.slice(1), s.slice(1));
    return false;
  };
  let seed = 7;
  // The high bits: an LCG's low bits repeat with a short period (bit k every 2^(k+1) draws).
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) % n;
  for (let k = 0; k < 5000; k++) {
    const p = `/${Array.from({ length: rnd(7) }, () => 'ab*?/'[rnd(5)]).join('')}`;
    const s = `/${Array.from({ length: rnd(8) }, () => 'ab/'[rnd(3)]).join('')}`;
    assert.equal(compileGlob(p).match(s), ref(p, s), `${p} vs ${s}`);
  }
});

test('runs longer than one 32-bit word, with sets and ?, agree with the reference', () => {
  // The reference again, with sets [ab] and [b-c], over long names so runs span several words.
  const one = (p: string, c: string): [boolean, number] => {
    if (p.startsWith('[ab]')) return [c === 'a' || c === 'b', 4];
    if (p.startsWith('[b-c]')) return [c === 'b' || c === 'c', 5];
    return [p[0] === '?' || p[0] === c, 1];
  };
  const ref = (p: string, s: string): boolean => {
    const memo = new Map<string, boolean>();
    const go = (i: number, j: number): boolean => {
      const key = `${i},${j}`;
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      let r: boolean;
      if (i === p.length) r = j === s.length;
      else if (p[i] === '*') r = go(i + 1, j) || (j < s.length && go(i, j + 1));
      else if (j === s.length) r = false;
      else {
        const [ok, width] = one(p.slice(i), s[j] as string);
        r = ok && go(i + width, j + 1);
      }
      memo.set(key, r);
      return r;
    };
    return go(0, 0);
  };
  let seed = 11;
  // The high bits: an LCG's low bits repeat with a short period (bit k every 2^(k+1) draws).
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) % n;
  const atoms = ['a', 'b', 'c', '?', '[ab]', '[b-c]'];
  for (let k = 0; k < 2000; k++) {
    const runs = Array.from({ length: 1 + rnd(3) }, () => Array.from({ length: rnd(80) }, () => atoms[rnd(atoms.length)]).join(''));
    const p = `${rnd(2) === 0 ? '*' : '/'}${runs.join('*')}${rnd(2) === 0 ? '*' : ''}`;
    if ((p.match(/\[/g) ?? []).length > 64) continue;
    const s = `/${Array.from({ length: rnd(200) }, () => 'abc'[rnd(3)]).join('')}`;
    assert.equal(compileGlob(p).match(s), ref(p, s), `${p} vs ${s}`);
  }
});

test('limits on stars and sets keep every pattern cheap to match', () => {
  assert.ok(compileGlob(`/${'a*'.repeat(32)}`));
  assert.throws(() => compileGlob(`/${'a*'.repeat(33)}`), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /at most 32 "\*"/.test(e.message));
  assert.ok(compileGlob('/a**********b'), 'a run of stars counts once');
  assert.ok(compileGlob(`/${'[ab]'.repeat(64)}`));
  assert.throws(() => compileGlob(`/${'[ab]'.repeat(65)}`), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /at most 64/.test(e.message));
  // More atoms than the longest name can hold: matches nothing, at once.
  assert.equal(compileGlob(`*${'?'.repeat(300)}*`).match(`/${'a'.repeat(254)}`), false);
});

test('a refused pattern names its field in the message and the details, "pattern" unless told', () => {
  assert.throws(() => compileGlob(42), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && e.message === 'pattern: a pattern must be a string, got number' && e.details?.field === 'pattern');
  assert.throws(() => compileGlob('/a[', 'params.pattern'), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && e.message.startsWith('params.pattern: ') && e.details?.field === 'params.pattern');
});

test('the limits are inclusive: 512 characters, 32 star groups, leading ones counted', () => {
  assert.ok(compileGlob(`*${'a'.repeat(511)}`));
  assert.throws(() => compileGlob(`*${'a'.repeat(512)}`), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /at most 512 characters, got 513/.test(e.message));
  assert.ok(compileGlob(`*${'a*'.repeat(31)}`), '32 groups');
  assert.throws(() => compileGlob(`*${'a*'.repeat(32)}`), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /got 33/.test(e.message));
  assert.ok(compileGlob(`/a${'*'.repeat(100)}b`), 'one run of 100 stars is one group');
});

test('positions in set errors count from 1', () => {
  assert.throws(() => compileGlob('/a[bc'), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /unclosed "\[" at position 3/.test(e.message));
  assert.throws(() => compileGlob('/a[]'), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /empty set "\[\]" at position 3/.test(e.message));
  assert.throws(() => compileGlob('/a[b\\'), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /dangling "\\" in set at position 3/.test(e.message));
});

test('sets hold exactly their characters and inclusive ranges', () => {
  assert.ok(m('/s[0-9]', '/s9') && m('/s[0-9]', '/s0'));
  assert.ok(!m('/[ace]', '/b'), 'no range without a "-"');
  assert.ok(!m('/[x]', '/a') && !m('/[x]', '/e') && !m('/[x]', '/S'));
  assert.ok(!m('/s[a\\]]', '/s\\'), 'an escaped character is that character alone');
  assert.ok(m('/s[\\a-c]', '/sb'), 'an escaped range end');
  assert.ok(m('/[a-a]', '/a') && !m('/[a-a]', '/b'));
});

test('without a star a pattern matches whole names only', () => {
  assert.ok(!m('/a?', '/abc'));
  assert.ok(!m('/a[bc]', '/abx'));
  assert.ok(m('/a[bc]', '/ac'));
  assert.ok(!m('/a?', '/a'));
  const esc = compileGlob('/a\\*');
  assert.ok(esc.isLiteral, 'escapes only: a literal');
  assert.equal(esc.literalPrefix, '/a*');
});

test('a leading star leaves the start open, a trailing one the end', () => {
  assert.ok(m('*b', '/ab') && !m('*b', '/ba'));
  assert.ok(m('*a*', '/bab') && m('/a*b*', '/aba') && !m('/a*b', '/aba'));
  assert.ok(m('*', ''));
  assert.ok(!m('/a*', '/b'));
});

test('a pattern as long as the longest name still matches it', () => {
  const name = `/${'a'.repeat(254)}`;
  assert.equal(compileGlob(`/${'?'.repeat(254)}*`).match(name), true);
  assert.equal(compileGlob(`*${'?'.repeat(255)}`).match(name), true);
  assert.equal(compileGlob(`*${'?'.repeat(256)}`).match(name), false);
});

test('characters outside ASCII are matched too (patterns meet any string, not only valid names)', () => {
  assert.ok(m('/?', '/é') && m('/?', '/\u0080') && m('/?', '/\u007f'));
  assert.ok(m('/[é]', '/é') && m('/[à-ê]', '/é') && !m('/[à-ê]', '/ô') && !m('/[a-z]', '/é'));
  assert.ok(m('/x*é', '/xyzé') && !m('/x*é', '/xyze'));
  // Runs between stars, where the scan is not anchored.
  assert.ok(m('*b?d*', '/abéd/') && m('*[é]d*', 'éd') && m('*é*', 'aébc') && !m('*é*', 'aebc'));
  assert.ok(m('*[à-ê]?*', '/xéé') && !m('*[à-ê]x*', '/xéé'));
  const long = `*${'?'.repeat(40)}é*`;
  assert.ok(compileGlob(long).match(`/${'ü'.repeat(40)}é`), 'a non-ASCII run past one 32-bit word');
  assert.ok(!compileGlob(long).match(`/${'ü'.repeat(41)}`));
});

test('stars apart are separate groups, whatever stands between them', () => {
  assert.throws(() => compileGlob(`*${'?*'.repeat(32)}`), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /got 33/.test(e.message));
  assert.throws(() => compileGlob(`*${'[a]*'.repeat(32)}`), (e: unknown) => isDpnsError(e, 'INVALID_PATTERN') && /got 33/.test(e.message));
});

test('the first run is anchored at the start, each run after it taken in order without overlap', () => {
  assert.ok(!m('/?b*', '/a/ab') && m('/?b*', '/ab/x'));
  assert.ok(!m('*ab*ba*', 'xaba') && m('*ab*ba*', 'xabba'));
  assert.ok(m('*a*b*', '/ab') && !m('*b*a*', '/ab'));
  assert.ok(m('*?*', '\u0080') && m('*?b*', '/\u0080b'));
  for (const n of [31, 32, 33, 64]) {
    assert.ok(m(`*${'a'.repeat(n)}*`, `/${'a'.repeat(n)}/`), `a run of ${n}`);
    assert.ok(!m(`*${'a'.repeat(n)}*`, `/${'a'.repeat(n - 1)}/`), `a run of ${n}, one short`);
  }
});

test('sets of several ranges, and range ends, hold for characters outside ASCII too', () => {
  assert.ok(m('/[à-âè-ê]', '/é') && m('/[à-âè-ê]', '/á') && !m('/[à-âè-ê]', '/ç'));
  assert.ok(!m('/[é-ê]', '/à') && m('/[é-ê]', '/é') && m('/[à-é]', '/é'));
  assert.ok(!m(`*x${'?'.repeat(40)}*`, `é${'a'.repeat(40)}`), 'a long run with no x matches nothing');
  assert.ok(m(`*x${'?'.repeat(40)}*`, `éx${'é'.repeat(40)}`));
});
