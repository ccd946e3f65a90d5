// Step 1 of the binary: the compiled workspace (tsc's dist/) and its dependencies bundled by
// esbuild into one CommonJS script, since Node 20's single executables run exactly one CommonJS
// file as their main and `require` only built-in modules from it.
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROGRAM_FILE } from '../program-file.js';

/** The compiled program of the binary (multicall.ts), beside this file's folder. */
const PROGRAM = fileURLToPath(new URL('../multicall.js', import.meta.url));
/** Its first script, which compiles the program with a code cache (loader.ts). */
const LOADER = fileURLToPath(new URL('../loader.js', import.meta.url));

/**
 * `import.meta.url` has no value in a CommonJS bundle, and the code uses it to find files beside
 * itself (always with a fallback inside the binary) and for `createRequire`, which needs only a
 * well-formed file URL: the script's own path, or the binary's.
 */
const IMPORT_META_URL = '__dpnsImportMetaUrl';
/** `import.meta.resolve` is used only where the code finds its files on disk, never inside the binary. */
const IMPORT_META_RESOLVE = '__dpnsImportMetaResolve';
const BANNER = [
  `var ${IMPORT_META_URL} = require('node:url').pathToFileURL(typeof __filename === 'string' && __filename !== '' ? __filename : process.execPath).href;`,
  `var ${IMPORT_META_RESOLVE} = (s) => { throw new Error('import.meta.resolve(' + JSON.stringify(s) + ') has no meaning inside the dpns binary'); };`,
].join('\n');

/**
 * Optional packages a dependency requires inside a try (ws's native helpers), not installed: in
 * the bundle, a module that throws as a missing one does. Left as a `require`, the binary would
 * print Node's warning that a single executable requires only built-ins, at each connection.
 */
const ABSENT = ['bufferutil', 'utf-8-validate'];

export const absentPackages: Plugin = {
  name: 'dpns-absent-optional-packages',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${ABSENT.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'dpns-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'dpns-absent' }, (args) => ({
      contents: `throw Object.assign(new Error(${JSON.stringify(`${args.path} is not in the dpns binary`)}), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

/**
 * yargs and its cliui import `string-width`, whose module start-up makes an `Intl.Segmenter` and
 * compiles Unicode-property regexes (~24 ms of every start, two versions of it), for the width
 * of help text only. In a bundle each import of it is a stand-in that loads the real one when
 * first called.
 */
export const lazyStringWidth: Plugin = {
  name: 'dpns-lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'real' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'dpns-lazy' };
    });
    b.onLoad({ filter: /.*/, namespace: 'dpns-lazy' }, (args) => ({
      contents: `let real;\nexport default function stringWidth(text, options) {\n  real ??= require(${JSON.stringify(args.path)}).default;\n  return real(text, options);\n}\n`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

export interface BundleResult {
  /** The program's size: the loader's, a few kilobytes, is not counted. */
  bytes: number;
  /** The program's file, beside the loader (PROGRAM_FILE), for the binary to embed. */
  program: string;
  /** The optional packages the binary does without. */
  absent: readonly string[];
}

/**
 * The name server's snapshot thread (registry/merge-worker.ts): a worker thread's program, which
 * inside the binary has no file of its own to be started from. It goes into the bundle as one
 * script, a string the name server starts with `eval` (registry/merge-thread.ts).
 */
const SNAPSHOT_THREAD = fileURLToPath(import.meta.resolve('@dpns/nameserver/snapshot-thread'));
const SNAPSHOT_THREAD_CODE = '__DPNS_MERGE_WORKER__';

/** One CommonJS script for Node 20, unminified: stack traces in logs stay readable. */
export const CJS_FOR_NODE = {
  bundle: true,
  platform: 'node' as const,
  target: 'node20',
  format: 'cjs' as const,
  minify: false,
  legalComments: 'inline' as const,
  logLevel: 'warning' as const,
  metafile: true as const,
} satisfies BuildOptions;

const COMMON = {
  ...CJS_FOR_NODE,
  banner: { js: BANNER },
  plugins: [absentPackages, lazyStringWidth],
  define: { 'import.meta.url': IMPORT_META_URL, 'import.meta.resolve': IMPORT_META_RESOLVE },
} satisfies BuildOptions;

/**
 * Writes the loader to `outfile` and the program beside it (PROGRAM_FILE); throws when anything
 * but a built-in module was left out of either. `node OUTFILE dpns-nameserver ...` runs the
 * release as the binary does.
 */
export async function bundle(outfile: string): Promise<BundleResult> {
  const thread = await build({
    ...COMMON,
    entryPoints: [SNAPSHOT_THREAD],
    write: false,
  });
  const threadCode = thread.outputFiles?.[0]?.text;
  if (threadCode === undefined) throw new Error('bundle: esbuild made nothing of the snapshot thread');
  checkBuiltinsOnly(thread.metafile);
  const program = join(dirname(outfile), PROGRAM_FILE);
  const result = await build({
    ...COMMON,
    entryPoints: [PROGRAM],
    outfile: program,
    define: { ...COMMON.define, [SNAPSHOT_THREAD_CODE]: JSON.stringify(threadCode) },
  });
  checkBuiltinsOnly(result.metafile);
  const loader = await build({ ...COMMON, entryPoints: [LOADER], outfile });
  checkBuiltinsOnly(loader.metafile);
  const out = Object.values(result.metafile.outputs)[0];
  return { bytes: out?.bytes ?? 0, program, absent: ABSENT };
}

/** Throws when a bundle would require anything but a built-in module at run time. */
export function checkBuiltinsOnly(metafile: Metafile): void {
  const left = new Set(Object.values(metafile.inputs).flatMap((i) => i.imports.filter((x) => x.external).map((x) => x.path)));
  const builtin = (p: string): boolean => p.startsWith('node:') || builtinModules.includes(p);
  const missing = [...left].filter((p) => !builtin(p));
  if (missing.length > 0) throw new Error(`bundle: ${missing.join(', ')} would be required at run time, where a single executable can load only built-in modules`);
}
