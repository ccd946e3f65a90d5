// Snapshot files by name: `snap-<index>.json`, the temp file one is written as, listing and removal.
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '@dpns/node-kit';

const NAME_RE = /^snap-(\d{16})\.json$/;
/** A snapshot being written; removed at the next snapshot, never read. */
export const TEMP_SUFFIX = '.tmp';

/** `snap-<index, 16 digits>.json` */
export function snapshotName(index: number): string {
  return `snap-${String(index).padStart(16, '0')}.json`;
}

/** A snapshot file found on disk. */
export interface SnapshotFile {
  index: number;
  path: string;
}

/** The snapshot files in `dir`, oldest first. */
export async function listSnapshots(dir: string): Promise<SnapshotFile[]> {
  const found: SnapshotFile[] = [];
  for (const name of await readdir(dir)) {
    const m = NAME_RE.exec(name);
    if (m?.[1] !== undefined) found.push({ index: Number(m[1]), path: join(dir, name) });
  }
  return found.sort((a, b) => a.index - b.index);
}

/** Removes every snapshot file (and leftover temp file) whose index is not in `keep`. */
export async function removeSnapshotsExcept(dir: string, keep: ReadonlySet<number>): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const m = NAME_RE.exec(name.endsWith(TEMP_SUFFIX) ? name.slice(0, -TEMP_SUFFIX.length) : name);
    if (m?.[1] === undefined) continue;
    if (!name.endsWith(TEMP_SUFFIX) && keep.has(Number(m[1]))) continue;
    await unlink(join(dir, name));
    removed.push(name);
  }
  if (removed.length > 0) await fsyncDir(dir);
  return removed;
}
