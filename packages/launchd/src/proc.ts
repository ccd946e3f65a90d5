// What /proc says about a pid. A pid alone is not a process: pids are reused, so the agent
// identifies a process by its pid and its start time (field 22 of /proc/<pid>/stat, in clock
// ticks since boot), which no later process with the same pid can share.
import { readFile } from 'node:fs/promises';

export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), X (dead), T, ... */
  state: string;
  pgrp: number;
  startTime: string;
}

/** Parses the text of /proc/<pid>/stat. */
export function parseProcStat(text: string): ProcStat | undefined {
  // Field 2 is the command name in parentheses and may itself hold ") ", so split after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // What follows starts at field 3 (state): field n is at index n - 3.
  const f = text.slice(close + 1).trim().split(/\s+/);
  const state = f[0];
  const pgrp = Number(f[5 - 3]);
  const startTime = f[22 - 3];
  if (state === undefined || !Number.isInteger(pgrp) || startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  return { state, pgrp, startTime };
}

/** The stat of a live process, or undefined when there is none (or only a zombie) with this pid. */
export async function procStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const st = parseProcStat(text);
  // A zombie has exited; only its parent's wait() is missing. It cannot be signalled any further.
  if (st === undefined || st.state === 'Z' || st.state === 'X') return undefined;
  return st;
}

/** Whether the process recorded as (pid, startTime) still runs, is gone, or its pid now names another process. */
export async function processIdentity(pid: number, startTime: string): Promise<'alive' | 'gone' | 'recycled'> {
  const st = await procStat(pid);
  if (st === undefined) return 'gone';
  return st.startTime === startTime ? 'alive' : 'recycled';
}

/**
 * Resolves true once the recorded process is gone, false if it still runs after `ms`.
 * Polls /proc: a process that is not our child gives no event to wait on.
 */
export async function waitUntilGone(pid: number, startTime: string, ms: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await processIdentity(pid, startTime)) !== 'alive') return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(everyMs, Math.max(1, deadline - Date.now()))));
  }
}
