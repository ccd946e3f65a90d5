// The entry table agrees with a Map through random puts, removals and reads, over a loaded
// file's lines or none: sizes, lookups, and every name and entry listed once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnapshotLines } from '../storage/snapshot-stream.js';
import { EntryTable } from './entry-table.js';
import { PlainNameIndex } from './plain-name-index.js';

const service = (name: string): string => JSON.stringify({ kind: 'service', name, state: 'stopped', since: 1 });

function check(table: EntryTable<string>, model: Map<string, string | number>, pool: readonly string[]): void {
  assert.equal(table.size, model.size);
  for (const n of pool) assert.equal(table.get(n), model.get(n), n);
  assert.deepEqual([...table.keys()].sort(), [...model.keys()].sort());
  assert.deepEqual([...table.values()].map(String).sort(), [...model.values()].map(String).sort());
}

for (const baseSize of [0, 40, 700]) {
  void test(`agrees with a Map through random operations, over ${baseSize} lines`, () => {
    let seed = 7 + baseSize;
    // The high bits: an LCG's low bits repeat with a short period.
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) % n;
    const baseNames = Array.from({ length: baseSize }, (_, i) => `/b/${i}`);
    const lines = SnapshotLines.fromText(['{"head":1}', ...baseNames.map(service), JSON.stringify({ kind: 'alias', name: '/alias', target: '/b/1', since: 1 })]);
    const table = new EntryTable<string>();
    const model = new Map<string, string | number>();
    const index = PlainNameIndex.build(lines, 1, 2 + baseSize);
    table.reset({ index, from: 1, to: 2 + baseSize });
    baseNames.forEach((n, j) => model.set(n, 1 + j));
    // The line that is not a plain service's, held as the registry holds it (parsed).
    table.set('/alias', 'alias');
    model.set('/alias', 'alias');
    const pool = [...baseNames, '/alias', '/new/1', '/new/2', '/new/3', '/caf\u00e9', '/q"', ''];
    check(table, model, pool);
    for (let i = 0; i < 6000; i++) {
      const name = pool[rnd(pool.length)] as string;
      const op = rnd(10);
      if (op < 4) {
        const v = `v${i}`;
        assert.equal(table.swap(name, v), model.get(name), `swap ${name}`);
        model.set(name, v);
      } else if (op < 7) {
        assert.equal(table.delete(name), model.delete(name), `delete ${name}`);
      } else {
        assert.equal(table.has(name), model.has(name), `has ${name}`);
      }
      if (i % 500 === 0) check(table, model, pool);
    }
    check(table, model, pool);
    // Every line shadowed and then removed: the lines are let go, and the table is a Map.
    for (const n of baseNames) {
      table.delete(n);
      model.delete(n);
    }
    check(table, model, pool);
    table.set('/b/0', 'back');
    model.set('/b/0', 'back');
    check(table, model, pool);
  });
}

void test('reset empties the table, lines and all', () => {
  const lines = SnapshotLines.fromText([service('/a'), service('/b')]);
  const table = new EntryTable<string>();
  table.reset({ index: PlainNameIndex.build(lines, 0, 2), from: 0, to: 2 });
  table.set('/c', 'c');
  assert.equal(table.size, 3);
  assert.equal(table.get('/b'), 1);
  table.reset();
  assert.equal(table.size, 0);
  assert.equal(table.get('/b'), undefined);
  assert.deepEqual([...table.keys()], []);
});
