// Replacing a file so that a crash or power loss leaves the old content or the new, never a torn
// mix: write a temporary file beside it, fsync it, rename it over the old one, fsync the directory.
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from './fsync-dir.js';

export interface ReplaceOptions {
  /** The new file's mode (default 0600). */
  mode?: number;
  /**
   * The temporary file's path, for callers that sweep up their own leftovers by name (snapshots);
   * by default a fresh name beside `path`, so two writers never share one.
   */
  temp?: string;
}

/**
 * Atomically replaces `path` with what `write` puts into the open temporary file (a string is
 * written as UTF-8). The temporary file is removed when anything fails.
 */
export async function replaceFileDurably(path: string, write: string | ((fh: FileHandle) => Promise<void>), opts: ReplaceOptions = {}): Promise<void> {
  const dir = dirname(path);
  const temp = opts.temp ?? join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // A leftover of a crashed earlier write under a fixed name is not ours to keep.
    if (opts.temp !== undefined) await rm(temp, { force: true });
    const fh = await open(temp, 'wx', opts.mode ?? 0o600);
    try {
      if (typeof write === 'string') await fh.writeFile(write, 'utf8');
      else await write(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dir);
}
