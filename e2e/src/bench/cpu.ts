// CPU time of the server process (from /proc) and of this generator, so a table can say
// which side of the socket was the bottleneck: on a small machine it is often the generator.
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/PID/stat; 100 on every Linux this runs on. */
const TICKS = 100;

/** CPU seconds (user + system) used so far by `pid`, or NaN without /proc. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return NaN;
  }
}

/** CPU seconds used so far by this process (all threads). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Starts a measurement; `stop()` gives each side's CPU use as a percentage of one core. */
export function cpuMeter(serverPid: number | undefined): { stop(): { serverPct: number; clientPct: number } } {
  const t0 = performance.now();
  const s0 = serverPid === undefined ? NaN : processCpuSeconds(serverPid);
  const c0 = selfCpuSeconds();
  return {
    stop() {
      const secs = (performance.now() - t0) / 1000;
      const s1 = serverPid === undefined ? NaN : processCpuSeconds(serverPid);
      return { serverPct: ((s1 - s0) / secs) * 100, clientPct: ((selfCpuSeconds() - c0) / secs) * 100 };
    },
  };
}
