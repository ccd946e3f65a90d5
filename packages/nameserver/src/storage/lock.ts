// The data directory's LOCK file: one process at a time may own a data directory.
import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StorageError } from './errors.js';
import { fsyncDir } from '@dpns/node-kit';
import type { StoreLogger } from './types.js';

/** The LOCK file's name inside the data directory. */
export const LOCK_FILE_NAME = 'LOCK';

// The LOCK file cannot tell two stores of this process apart (same pid), so they are tracked here.
const heldHere = new Set<string>();

/** A held lock. */
export interface DirLock {
  /** Removes the LOCK file if it is still ours. Never throws. */
  release(): Promise<void>;
}

/**
 * Takes the lock on `dir` by creating `dir/LOCK` holding our pid. A LOCK left by a dead process
 * (or by an earlier process that had our pid, as after a container restart) is taken over.
 */
export async function acquireLock(dir: string, logger: StoreLogger): Promise<DirLock> {
  const key = resolve(dir);
  if (heldHere.has(key)) {
    throw new StorageError('LOCKED', `data directory ${dir} is already open in this process (pid ${process.pid})`);
  }
  heldHere.add(key);
  try {
    await createLockFile(dir, logger);
  } catch (err) {
    heldHere.delete(key);
    throw err;
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      heldHere.delete(key);
      const path = join(dir, LOCK_FILE_NAME);
      try {
        if ((await readOwner(path)) === process.pid) {
          await unlink(path);
          await fsyncDir(dir);
        }
      } catch (err) {
        logger.warn('could not remove the LOCK file', { path, error: String(err) });
      }
    },
  };
}

async function createLockFile(dir: string, logger: StoreLogger): Promise<void> {
  const path = join(dir, LOCK_FILE_NAME);
  // Two tries: the second follows removing a stale LOCK. Two processes taking over the same
  // stale LOCK at the same instant can still race; pid files cannot close that window.
  for (let attempt = 1; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(`${process.pid}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsyncDir(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
    }
    const owner = await readOwner(path);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      throw new StorageError(
        'LOCKED',
        `data directory ${dir} is in use by process ${owner} (see ${path}); stop that process first, ` +
          'or point this one at another data directory',
      );
    }
    logger.warn('taking over a stale LOCK file', { path, pid: owner ?? null, reason: owner === undefined ? 'no pid in it' : 'process is gone' });
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}

// The pid in the LOCK file, or undefined when the file is gone, empty (a crash while creating it) or garbled.
async function readOwner(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = /^\s*(\d+)\s*$/.exec(text);
  const pid = m?.[1] === undefined ? NaN : Number(m[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not yet reaped by its parent) still answers kill(0) but holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
