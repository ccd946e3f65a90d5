#!/usr/bin/env node
// Replaces dist/typebox.js (tsc's re-export of TypeBox, src/typebox.ts says why) with one file
// holding what it re-exports. Run by `pnpm run build` after tsc; safe to run again.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'typebox.js');
await build({
  entryPoints: [join(root, 'src', 'typebox.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  legalComments: 'inline',
  logLevel: 'warning',
  absWorkingDir: root,
});
process.stdout.write(`bundle: wrote packages/protocol/dist/typebox.js (${Math.round(statSync(outfile).size / 1024)} KiB, TypeBox in one file)\n`);
