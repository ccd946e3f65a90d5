// Snapshot files by name: `snap-<index>.json`, the temp file one is written as, and listing them.
// A file of its own, importing only Node's modules: the name server's bin starts reading the newest
// snapshot with it before the program is loaded (early-read.ts).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const SNAPSHOT_NAME_RE = /^snap-(\d{16})\.json$/;
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
  return snapshotsAmong(dir, await readdir(dir));
}

/** The snapshot files among `names`, the names of the files in `dir`, oldest first. */
function snapshotsAmong(dir: string, names: readonly string[]): SnapshotFile[] {
  const found: SnapshotFile[] = [];
  for (const name of names) {
    const m = SNAPSHOT_NAME_RE.exec(name);
    if (m?.[1] !== undefined) found.push({ index: Number(m[1]), path: join(dir, name) });
  }
  return found.sort((a, b) => a.index - b.index);
}

/** The path of the newest snapshot file among `names` (a listing of `dir`), if any. */
export function newestSnapshot(dir: string, names: readonly string[]): string | undefined {
  return snapshotsAmong(dir, names).at(-1)?.path;
}
