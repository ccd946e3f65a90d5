// Reading the data directory's files whole at recovery, and reading them ahead of need: the
// newest snapshot while the program's modules load, each WAL segment while the one before is
// scanned.
import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** A file's bytes and which file they were read from (device, inode, size, modification time). */
interface WholeFile {
  bytes: Buffer;
  identity: string;
}

/**
 * A file's bytes, as many as its size was when opened, read with as few calls as that allows
 * (fs.readFile reads 512 KiB a call: ~20 % slower for a million names' 150 MB snapshot).
 */
export async function readWholeFile(path: string): Promise<Buffer> {
  return (await readIdentified(path)).bytes;
}

async function readIdentified(path: string): Promise<WholeFile> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const { size } = st;
    const buf = Buffer.allocUnsafeSlow(size);
    let length = 0;
    while (length < size) {
      const { bytesRead } = await fh.read(buf, length, size - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { bytes: length === size ? buf : buf.subarray(0, length), identity: identityOf(st) };
  } finally {
    await fh.close();
  }
}

function identityOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/**
 * Files read ahead of being needed: a read started with `start` runs on the thread pool while
 * the caller does other work, and `take` hands it over. What `take` hands over is always the file
 * at the path as it is then: a read started earlier (before the data directory's lock was
 * taken, even) is used only if the same file is still there unchanged, and one that failed is
 * tried again. A read started and never taken is dropped, its failure with it.
 */
export class FilesAhead {
  private readonly started = new Map<string, Promise<WholeFile>>();

  start(path: string): void {
    if (this.started.has(path)) return;
    const read = readIdentified(path);
    read.catch(() => undefined);
    this.started.set(path, read);
  }

  async take(path: string): Promise<Buffer> {
    const read = this.started.get(path);
    this.started.delete(path);
    if (read !== undefined) {
      try {
        const [early, now] = await Promise.all([read, stat(path)]);
        if (early.identity === identityOf(now)) return early.bytes;
      } catch {
        // Read again below: the error that counts is that of a read made now.
      }
    }
    return readWholeFile(path);
  }
}
