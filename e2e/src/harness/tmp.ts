// Temporary directories that disappear when the test process ends, pass or fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
let hooked = false;

/** Creates a fresh empty directory under the OS temp dir; removed by `removeTempDirs` or at exit. */
export function makeTempDir(prefix = 'dpns-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  if (!hooked) {
    hooked = true;
    // A test that throws before its `after` hook still exits; this is the last chance to clean up.
    process.on('exit', () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Removes one directory made by `makeTempDir` (or all of them when `dir` is omitted). */
export async function removeTempDirs(dir?: string): Promise<void> {
  const list = dir === undefined ? [...dirs] : [dir];
  for (const d of list) {
    dirs.delete(d);
    await rm(d, { recursive: true, force: true });
  }
}
