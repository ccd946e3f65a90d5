// Reading the data directory's files whole at recovery, and reading them ahead of need: the
// newest snapshot from the moment the command starts (early-read.ts) or while the program loads,
// each WAL segment while the one before is scanned.
import { close, closeSync, fstatSync, openSync, read, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

/** A file's bytes and which file they were read from (device, inode, size, modification time). */
interface WholeFile {
  bytes: Buffer;
  identity: string;
}

/**
 * A file of at least twice this many bytes is read in as many parts as READ_PARTS, side by side
 * on the thread pool: reading a million names' ~150 MB snapshot into new memory is mostly the
 * kernel's work of giving the process its pages (~2.5 ms a MiB on the benchmark VM), which one
 * thread does at a time: ~340 ms in one part, ~185 ms in two.
 */
export const PART_BYTES = 8 * 1024 * 1024;
const READ_PARTS = 2;

/**
 * A file's bytes, as many as its size was when opened, read with as few calls as that allows
 * (fs.readFile reads 512 KiB a call: ~20 % slower for a million names' 150 MB snapshot).
 */
export async function readWholeFile(path: string, shared = false): Promise<Buffer> {
  return (await readIdentified(path, shared)).bytes;
}

/**
 * `shared`: a file read in parts goes into a SharedArrayBuffer, so another thread can read it
 * where it is (body-aside.ts). The file is opened and its reads are handed to the thread pool
 * before this returns, so they go on while the main thread is busy: the bin starts reading the
 * newest snapshot before the program is compiled (early-read.ts), and until the program has
 * run, no callback of an open or a stat would be called to go on with it.
 */
function readIdentified(path: string, shared: boolean): Promise<WholeFile> {
  let fd: number;
  let st: Stats;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return Promise.reject(e as Error);
  }
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    return Promise.reject(e as Error);
  }
  const { size } = st;
  const parts = size >= 2 * PART_BYTES ? READ_PARTS : 1;
  const buf = shared && parts > 1 ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafeSlow(size);
  const step = Math.ceil(size / parts);
  const reads = Promise.all(Array.from({ length: parts }, (_, p) => readRange(fd, buf, p * step, Math.min(size, (p + 1) * step))));
  return reads.then((ends) => {
    // A part that ended early (the file was cut while being read) ends the bytes read.
    let length = size;
    for (let p = 0; p < parts; p++) {
      if (ends[p] !== Math.min(size, (p + 1) * step)) {
        length = ends[p] as number;
        break;
      }
    }
    return { bytes: length === size ? buf : buf.subarray(0, length), identity: identityOf(st) };
  }).finally(() => closeFd(fd));
}

/**
 * Reads bytes [from, to) of the file into the same place of `buf`; where the reading stopped
 * (before `to` at the end of the file). The first read is asked for before this returns.
 */
async function readRange(fd: number, buf: Buffer, from: number, to: number): Promise<number> {
  let at = from;
  while (at < to) {
    const bytesRead = await readAt(fd, buf, at, to - at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at;
}

function readAt(fd: number, buf: Buffer, at: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, at, length, at, (err, bytesRead) => (err === null ? resolve(bytesRead) : reject(err)));
  });
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => {
    close(fd, () => resolve());
  });
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
  private readonly started = new Map<string, { read: Promise<WholeFile>; shared: boolean }>();
  /** Taken already: a late start (one whose listing came after) would read what nobody takes. */
  private readonly taken = new Set<string>();

  /** `shared`: as readWholeFile's. */
  start(path: string, shared = false): void {
    if (this.started.has(path) || this.taken.has(path)) return;
    const read = readIdentified(path, shared);
    read.catch(() => undefined);
    this.started.set(path, { read, shared });
  }

  async take(path: string): Promise<Buffer> {
    const { read, shared } = this.started.get(path) ?? { read: undefined, shared: false };
    this.started.delete(path);
    this.taken.add(path);
    if (read !== undefined) {
      try {
        const [early, now] = await Promise.all([read, stat(path)]);
        if (early.identity === identityOf(now)) return early.bytes;
      } catch {
        // Read again below: the error that counts is that of a read made now.
      }
    }
    return readWholeFile(path, shared);
  }
}
