import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TObject } from '@sinclair/typebox';
import { TypeCompiler } from './typebox.js';
import { METHOD_NAMES, METHODS, parseParams } from './methods.js';
import { explainObject, nullAbsentKeys } from './param-fields.js';

// Values that sit on either side of some field's rule.
const h = (n: number): string => 'a1'.repeat(n / 2);
const POOL: unknown[] = [
  undefined, null, 0, 1, -1, 1.5, 50, 100, 1000, 10_000, 65_535, 65_536, 600_001, 604_800_001, true, false, '', 'x', '/a', '/a/*', '*', '/a/../b', '/a\\-b', '/a/[',
  'h1', 'bad host', '127.0.0.1', '::1', 'a'.repeat(300), 'b'.repeat(5000), 'a\0b', h(16), h(64), h(128), h(64).toUpperCase(), '/abs/x.mjs', 'rel', 'dir', 'Dir',
  'no', 'on-failure', 'always', 'svc-demo', 'x'.repeat(33), `${'a'.repeat(32)}$`, [], ['cwd'], ['user', 'cwd'], ['x'], [1], ['a', '\0'], Array(257).fill('a'),
  {}, { A: 'b' }, { 'A=B': 'x' }, { A: 1 }, { host: 'h', program: '/bin/p' }, { host: 'h', program: '/bin/p', env: { K: 'v' }, args: ['a'], restart: 'no' },
  { host: 'h' }, { program: '/p', cwd: 'rel' }, { args: 'x' }, { user: 'Bad' }, { startTimeoutMs: 50 }, { redacted: true },
  { kind: 'tcp' }, { kind: 'http' }, { kind: 'http', path: '/healthz' }, { kind: 'http', path: '/a b' }, { kind: 'tcp', path: '/x' }, { kind: 'udp' },
  { kind: 'tcp', timeoutMs: 6000 }, { kind: 'tcp', intervalMs: 500 }, { kind: 'tcp', intervalMs: 1000, timeoutMs: 999, threshold: 1 }, { kind: 'tcp', threshold: 0 },
  { host: 'h', program: '/bin/p', check: { kind: 'tcp', timeoutMs: 5000 } }, { check: { kind: 'http', path: '/' } }, ['check'],
];

function* samples(schema: TObject, n: number): Generator<unknown> {
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const keys = Object.keys(schema.properties);
  for (let i = 0; i < n; i++) {
    if (i % 50 === 0) {
      yield POOL[i % POOL.length];
      continue;
    }
    const o: Record<string, unknown> = {};
    for (const k of keys) if (rnd() < 0.85) o[k] = POOL[Math.floor(rnd() * POOL.length)];
    if (rnd() < 0.05) o.extra = 1;
    yield o;
  }
}

test('what a method\'s compiled schema refuses, the walk that explains a refusal refuses too (and what it admits, only the walk\'s whole-object checks may refuse)', () => {
  for (const m of METHOD_NAMES) {
    const schema = METHODS[m].params as TObject;
    const check = TypeCompiler.Compile(schema);
    const nullable = nullAbsentKeys(schema);
    for (const raw of samples(schema, 3000)) {
      let v = raw ?? {};
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        v = Object.fromEntries(Object.entries(v).filter(([k, x]) => !(x === null && nullable.includes(k))));
      }
      let explained: unknown;
      try {
        explainObject(schema, v, 'params');
      } catch (e) {
        explained = e;
      }
      const what = `${m} ${JSON.stringify(v)?.slice(0, 200)}`;
      if (!check.Check(v)) {
        assert.notEqual(explained, undefined, `${what}: the schema refuses it, the walk finds nothing wrong`);
        continue;
      }
      // What the schema admits, the walk refuses only by a check of the whole, which the method's finish makes too.
      if (explained === undefined) continue;
      assert.throws(() => parseParams[m](raw), (e: unknown) => e instanceof Error && e.message === (explained as Error).message, `${what}: ${String(explained)}`);
    }
  }
});
