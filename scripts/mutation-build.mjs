#!/usr/bin/env node
// Stryker's build step (stryker.config.mjs), run in its sandbox, the current directory.
//
// The sandbox holds the TypeScript sources with every mutant of the run switched in (and
// `// @ts-nocheck` atop each mutated file), and the tests run from compiled `dist/`. `tsc -b` cannot
// do this build: Stryker links node_modules into the sandbox only after the build, so the type
// check finds neither @types/node nor the workspace packages, and it would re-check ~165 files
// whose types a mutant never changes. A type-free transpile of each file is all the tests need
// (`verbatimModuleSyntax` makes every file transpilable alone), and takes about a second.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** The packages whose code is mutated or whose tests run; each compiles `src/` to `dist/`. */
const PACKAGES = ['packages/protocol', 'packages/cluster-core', 'packages/nameserver'];

// tsconfig.base.json, minus what only a type check or `tsc -b` uses: the packages are ES modules
// ("type": "module"), so NodeNext emits exactly what ES2022 modules do.
const options = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ES2022,
  verbatimModuleSyntax: true,
  esModuleInterop: true,
};

function* sources(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield p;
  }
}

let files = 0;
for (const pkg of PACKAGES) {
  const src = join(pkg, 'src');
  for (const file of sources(src)) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file, reportDiagnostics: true });
    const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0) {
      console.error(`mutation-build: ${file}: ${ts.flattenDiagnosticMessageText(errors[0].messageText, '\n')}`);
      process.exit(1);
    }
    const target = join(pkg, 'dist', file.slice(src.length + 1).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
    files++;
  }
}
console.log(`mutation-build: transpiled ${files} files`);
