// The newest snapshot read while the program loads. The name server's bin runs its program from one
// bundled script (the workspace's fast start: @dpns/node-kit's fast-start.ts), which Node compiles
// and runs before main() can start any read: ~80 ms on the benchmark VM in which the disk and the
// second CPU had nothing to do, while the snapshot of 100,000 names takes ~40 ms to read, and of a
// million ~300 ms. So the bin calls readEarly() first, with the data directory its command line or
// environment names, and Store.readAhead() takes over what it started (FilesAhead hands a read
// over only if its file is still the one read then). A restart of 100,000 names: median 436 →
// 406 ms on that VM.
import { resolve } from 'node:path';
import { readdirSync } from 'node:fs';
import { newestSnapshot } from './snapshot-names.js';
import { FilesAhead } from './whole-file.js';

const EARLY = Symbol.for('dpns.storage.earlyReads');

interface EarlyReads {
  dir: string;
  ahead: FilesAhead;
}

type Slot = Record<symbol, EarlyReads | undefined>;

/**
 * Starts reading the newest snapshot of the data directory that `args` name with `--data-dir`
 * (or, without one, `env.DPNS_DATA_DIR`): the two that no config file overrides. A directory set
 * in a config file, or left to its default, is read from main() as before.
 */
export function readEarly(args: readonly string[], env: NodeJS.ProcessEnv): void {
  const dir = namedDataDir(args, env);
  if (dir === undefined) return;
  const ahead = new FilesAhead();
  (globalThis as Slot)[EARLY] = { dir, ahead };
  // All of it here, before the program is compiled: a callback would wait until that is done.
  let newest: string | undefined;
  try {
    newest = newestSnapshot(dir, readdirSync(dir));
  } catch {
    return;
  }
  if (newest !== undefined) ahead.start(newest, true);
}

/**
 * The reads readEarly() started, when it was for `dir` (the same string): handed over once, and
 * dropped when for another directory, so that what they read does not stay in memory.
 */
export function takeEarlyReads(dir: string): FilesAhead | undefined {
  const early = (globalThis as Slot)[EARLY];
  delete (globalThis as Slot)[EARLY];
  return early?.dir === dir ? early.ahead : undefined;
}

/**
 * The data directory the server that `args` start will use, when `args` (`--data-dir D` or
 * `--data-dir=D`, once) or else `env` (DPNS_DATA_DIR) name it; made absolute. Undefined when
 * neither does, `args` name it in a way this does not follow, or start a subcommand.
 */
export function namedDataDir(args: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  // A subcommand (`key`) loads no snapshot: only the server itself, which takes flags alone, does.
  if (args[0] !== undefined && !args[0].startsWith('-')) return undefined;
  const named: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k] as string;
    if (a === '--') break;
    if (a === '--data-dir') {
      const next = args[k + 1];
      if (next === undefined || next.startsWith('-')) return undefined;
      named.push(next);
      k++;
    } else if (a.startsWith('--data-dir=')) named.push(a.slice('--data-dir='.length));
    else if (a.startsWith('--dataDir') || a.startsWith('--data_dir')) return undefined;
  }
  if (named.length > 1) return undefined;
  const dir = named[0] ?? env.DPNS_DATA_DIR;
  // Absolute, as the program's setting makes it.
  return dir === undefined || dir.trim() === '' ? undefined : resolve(dir);
}
