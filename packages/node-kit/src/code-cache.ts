// A bundled program run with a V8 code cache. Node 20 has no compile cache of its own (Node 22's
// `module.enableCompileCache`), so a program bundled into one CommonJS script is compiled with
// `vm.Script` and V8's cache of what it compiled last time, and the cache is written once the
// program has started (so it holds the start-up's functions, not only the script's top level).
// The workspace's fast start (fast-start.ts) keeps its cache beside its bundle, in the build tree;
// the release binary (packages/release's loader) keeps it in the user's cache directory.
//
// A cache file is code: V8 checks that it was made by the same V8 with the same flags for a
// source of the same length, not that it was made from this source. So a file is named for the
// source it was made from and the flags, and is used only from a directory that this user owns
// and no one else may write, as the program itself is trusted.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { isAbsolute, join } from 'node:path';
import vm from 'node:vm';

export type CodeCache = 'accepted' | 'rejected' | 'none';

export interface CachedScript {
  /** What the script put in `module.exports`. */
  exports: unknown;
  codeCache: CodeCache;
}

export interface RunCachedOptions {
  /** The script's text: CommonJS, run in this context with the usual module wrapper. */
  source: string;
  /** Its `__filename` (and the name in its stack traces). */
  filename: string;
  dirname: string;
  require: NodeJS.Require;
  /** The cache file to read and to write; undefined: none (the script is compiled as without one). */
  cachePath: string | undefined;
  /**
   * How long after the script ran its cache is written, when there was none or V8 refused it:
   * long enough for the start-up's functions to have been compiled, so the cache holds them.
   */
  cacheAfterMs?: number;
  /** Called once the cache has been written. */
  onWritten?: () => void;
}

const CACHE_AFTER_MS = 3000;

/** Compiles `source` with the cache at `cachePath` when V8 takes it, runs it, and writes the cache later when it did not. */
export function runCached(o: RunCachedOptions): CachedScript {
  let cachedData: Buffer | undefined;
  if (o.cachePath !== undefined) {
    try {
      cachedData = readFileSync(o.cachePath);
    } catch {
      // None yet: written below once the program has started.
    }
  }
  const script = new vm.Script(Module.wrap(o.source), {
    filename: o.filename,
    // A bundle requires its built-ins, but `import()` of what is not in it (the module host's
    // modules, as data: URLs) goes to Node's own loader, as in a script Node compiled.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  const codeCache: CodeCache = cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  const mod = { exports: {} as unknown };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  wrapper.call(mod.exports, mod.exports, o.require, mod, o.filename, o.dirname);
  const cachePath = o.cachePath;
  if (cachePath !== undefined && codeCache !== 'accepted') {
    setTimeout(() => {
      if (writeCache(script, cachePath)) o.onWritten?.();
    }, o.cacheAfterMs ?? CACHE_AFTER_MS).unref();
  }
  return { exports: mod.exports, codeCache };
}

/**
 * V8 refuses a cache made under other flags (a module host's heap limits, say): each set of flags
 * has its own file, so processes started differently do not overwrite each other's.
 */
export function flagsKey(): string {
  const flags = `${process.version} ${process.arch} ${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  return createHash('sha256').update(flags).digest('hex').slice(0, 12);
}

/**
 * A short name for a script's bytes: its cache file is never taken for another build's. SHA-1 of
 * the bytes, not SHA-256 of the text: 1.5 ms a start for the release's 2.5 MB program where that
 * took ~10 ms on the benchmark VM. What keeps a chosen cache file out is the folder's check
 * (codeCacheDir), not this name.
 */
export function sourceKey(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex').slice(0, 16);
}

/** A bundle's text: an ASCII file (esbuild writes one) is its own Latin-1 decoding, a copy; UTF-8 decoding checks each byte. */
export function scriptText(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** Best effort: a folder this process may not write (an installed package) only costs the cache. */
function writeCache(script: vm.Script, path: string): boolean {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
    renameSync(temp, path);
    return true;
  } catch {
    rmSync(temp, { force: true });
    return false;
  }
}

/**
 * Removes the caches in `dir` of other builds of `name` (`NAME.SOURCEKEY.FLAGSKEY.v8cache`), which
 * no start will take again: an upgrade would otherwise leave one behind for each version.
 * Caches of this build (`key`, its sourceKey) under other flags (a module host's) stay. Best effort.
 */
export function removeOtherCaches(dir: string, name: string, key: string): void {
  const mine = `${name}.${key}.`;
  try {
    for (const f of readdirSync(dir)) {
      if (f.startsWith(`${name}.`) && f.endsWith('.v8cache') && !f.startsWith(mine)) rmSync(join(dir, f), { force: true });
    }
  } catch {
    // The folder went, or cannot be read: nothing to tidy.
  }
}

/**
 * The folder for `app`'s code caches: systemd's `CacheDirectory` for a unit ($CACHE_DIRECTORY, the
 * first when it lists several, made by systemd), else `$XDG_CACHE_HOME/app`, else `~/.cache/app`.
 * Undefined, so no cache is read or written, when none of these is set to an absolute path, or a
 * folder on the way is not this user's own or may be written by another (a cache file there would
 * be code someone else chose). Only the last one or two folders are made, each 0700, and only
 * inside a folder of this user's: `sudo` keeping another user's $HOME makes nothing in it.
 */
export function codeCacheDir(app: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const systemd = env.CACHE_DIRECTORY?.split(':')[0];
  const xdg = env.XDG_CACHE_HOME;
  const home = env.HOME;
  const chain = systemd !== undefined && isAbsolute(systemd) ? [systemd]
    : xdg !== undefined && isAbsolute(xdg) ? [xdg, join(xdg, app)]
    : home !== undefined && isAbsolute(home) ? [home, join(home, '.cache'), join(home, '.cache', app)]
    : undefined;
  if (chain === undefined) return undefined;
  const [first, ...rest] = chain as [string, ...string[]];
  if (!ownedByMeAlone(first)) return undefined;
  for (const dir of rest) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
    if (!ownedByMeAlone(dir)) return undefined;
  }
  return chain[chain.length - 1];
}

/**
 * A directory of this process's user that no other user may write. Followed when a link: with
 * DynamicUser, systemd's /var/cache/NAME is a link (in root's /var/cache) to /var/cache/private/NAME.
 */
function ownedByMeAlone(dir: string): boolean {
  const uid = process.geteuid?.();
  if (uid === undefined) return false;
  try {
    const st = statSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
