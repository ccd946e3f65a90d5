// `pnpm build`'s last step: the workspace build's fast start (@dpns/node-kit's fast-start.ts
// says why). The name server's compiled program and its dependencies bundled by esbuild into one
// CommonJS script beside its modules, packages/nameserver/dist/fast-start/dpns-nameserver.cjs,
// with a manifest of every file it was made from. Unlike the release binary's bundle (bundle.ts),
// each file keeps its own `import.meta.url`: the bundle runs inside the checkout, and finds the
// files beside each module (the snapshot thread, the module host, the monitor page) where they are.
//   node packages/release/dist/build/fast-start.js
import { build, type Plugin } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastStartManifest } from '@dpns/node-kit/fast-start';
import { absentPackages, checkBuiltinsOnly, CJS_FOR_NODE, lazyStringWidth } from './bundle.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** A command whose bin runs a bundle when it is current. */
export interface FastStartTarget {
  name: string;
  /** The compiled module exporting `main(args)`. */
  entry: string;
  /** The folder of the bundle, its manifest and its code caches. */
  dir: string;
}

export const NAMESERVER_FAST_START: FastStartTarget = {
  name: 'dpns-nameserver',
  entry: join(REPO_ROOT, 'packages/nameserver/dist/main.js'),
  dir: join(REPO_ROOT, 'packages/nameserver/dist/fast-start'),
};

const RESOLVE_FROM = '__dpnsResolveFrom';
/** `import.meta.resolve` from a given file, by require's resolution (the same file for the workspace's packages). */
const BANNER = `var ${RESOLVE_FROM} = (from, s) => require('node:url').pathToFileURL(require('node:module').createRequire(from).resolve(s)).href;`;

/** Each file's `import.meta.url` and `import.meta.resolve` as they are when it runs as a module. */
const ownImportMeta: Plugin = {
  name: 'dpns-own-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?js$/, namespace: 'file' }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return { contents: text, loader: 'js' };
      const url = JSON.stringify(pathToFileURL(args.path).href);
      const contents = text
        .replaceAll(/\bimport\.meta\.url\b/g, url)
        .replaceAll(/\bimport\.meta\.resolve\(/g, `${RESOLVE_FROM}(${url}, `);
      return { contents, loader: 'js' };
    });
  },
};

export interface FastStartResult {
  bundle: string;
  bytes: number;
  inputs: number;
}

/**
 * Writes the target's bundle and then its manifest (the bin reads the manifest first, so a
 * bundle half-written is never run), after removing the ones before and their code caches.
 */
export async function buildFastStart(target: FastStartTarget): Promise<FastStartResult> {
  await rm(target.dir, { recursive: true, force: true });
  await mkdir(target.dir, { recursive: true });
  const bundleName = `${target.name}.cjs`;
  const bundlePath = join(target.dir, bundleName);
  const result = await build({
    entryPoints: [target.entry],
    ...CJS_FOR_NODE,
    // Without comments and indentation: 1.7 → 1.2 MB, all ASCII (read as Latin-1, a copy), ~15 ms
    // less of every start on the benchmark VM. Names stay, so a stack trace still says where it
    // was; the release bundle stays as it is, for the operators' logs.
    minifyWhitespace: true,
    legalComments: 'none',
    outfile: bundlePath,
    banner: { js: BANNER },
    plugins: [ownImportMeta, absentPackages, lazyStringWidth],
    absWorkingDir: REPO_ROOT,
  });
  checkBuiltinsOnly(result.metafile);
  const inputs: FastStartManifest['inputs'] = [];
  for (const rel of Object.keys(result.metafile.inputs)) {
    // The absent packages' stand-ins are no files.
    if (rel.includes(':')) continue;
    const path = resolve(REPO_ROOT, rel);
    const st = await stat(path);
    inputs.push([path, st.size, st.mtimeMs]);
  }
  const manifestPath = join(target.dir, `${target.name}.json`);
  const manifest: FastStartManifest = { format: 1, self: manifestPath, build: randomBytes(8).toString('hex'), bundle: bundleName, inputs };
  await writeFile(`${manifestPath}.tmp`, `${JSON.stringify(manifest)}\n`);
  await rename(`${manifestPath}.tmp`, manifestPath);
  return { bundle: bundlePath, bytes: (await stat(bundlePath)).size, inputs: inputs.length };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildFastStart(NAMESERVER_FAST_START).then(
    (r) => {
      process.stdout.write(`fast start: ${NAMESERVER_FAST_START.name} bundled from ${r.inputs} files into ${r.bundle.replace(REPO_ROOT, '')} (${(r.bytes / 2 ** 20).toFixed(1)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    },
    (err: unknown) => {
      process.stderr.write(`fast start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
