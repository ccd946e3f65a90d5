import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestError, readModule } from './manifest.js';

const ok = { manifest: { prefix: 'dir', version: '1.0.0', methods: { lookup: { description: 'where' }, admin: { admin: true } } }, handlers: { lookup: () => 1, admin: () => 2 } };

test('a good module: its methods, handlers and hooks', () => {
  const m = readModule({ ...ok, init: () => undefined });
  assert.equal(m.prefix, 'dir');
  assert.deepEqual(m.methods, [{ name: 'lookup', description: 'where', admin: false }, { name: 'admin', description: '', admin: true }]);
  assert.deepEqual([...m.handlers.keys()], ['lookup', 'admin']);
  assert.equal(typeof m.init, 'function');
  assert.equal(m.onChange, undefined);
});

test('a bad module is refused saying which export is wrong', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ handlers: ok.handlers }, /does not export `manifest`/],
    [{ manifest: ok.manifest }, /does not export `handlers`/],
    [{ ...ok, manifest: { ...ok.manifest, prefix: 'Dir' } }, /manifest\.prefix: a module prefix must match/],
    [{ ...ok, manifest: { ...ok.manifest, version: '' } }, /manifest\.version/],
    [{ ...ok, manifest: { ...ok.manifest, methods: {} } }, /declares no method/],
    [{ ...ok, manifest: { ...ok.manifest, methods: { 'a.b': {} } }, handlers: {} }, /method name must match/],
    [{ ...ok, handlers: { lookup: () => 1 } }, /handlers\.admin is not a function/],
    [{ ...ok, handlers: { ...ok.handlers, extra: () => 3 } }, /handlers\.extra is not declared/],
    [{ ...ok, onChange: 'nope' }, /`onChange` must be a function/],
  ];
  for (const [ns, why] of bad) assert.throws(() => readModule(ns), (e: unknown) => e instanceof ManifestError && why.test(e.message), why.source);
  // A reserved prefix is well-formed: the name server refuses it, with its own cause.
  assert.equal(readModule({ ...ok, manifest: { ...ok.manifest, prefix: 'register' } }).prefix, 'register');
});
