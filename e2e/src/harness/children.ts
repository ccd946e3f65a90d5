// Every child process a test starts is tracked here, so none outlives the test run:
// `killChildren()` in an after-hook, and a SIGKILL sweep at exit for the ones a crash left.
import type { ChildProcess } from 'node:child_process';

/** How a child process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Tracked {
  proc: ChildProcess;
  exited: Promise<ExitInfo>;
}

const live = new Map<number, Tracked>();
let hooked = false;

/** Registers a freshly spawned child; returns a promise of its exit that never rejects. */
export function trackChild(proc: ChildProcess): Promise<ExitInfo> {
  const exited = new Promise<ExitInfo>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve({ code: proc.exitCode, signal: proc.signalCode });
      return;
    }
    // 'close' waits for stdio to drain, so output read after exit is complete.
    proc.once('close', (code, signal) => resolve({ code, signal }));
    // A spawn failure (ENOENT) emits 'error' and then maybe no 'close'.
    proc.once('error', () => resolve({ code: proc.exitCode, signal: proc.signalCode }));
  });
  const pid = proc.pid;
  if (pid !== undefined) {
    live.set(pid, { proc, exited });
    void exited.then(() => live.delete(pid));
  }
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const t of live.values()) t.proc.kill('SIGKILL');
    });
  }
  return exited;
}

/** Sends `signal` and resolves once the child has exited (SIGKILL after `graceMs` if it lingers). */
export async function killChild(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitInfo> {
  const tracked = proc.pid === undefined ? undefined : live.get(proc.pid);
  const exited = tracked?.exited ?? trackChild(proc);
  if (proc.exitCode !== null || proc.signalCode !== null) return exited;
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every tracked child that is still running; for after-hooks. */
export async function killChildren(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  await Promise.all([...live.values()].map((t) => killChild(t.proc, signal)));
}

/**
 * Ends the process groups of services an agent launched. They are detached from the agent on
 * purpose (they outlive it), so the harness does not know them: a test notes each pid it sees and
 * ends the groups still there at its end.
 */
export function killLaunchedGroups(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
