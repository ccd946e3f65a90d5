// A process's memory as the kernel counts it: /proc/PID/status (Linux only).
import { readFileSync } from 'node:fs';

export interface Memory {
  /** Resident set size now, in MiB. */
  rssMB: number;
  /** Peak resident set size since the process started (VmHWM), in MiB. */
  peakMB: number;
}

/** Reads VmRSS and VmHWM of `pid`; NaN when /proc is not there. */
export function readMemory(pid: number): Memory {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rssMB: NaN, peakMB: NaN };
  }
  return { rssMB: field(status, 'VmRSS'), peakMB: field(status, 'VmHWM') };
}

function field(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m?.[1] === undefined ? NaN : Number(m[1]) / 1024;
}
