// Everything the benchmark starts is registered here, so it is stopped and removed however
// the run ends: normally, on an exception, or on Ctrl-C / SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { killChildren } from '../harness/index.js';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
/** Process groups of services a launch agent started for the run: not our children, so killed by group. */
const groups = new Set<number>();
const hooks = new Set<() => Promise<void>>();
let aborting = false;

/** True once a signal asked the run to stop: load loops stop sending instead of spinning on closed sockets. */
export function isAborting(): boolean {
  return aborting;
}

/** A fresh temporary directory, removed at clean-up. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dpns-bench-${prefix}-`));
  dirs.add(dir);
  return dir;
}

/** Removes a temporary directory now (a scenario's data can be large). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Registers something to undo at clean-up (a socket pool, a worker). */
export function onCleanup(fn: () => Promise<void>): () => void {
  hooks.add(fn);
  return () => hooks.delete(fn);
}

/** Registers a child process someone else spawned (the harness), so it dies with the run. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Registers the process group led by `pgid` (a launched service), so it is killed at clean-up. */
export function trackProcessGroup(pgid: number): void {
  if (Number.isInteger(pgid) && pgid > 1) groups.add(pgid);
}

/** Forgets a group whose leader is known to be gone, so a reused pid is never signalled. */
export function untrackProcessGroup(pgid: number): void {
  groups.delete(pgid);
}

/** SIGKILL to every tracked process group; ESRCH (already gone) is the expected answer. */
export function killProcessGroups(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  groups.clear();
}

export interface Spawned {
  child: ChildProcess;
  /** The first stdout line that matched, with its groups. */
  match: RegExpMatchArray;
  /** Every stdout and stderr line seen so far, for error messages. */
  output: string[];
}

/** Spawns a program and resolves once a line of its output matches `ready`. */
export function spawnUntil(cmd: string, args: string[], ready: RegExp, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Spawned> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
  trackChild(child);
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => fail(new Error(`${cmd} not ready within ${opts.timeoutMs ?? 15_000} ms`)), opts.timeoutMs ?? 15_000);
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${e.message}\n${output.slice(-20).join('\n')}`));
    };
    const onLine = (line: string): void => {
      if (output.length < 1000) output.push(line);
      const m = done ? null : ready.exec(line);
      if (m !== null) {
        done = true;
        clearTimeout(timer);
        resolve({ child, match: m, output });
      }
    };
    // Both streams are read to the end, so a chatty child never blocks on a full pipe.
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`${cmd} exited (${signal ?? code}) before it was ready`)));
  });
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops everything still registered. Safe to call twice. */
export async function cleanupAll(): Promise<void> {
  const pending = [...hooks];
  hooks.clear();
  await Promise.allSettled(pending.map((fn) => fn()));
  killProcessGroups();
  await Promise.allSettled([...children].map((c) => stopChild(c)));
  // A server the e2e harness was still starting when Ctrl-C came is known only to the harness; its
  // exit hook would remove the data directory while the server still writes to it, then kill it.
  await killChildren('SIGTERM');
  for (const d of [...dirs]) removeDir(d);
}

/** Last resort at process exit: nothing async is possible any more, so kill and remove. */
function cleanupSync(): void {
  killProcessGroups();
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Makes Ctrl-C and SIGTERM clean up before exiting. Call once from main. */
export function installSignalHandlers(): void {
  process.once('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      aborting = true;
      process.stderr.write(`\n${sig}: stopping servers and removing temporary data\n`);
      const force = setTimeout(() => process.exit(130), 5_000);
      force.unref();
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
