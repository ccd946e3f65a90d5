// A backup taking the primary's snapshot has no client to answer and no vote the writes wait for
// (the other members make the majority), but its work is the heaviest in the cluster: a million
// names are 134 MB to receive, check, store and load, ~1.5 s of a CPU. On a host it shares with
// the other members (the benchmark's 2-core VM runs three), every write then waits for a CPU at
// each of its steps on the primary and on the backup that acknowledges it: the writer's p99 went
// from ~17 ms to 35–39 ms during a catch-up. So from the snapshot's first chunk until this backup
// has caught up (cluster-node.ts), its threads run at a lower priority (nice +10), and the other
// members' threads, which wake for a write, take the CPU first.
//
// Only when the priority can be given back: raising a nice value needs no right, lowering it again
// needs CAP_SYS_NICE or a RLIMIT_NICE that allows it (the systemd unit sets LimitNICE=+0). A
// server that could not would stay slow for good, so it does not lower it at all.
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Logger } from '../log.js';

/** How much lower than its own the catching-up server's threads run. */
export const CATCH_UP_NICE = 10;

/** What this needs of the system: Linux gives each thread its own nice value. */
export interface Priorities {
  /** This process's threads (their ids), or none where that cannot be known. */
  threads(): number[];
  /** The calling thread's nice value. */
  own(): number;
  set(tid: number, nice: number): void;
  /** Whether this process may set a nice value as low as `nice` again once it has raised it. */
  mayLowerTo(nice: number): boolean;
}

export class CatchUpPriority {
  /** The nice value given back when the catch-up ends; undefined while not lowered. */
  private from: number | undefined;
  private saidWhyNot = false;

  constructor(
    private readonly log: Logger,
    private readonly by = CATCH_UP_NICE,
    private readonly sys: Priorities = linuxPriorities,
  ) {}

  get lowered(): boolean {
    return this.from !== undefined;
  }

  /** A snapshot is coming: every thread of this server runs `by` lower, if it can be given back. */
  lower(): void {
    if (this.from !== undefined || this.by <= 0) return;
    let from: number;
    try {
      from = this.sys.own();
    } catch {
      return;
    }
    if (from + this.by > 19 || !this.sys.mayLowerTo(from)) {
      if (!this.saidWhyNot) this.log.info('taking the primary\'s snapshot at full CPU priority: this server could not raise it again afterwards (give the unit LimitNICE=+0, or CAP_SYS_NICE)', { nice: from });
      this.saidWhyNot = true;
      return;
    }
    this.from = from;
    const n = this.setAll(from + this.by);
    this.log.info('lowered this server\'s CPU priority while it takes the primary\'s snapshot', { nice: from + this.by, threads: n });
  }

  /** The snapshot is installed, failed, or stopped coming: every thread runs at the priority it had. */
  restore(): void {
    const from = this.from;
    if (from === undefined) return;
    this.from = undefined;
    const n = this.setAll(from);
    this.log.info('restored this server\'s CPU priority', { nice: from, threads: n });
  }

  /** Threads started meanwhile took the lowered value from the one that started them: all are set. */
  private setAll(nice: number): number {
    let n = 0;
    for (const tid of this.sys.threads()) {
      try {
        this.sys.set(tid, nice);
        n++;
      } catch {
        // A thread that has ended since the list was read.
      }
    }
    return n;
  }
}

/** CAP_SYS_NICE's bit in the capability sets of /proc/PID/status. */
const CAP_SYS_NICE = 23n;

export const linuxPriorities: Priorities = {
  threads() {
    try {
      return readdirSync('/proc/self/task').map(Number).filter((t) => Number.isSafeInteger(t) && t > 0);
    } catch {
      return [];
    }
  },
  own: () => getPriority(0),
  set: (tid, nice) => setPriority(tid, nice),
  mayLowerTo(nice) {
    try {
      const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
      if (eff !== undefined && ((BigInt(`0x${eff}`) >> CAP_SYS_NICE) & 1n) === 1n) return true;
      // RLIMIT_NICE's soft limit L lets a process set nice values down to 20 − L.
      const soft = /^Max nice priority\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
      if (soft === 'unlimited') return true;
      return soft !== undefined && 20 - Number(soft) <= nice;
    } catch {
      return false;
    }
  },
};
