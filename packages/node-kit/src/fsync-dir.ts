// fsync of a directory, so that a file created, renamed or removed in it survives a power loss.
import { open } from 'node:fs/promises';

/** Makes the directory's entries durable; a file's own fsync does not cover its name. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
