// Names and globs over random input (fast-check, with shrinking): the compiled matcher against
// a reference that follows Tcl's `string match` rules one step at a time, and the name rules
// against their definition. A failure prints the seed and the smallest pattern and name that
// disagree; FC_SEED=<seed> replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileGlob, hasWildcard } from './glob.js';
import { isDpnsError } from './errors.js';
import { MAX_NAME_BYTES, nameProblem } from './names.js';

const replay = process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) };

/** One element of a pattern, kept apart so the reference need not parse. */
type Atom = { t: 'lit'; c: string } | { t: 'any' } | { t: 'star' } | { t: 'set'; items: (string | [string, string])[] };

function render(atoms: readonly Atom[]): string {
  return atoms.map((a) => {
    switch (a.t) {
      case 'lit': return /[*?[\\\]]/.test(a.c) ? `\\${a.c}` : a.c;
      case 'any': return '?';
      case 'star': return '*';
      case 'set': return `[${a.items.map((i) => (typeof i === 'string' ? i : `${i[0]}-${i[1]}`)).join('')}]`;
    }
  }).join('');
}

/** Obviously right and slow: memoised recursion over atoms and characters. */
function reference(atoms: readonly Atom[], s: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * 1024 + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const a = atoms[i];
    let r: boolean;
    if (a === undefined) r = j === s.length;
    else if (a.t === 'star') r = go(i + 1, j) || (j < s.length && go(i, j + 1));
    else if (j === s.length) r = false;
    else {
      const c = s[j] as string;
      const ok = a.t === 'any' || (a.t === 'lit' && a.c === c)
        || (a.t === 'set' && a.items.some((it) => (typeof it === 'string' ? it === c : it[0] <= c && c <= it[1])));
      r = ok && go(i + 1, j + 1);
    }
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

// A small alphabet, so that patterns and names meet often; `*?[]\` are escaped when literal.
const char = fc.constantFrom('a', 'b', 'c', '/', '.', '-', '*', '?', '[', ']', '\\');
const plain = fc.constantFrom('a', 'b', 'c', 'x');
const atom: fc.Arbitrary<Atom> = fc.oneof(
  { weight: 5, arbitrary: char.map((c): Atom => ({ t: 'lit', c })) },
  { weight: 2, arbitrary: fc.constant<Atom>({ t: 'any' }) },
  { weight: 2, arbitrary: fc.constant<Atom>({ t: 'star' }) },
  {
    weight: 2,
    arbitrary: fc.array(fc.oneof(plain, fc.tuple(plain, plain).map(([x, y]): [string, string] => (x <= y ? [x, y] : [y, x]))), { minLength: 1, maxLength: 3 })
      .map((items): Atom => ({ t: 'set', items })),
  },
);
const subject = fc.array(fc.constantFrom('a', 'b', 'c', 'x', '/', '.', '-', '*', '?', '[', ']', '\\'), { maxLength: 40 }).map((cs) => cs.join(''));

test('the compiled matcher agrees with the reference on random patterns and names', () => {
  fc.assert(fc.property(fc.array(atom, { minLength: 1, maxLength: 24 }), subject, (atoms, s) => {
    const pattern = render(atoms);
    if ((pattern.match(/\*+/g) ?? []).length > 32) return; // over the star limit: refused, tested elsewhere
    assert.equal(compileGlob(pattern).match(s), reference(atoms, s), `${pattern} against ${JSON.stringify(s)}`);
  }), { numRuns: 5000, ...replay });
});

test('a pattern matches its own literal rendering, and a literal pattern is exactly one name', () => {
  fc.assert(fc.property(fc.array(char, { minLength: 1, maxLength: 40 }), (cs) => {
    const literal = cs.join('');
    const escaped = cs.map((c) => (/[*?[\\\]]/.test(c) ? `\\${c}` : c)).join('');
    assert.ok(compileGlob(escaped).match(literal), `${escaped} matches ${literal}`);
    if (!hasWildcard(literal)) {
      const g = compileGlob(literal);
      assert.ok(g.isLiteral && g.literalPrefix === literal && g.match(literal) && !g.match(`${literal}x`));
    }
  }), { numRuns: 2000, ...replay });
});

test('every match of a pattern starts with its literal prefix (what the ordered index relies on)', () => {
  fc.assert(fc.property(fc.array(atom, { minLength: 1, maxLength: 16 }), subject, (atoms, s) => {
    const g = compileGlob(render(atoms));
    if (g.match(s)) assert.ok(s.startsWith(g.literalPrefix), `${g.pattern} matched ${JSON.stringify(s)} without its prefix ${JSON.stringify(g.literalPrefix)}`);
  }), { numRuns: 3000, ...replay });
});

// Names: "/" then segments of [A-Za-z0-9._-], none "." or "..", at most 255 bytes.
const segmentChar = fc.constantFrom(...'abcXYZ019._-');
const segment = fc.array(segmentChar, { minLength: 1, maxLength: 12 }).map((cs) => cs.join('')).filter((s) => s !== '.' && s !== '..');
const validName = fc.array(segment, { minLength: 1, maxLength: 8 }).map((segs) => `/${segs.join('/')}`).filter((n) => n.length <= MAX_NAME_BYTES);

test('names built by the rules are accepted, and one broken rule is always named', () => {
  fc.assert(fc.property(validName, (n) => {
    assert.equal(nameProblem(n), undefined, n);
    assert.ok(compileGlob(n).isLiteral, `${n} is its own pattern`);
  }), { numRuns: 2000, ...replay });
  const broken = fc.oneof(
    validName.map((n) => n.slice(1)), // no leading "/"
    validName.map((n) => `${n}/`), // trailing "/"
    validName.map((n) => n.replace('/', '//')), // empty segment
    fc.tuple(validName, fc.constantFrom('.', '..')).map(([n, dot]) => `${n}/${dot}`),
    fc.tuple(validName, fc.constantFrom(' ', '*', 'é', '\0', ':', '~')).map(([n, c]) => `${n}${c}`),
    validName.map((n) => `${n}/${'a'.repeat(MAX_NAME_BYTES)}`), // too long
  );
  fc.assert(fc.property(broken, (n) => {
    assert.equal(typeof nameProblem(n), 'string', `${JSON.stringify(n)} should be refused`);
  }), { numRuns: 2000, ...replay });
});

test('a malformed pattern is refused with INVALID_PATTERN, never thrown as anything else', () => {
  fc.assert(fc.property(fc.string({ maxLength: 60, unit: fc.constantFrom('a', '/', '*', '?', '[', ']', '-', '\\', '!', '^') }), (p) => {
    try {
      compileGlob(p);
    } catch (e) {
      assert.ok(isDpnsError(e, 'INVALID_PATTERN'), `${JSON.stringify(p)} threw ${String(e)}`);
    }
  }), { numRuns: 5000, ...replay });
});
