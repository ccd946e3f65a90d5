#!/usr/bin/env node
// Bundles the monitor page into dist/: app.js (the Preact app, minified), app.css and
// index.html and favicon.svg. The name server serves these files at / (packages/nameserver/src/web/assets.ts).
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

await mkdir(dist, { recursive: true });
const result = await build({
  entryPoints: [join(src, 'main.tsx')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome109', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(root, 'tsconfig.json'),
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: root,
});
// The page must never carry Node code: anything from node: or outside src, preact, the
// protocol's pure login proof and the @noble/hashes HMAC under it is a mistake. (@dpns/protocol
// holds no Node code, a lint rule sees to that, but the rest of it is more than the page needs:
// tweetnacl, the method tables.)
const allowed = /^(?:src\/|\.\.\/protocol\/dist\/(?:admin-proof|bytes|sha256)\.js$)|\/node_modules\/(?:preact|@noble\/hashes)\//;
for (const input of Object.keys(result.metafile.inputs)) {
  if (!allowed.test(input)) {
    throw new Error(`bundle: unexpected input ${input}: the page imports only its own src, preact and @dpns/protocol/admin-proof (with @noble/hashes)`);
  }
}
await copyFile(join(src, 'index.html'), join(dist, 'index.html'));
await copyFile(join(src, 'app.css'), join(dist, 'app.css'));
await copyFile(join(src, 'favicon.svg'), join(dist, 'favicon.svg'));
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]]?.bytes ?? 0;
process.stdout.write(`bundle: wrote packages/web/dist/app.js (${Math.round(bytes / 1024)} KiB), app.css, favicon.svg, index.html\n`);
