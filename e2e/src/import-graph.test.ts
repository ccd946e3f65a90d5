// The shape of the workspace, read from the sources: each package imports only what its
// package.json declares (no reaching into another package's files, no undeclared package), each
// workspace package it imports is a project reference in its tsconfig (so `tsc -b` builds it
// first), and no package's files import each other in a cycle, types included. Cheap (it reads
// the files, no build) and it keeps STYLE.md's "packages say what they are" from drifting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from './harness/index.js';

interface Workspace {
  dir: string;
  name: string;
  declared: Set<string>;
  references: Set<string>;
}

const WORKSPACES: Workspace[] = [
  ...readdirSync(join(REPO_ROOT, 'packages')).map((d) => join(REPO_ROOT, 'packages', d)),
  join(REPO_ROOT, 'e2e'),
].filter((dir) => statSync(join(dir, 'src'), { throwIfNoEntry: false })?.isDirectory() === true).map(readWorkspace);

function readWorkspace(dir: string): Workspace {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>;
  };
  const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { references?: { path: string }[] };
  return {
    dir,
    name: pkg.name,
    declared: new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]),
    references: new Set((tsconfig.references ?? []).map((r) => resolve(dir, r.path))),
  };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The specifiers of a file's static imports and re-exports, and of its dynamic imports of a literal. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s(?:[^'"`;]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) found.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string);
  return found;
}

const NODE_BUILTINS = new Set(builtinModules);

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** The file a relative specifier names: `./x.js` is `./x.ts` (or `.tsx`) in the sources. */
function resolveRelative(from: string, specifier: string, files: Set<string>): string | undefined {
  const base = resolve(dirname(from), specifier);
  return [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base].find((p) => files.has(p));
}

test('each package imports only what its package.json declares, and builds after what it imports', () => {
  const byName = new Map(WORKSPACES.map((w) => [w.name, w]));
  const problems: string[] = [];
  for (const w of WORKSPACES) {
    const src = join(w.dir, 'src');
    const files = new Set(sourceFiles(src));
    for (const file of files) {
      for (const s of specifiers(readFileSync(file, 'utf8'))) {
        const at = relative(REPO_ROOT, file);
        if (s.startsWith('.')) {
          const target = resolve(dirname(file), s);
          if (relative(src, target).startsWith('..')) problems.push(`${at}: ${s} reaches outside ${w.name}'s src`);
          continue;
        }
        if (s.startsWith('node:') || NODE_BUILTINS.has(s) || s.startsWith('data:')) continue;
        const name = packageOf(s);
        if (!w.declared.has(name)) {
          problems.push(`${at}: imports ${name}, which ${relative(REPO_ROOT, w.dir)}/package.json does not declare`);
          continue;
        }
        const dep = byName.get(name);
        // @dpns/web's bundle is read from disk, not compiled against: no reference needed.
        if (dep !== undefined && name !== '@dpns/web' && !w.references.has(dep.dir)) {
          problems.push(`${at}: imports ${name}, which ${relative(REPO_ROOT, w.dir)}/tsconfig.json does not reference`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('no package\'s files import each other in a cycle, not even for types', () => {
  const cycles: string[] = [];
  for (const w of WORKSPACES) {
    const files = new Set(sourceFiles(join(w.dir, 'src')));
    const graph = new Map<string, string[]>();
    for (const file of files) {
      graph.set(file, specifiers(readFileSync(file, 'utf8')).filter((s) => s.startsWith('.'))
        .map((s) => resolveRelative(file, s, files)).filter((p): p is string => p !== undefined));
    }
    // Depth-first; an edge back to a file still on the stack closes a cycle.
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((p) => relative(REPO_ROOT, p)).join(' → '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
  }
  assert.deepEqual(cycles, []);
});
