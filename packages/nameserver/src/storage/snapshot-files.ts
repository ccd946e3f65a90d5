// Snapshot files: their names and listing (snapshot-names.ts), and their removal.
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '@dpns/node-kit';
import { SNAPSHOT_NAME_RE, TEMP_SUFFIX } from './snapshot-names.js';

export { listSnapshots, snapshotName, TEMP_SUFFIX, type SnapshotFile } from './snapshot-names.js';

/**
 * A file being removed is cut down this much at a time first. A million names' snapshot (~350
 * MB) unlinked at once took ~90 ms on the benchmark VM (its disk trims blocks as they are freed),
 * and the log's fdatasync, which every write waits for, waited up to ~80 ms behind it; in 16 MiB
 * steps, under 9 ms. RocksDB's bytes_max_delete_chunk does the same.
 */
export const REMOVE_STEP_BYTES = 16 * 1024 * 1024;

/**
 * Removes every snapshot file (and leftover temp file) whose index is not in `keep`. A snapshot
 * is first renamed to a temp file's name (never read again, even if a crash stops its removal
 * half-way) and cut down in steps before it is unlinked.
 */
export async function removeSnapshotsExcept(dir: string, keep: ReadonlySet<number>, stepBytes = REMOVE_STEP_BYTES): Promise<string[]> {
  const removed: string[] = [];
  // A set: a leftover temp file and a snapshot renamed over it are one file.
  const doomed = new Set<string>();
  let renamed = 0;
  for (const name of await readdir(dir)) {
    const m = SNAPSHOT_NAME_RE.exec(name.endsWith(TEMP_SUFFIX) ? name.slice(0, -TEMP_SUFFIX.length) : name);
    if (m?.[1] === undefined) continue;
    if (name.endsWith(TEMP_SUFFIX)) doomed.add(name);
    else if (!keep.has(Number(m[1]))) {
      await rename(join(dir, name), join(dir, name + TEMP_SUFFIX));
      doomed.add(name + TEMP_SUFFIX);
      renamed++;
    } else continue;
    removed.push(name);
  }
  if (removed.length === 0) return removed;
  // The renames are on the disk before any file is cut short under its new name.
  if (renamed > 0) await fsyncDir(dir);
  for (const name of doomed) await removeInSteps(join(dir, name), stepBytes);
  await fsyncDir(dir);
  return removed;
}

async function removeInSteps(path: string, stepBytes: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    let { size } = await fh.stat();
    while (size > stepBytes) {
      size -= stepBytes;
      await fh.truncate(size);
    }
  } finally {
    await fh.close();
  }
  await unlink(path);
}
