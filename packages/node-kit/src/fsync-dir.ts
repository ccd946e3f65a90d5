// fsync of a directory, so that a file created, renamed or removed in it survives a power loss.
import { open } from 'node:fs/promises';
import { closeSync, fsyncSync, openSync } from 'node:fs';

/** Makes the directory's entries durable; a file's own fsync does not cover its name. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The same, blocking: for the rare small write on a critical path, where two thread-pool hops cost more than the fsync. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
