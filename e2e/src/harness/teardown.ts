// One call for after-hooks: no process and no temporary directory survives a test file.
import { killChildren } from './children.js';
import { removeTempDirs } from './tmp.js';

/** Kills every child the harness started and removes every temporary directory it made. */
export async function teardown(): Promise<void> {
  await killChildren('SIGKILL');
  await removeTempDirs();
}
