// Runs a compiled fixture program (e2e/src/harness/fixtures) as a tracked child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { killChild, trackChild, type ExitInfo } from './children.js';
import { LineLog } from './lines.js';
import { FIXTURES_DIR } from './paths.js';

export interface FixtureProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly stdout: LineLog;
  readonly stderr: LineLog;
  readonly exited: Promise<ExitInfo>;
  /** Sends `signal` (default SIGKILL) and resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
}

/** Starts `node e2e/dist/harness/fixtures/<name>.js ...args`. */
export function spawnFixture(name: string, args: string[], env: Record<string, string> = {}): FixtureProcess {
  const proc = spawn(process.execPath, [join(FIXTURES_DIR, `${name}.js`), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = trackChild(proc);
  return {
    proc,
    pid: proc.pid ?? -1,
    stdout: new LineLog(proc.stdout, `${name} stdout`),
    stderr: new LineLog(proc.stderr, `${name} stderr`),
    exited,
    kill: (signal = 'SIGKILL') => killChild(proc, signal),
  };
}
