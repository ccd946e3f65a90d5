// The workspace build's fast start. Node 20 loads the name server as a few hundred ES modules, each
// resolved, read and compiled on its own (~190 ms more than one script, on this project's 2-core
// VM), and has no compile cache (Node 22's `module.enableCompileCache`). `pnpm build` therefore
// also bundles the compiled program into one script (packages/release/src/build/fast-start.ts), and
// the command's bin runs that script — with a V8 code cache beside it — when it is current: every
// file it was made from still has the size and modification time it had then. Anything else (a file
// rebuilt by `tsc -b` alone, a moved checkout, no bundle) falls back on the modules, so the bundle
// is never staler than the build. Each bundled file keeps its own `import.meta.url`, so the program
// finds the files beside its modules as it does unbundled.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagsKey, runCached, scriptText, type CodeCache } from './code-cache.js';

/** What the bundler writes beside the bundle, and the bin reads first. */
export interface FastStartManifest {
  format: 1;
  /**
   * Where the manifest was written. The bundle holds the absolute paths of its files (their
   * `import.meta.url`), so a copy of the tree elsewhere (a test's, a mutation run's) must run
   * its own modules, not a bundle made from the files it was copied from.
   */
  self: string;
  /** A random id of this bundle: its code caches are named by it, so none outlives it. */
  build: string;
  /** The bundle's file name, in the manifest's folder. */
  bundle: string;
  /** Every file the bundle was made from: absolute path, size in bytes, modification time (ms). */
  inputs: Array<[path: string, size: number, mtimeMs: number]>;
}

export type { CodeCache } from './code-cache.js';

/** How this process started, for its start-up log line. */
export interface FastStartInfo {
  /** The workspace's fast start, or the release binary's loader (packages/release's loader.ts). */
  from: 'fast start bundle' | 'release bundle';
  bundle: string;
  codeCache: CodeCache;
}

type Main = (args: string[]) => Promise<number>;

/** The environment variable that turns the fast start off (`0`): the modules run, as unbundled. */
export const FAST_START_ENV = 'DPNS_FAST_START';

const INFO = Symbol.for('dpns.fastStart');

/**
 * The bundle's `main` when the bundle named by the manifest at `manifestUrl` is current, else
 * undefined (the caller imports its modules). Never throws for a missing or stale bundle; a
 * bundle that is current but fails to load throws, as its modules would.
 */
export function fastStartMain(manifestUrl: URL, opts: { cacheAfterMs?: number } = {}): Main | undefined {
  if (process.env[FAST_START_ENV] === '0') return undefined;
  const manifestPath = fileURLToPath(manifestUrl);
  const manifest = readManifest(manifestPath);
  if (manifest === undefined || manifest.self !== manifestPath || !current(manifest)) return undefined;
  const bundlePath = join(dirname(manifestPath), manifest.bundle);
  const bytes = readFileSync(bundlePath);
  const source = scriptText(bytes);
  const cachePath = `${bundlePath}.${manifest.build}.${flagsKey()}.v8cache`;
  const ran = runCached({
    source, filename: bundlePath, dirname: dirname(bundlePath), require: createRequire(bundlePath), cachePath,
    ...(opts.cacheAfterMs === undefined ? {} : { cacheAfterMs: opts.cacheAfterMs }),
  });
  recordStart({ from: 'fast start bundle', bundle: bundlePath, codeCache: ran.codeCache });
  const main = (ran.exports as { main?: unknown }).main;
  if (typeof main !== 'function') throw new Error(`${bundlePath} exports no main function: rebuild it with pnpm build`);
  return main as Main;
}

/** Says how this process started, for fastStartInfo(): the release binary's loader calls it. */
export function recordStart(info: FastStartInfo): void {
  (globalThis as Record<symbol, unknown>)[INFO] = info;
}

/** How this process started: the bundle and its code cache, or undefined when it runs its modules. */
export function fastStartInfo(): FastStartInfo | undefined {
  return (globalThis as Record<symbol, FastStartInfo | undefined>)[INFO];
}

function readManifest(path: string): FastStartManifest | undefined {
  let m: Partial<FastStartManifest>;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Partial<FastStartManifest>;
  } catch {
    return undefined;
  }
  const ok = m.format === 1 && typeof m.self === 'string' && typeof m.build === 'string' && /^[0-9a-f]+$/.test(m.build) &&
    typeof m.bundle === 'string' && !m.bundle.includes('/') && Array.isArray(m.inputs);
  return ok ? m as FastStartManifest : undefined;
}

/** Every input is where it was, with its size and modification time then. */
function current(m: FastStartManifest): boolean {
  for (const [path, size, mtimeMs] of m.inputs) {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined || st.size !== size || st.mtimeMs !== mtimeMs) return false;
  }
  return true;
}
