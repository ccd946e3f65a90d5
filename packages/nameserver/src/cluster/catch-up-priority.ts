// A backup taking the primary's snapshot has no client to answer and no vote the writes wait for
// (the other members make the majority), but its work is the heaviest in the cluster: a million
// names are 134 MB to receive, check, store and load, ~1.5 s of a CPU. On a host it shares with
// the other members (the benchmark's 2-core VM runs three), every write then waits for a CPU at
// each of its steps on the primary and on the backup that acknowledges it: the writer's p99 went
// from ~17 ms to 35–39 ms during a catch-up. So from the snapshot's first chunk until this backup
// has caught up (cluster-node.ts), its threads run only on CPU time no one else wants: Linux's
// SCHED_IDLE policy, under which a thread that wakes for a write takes the CPU at once. A lower
// nice value (+10), which this did first, still let the catch-up hold a CPU for its time slice
// after a write's thread woke (DAMON reclaim off, a scratch probe of five to eight catch-ups each:
// the writer's p99 17–39 ms niced, median 29; 12–28 ms idle, median 19; docs/BENCHMARKS.md, session 31). The policy is set by util-linux's `chrt` (Node has no
// call for it); where there is none, or it fails, the threads run at nice +10 instead.
//
// Only when the priority can be given back: leaving SCHED_IDLE, like lowering a nice value again,
// needs CAP_SYS_NICE or a RLIMIT_NICE that allows the thread's nice value (the systemd unit sets
// LimitNICE=+0). A server that could not would stay slow for good, so it does not lower it at all.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Logger } from '../log.js';

/** How much lower than its own the catching-up server's threads run, where they cannot idle. */
export const CATCH_UP_NICE = 10;
/**
 * The longest a catch-up runs lowered, over all its attempts (a link that closes and a snapshot
 * sent again) until it has caught up once. Idle time is what other work leaves: on a host whose
 * CPUs are kept busy a backup would wait for it without end (a million names take ~6 s on the
 * benchmark's busy 2-core VM), and a cluster short of a backup is the worse trade.
 */
export const CATCH_UP_LOWERED_MAX_MS = 60_000;

/** What this needs of the system: Linux gives each thread its own policy and nice value. */
export interface Priorities {
  /**
   * Puts every thread of this process under SCHED_IDLE (`idle`) or back under SCHED_OTHER;
   * false when it could not (then nothing was changed, or the change is to be undone).
   */
  policy(idle: boolean): boolean;
  /** This process's threads (their ids), or none where that cannot be known. */
  threads(): number[];
  /** The calling thread's nice value. */
  own(): number;
  set(tid: number, nice: number): void;
  /** Whether this process may set a nice value as low as `nice` again once it has raised it. */
  mayLowerTo(nice: number): boolean;
}

/** How the threads were lowered, and the nice value to give back. */
interface Lowered {
  how: 'idle' | 'nice';
  nice: number;
}

export class CatchUpPriority {
  /** Undefined while not lowered. */
  private from: Lowered | undefined;
  private saidWhyNot = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the current lowering began (performance.now()). */
  private since = 0;
  /** Time spent lowered since this server last caught up. */
  private spentMs = 0;

  constructor(
    private readonly log: Logger,
    private readonly by = CATCH_UP_NICE,
    private readonly sys: Priorities = linuxPriorities,
    private readonly maxMs = CATCH_UP_LOWERED_MAX_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get lowered(): boolean {
    return this.from !== undefined;
  }

  /**
   * A snapshot is coming: every thread of this server runs under SCHED_IDLE, or else `by` lower,
   * if it can be given back.
   */
  lower(): void {
    if (this.from !== undefined || this.by <= 0 || this.spentMs >= this.maxMs) return;
    let from: number;
    try {
      from = this.sys.own();
    } catch {
      return;
    }
    if (!this.sys.mayLowerTo(from)) {
      if (!this.saidWhyNot) this.log.info('taking the primary\'s snapshot at full CPU priority: this server could not raise it again afterwards (give the unit LimitNICE=+0, or CAP_SYS_NICE)', { nice: from });
      this.saidWhyNot = true;
      return;
    }
    if (this.sys.policy(true)) {
      this.from = { how: 'idle', nice: from };
      this.log.info('lowered this server\'s CPU priority while it takes the primary\'s snapshot', { policy: 'idle', threads: this.sys.threads().length });
    } else {
      // Without chrt (or where it failed part way: a thread that ended as it went): a lower nice value.
      this.sys.policy(false);
      if (from + this.by > 19) return;
      this.from = { how: 'nice', nice: from };
      const n = this.setAll(from + this.by);
      this.log.info('lowered this server\'s CPU priority while it takes the primary\'s snapshot', { nice: from + this.by, threads: n });
    }
    this.since = this.now();
    this.timer = setTimeout(() => {
      this.restore();
      this.spentMs = this.maxMs;
      this.log.warn('still catching up after the longest it may run at a lower CPU priority: the rest at full priority', { loweredMs: this.maxMs });
    }, this.maxMs - this.spentMs);
    this.timer.unref();
  }

  /**
   * The catch-up is over (`caughtUp`), or the snapshot failed or stopped coming: every thread runs
   * at the priority it had.
   */
  restore(caughtUp = false): void {
    if (caughtUp) this.spentMs = 0;
    const from = this.from;
    if (from === undefined) return;
    this.from = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!caughtUp) this.spentMs += this.now() - this.since;
    if (from.how === 'idle') {
      if (this.sys.policy(false)) this.log.info('restored this server\'s CPU priority', { policy: 'other', nice: from.nice, threads: this.sys.threads().length });
      else this.log.warn('could not restore this server\'s CPU priority: its threads still run only on idle CPU time; restart it', { nice: from.nice });
      return;
    }
    const n = this.setAll(from.nice);
    this.log.info('restored this server\'s CPU priority', { nice: from.nice, threads: n });
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

/** Where util-linux installs chrt. */
const CHRT = ['/usr/bin/chrt', '/bin/chrt'];

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
  policy(idle) {
    const chrt = CHRT.find((p) => existsSync(p));
    if (chrt === undefined) return false;
    // chrt sets every thread of the process (--all-tasks) and stops at the first it cannot, such as
    // one that ended meanwhile: a second try. It is found at a fixed path, not on PATH.
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = spawnSync(chrt, [idle ? '--idle' : '--other', '--all-tasks', '--pid', '0', String(process.pid)], { stdio: 'ignore', timeout: 5000 });
      if (r.status === 0) return true;
    }
    return false;
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
