// A backup taking the primary's snapshot has no client to answer and no vote the writes wait for
// (the other members make the majority), but its work is the heaviest in the cluster: a million
// names are 134 MB to receive, check, store and load, ~1.5 s of a CPU. On a host it shares with
// the other members (the benchmark's 2-core VM runs three), every write then waits for a CPU at
// each of its steps on the primary and on the backup that acknowledges it: the writer's p99 went
// from ~17 ms to 35–39 ms during a catch-up. So from the snapshot's first chunk until this backup
// has caught up (cluster-node.ts), its threads run only on CPU time no one else wants: Linux's
// SCHED_IDLE policy, under which a thread that wakes for a write takes the CPU at once. A lower
// nice value (+10), which this did first, still let the catch-up hold a CPU for its time slice
// after a write's thread woke (DAMON reclaim off, a scratch probe of five to eleven catch-ups
// each: the writer's p99 17–39 ms niced, median 29; 12–36 ms idle, median 20; docs/BENCHMARKS.md,
// session 31). The policy is set by util-linux's `chrt` (Node has no call for it); where there is
// none, or it fails, the threads run at nice +10 instead.
//
// Idle time is what other work leaves. On a host whose CPUs are kept busy the backup would wait
// for it without end, and a cluster short of a backup is the worse trade: so the catch-up goes
// back to full priority once its main thread has spent half of a check's interval waiting for a
// CPU, or after CATCH_UP_LOWERED_MAX_MS lowered in all.
//
// Only when the priority can be given back: leaving SCHED_IDLE, like lowering a nice value again,
// needs CAP_SYS_NICE or a RLIMIT_NICE that allows the thread's nice value (the systemd unit sets
// LimitNICE=+0). A server that could not would stay slow for good, so it does not lower it at all.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Logger } from '../log.js';

/** How much lower than its own the catching-up server's threads run, where they cannot idle. */
export const CATCH_UP_NICE = 10;
/**
 * The longest a catch-up runs lowered, over all its attempts (a link that closes and a snapshot
 * sent again) until it has caught up once (a million names take ~6 s on the benchmark's VM).
 */
export const CATCH_UP_LOWERED_MAX_MS = 60_000;
/** How often a lowered catch-up checks whether it gets a CPU at all. */
export const CATCH_UP_CHECK_MS = 500;
/** The share of a check's interval the main thread may wait for a CPU before the catch-up takes full priority. */
const STARVED_SHARE = 0.5;

/** Threads under SCHED_IDLE, and the way back. */
export interface IdleThreads {
  /** Every thread back under SCHED_OTHER; resolves with whether that worked. */
  end(): Promise<boolean>;
}

/** What this needs of the system: Linux gives each thread its own policy and nice value. */
export interface Priorities {
  /** Puts every thread of this process under SCHED_IDLE; undefined when it could not (nothing is left changed). */
  idle(): IdleThreads | undefined;
  /** This process's threads (their ids), or none where that cannot be known. */
  threads(): number[];
  /** The calling thread's nice value. */
  own(): number;
  set(tid: number, nice: number): void;
  /** Whether this process may set a nice value as low as `nice` again once it has raised it. */
  mayLowerTo(nice: number): boolean;
  /** How long the calling thread has waited for a CPU since it started (ms), where that is known. */
  waitedMs(): number | undefined;
}

/** How the threads were lowered, and what gives their priority back. */
type Lowered = { how: 'idle'; nice: number; back: IdleThreads } | { how: 'nice'; nice: number };

export interface CatchUpOptions {
  /** How much lower the threads run where they cannot idle; 0 turns the lowering off. */
  by?: number;
  sys?: Priorities;
  maxMs?: number;
  checkMs?: number;
  now?: () => number;
}

export class CatchUpPriority {
  /** Undefined while not lowered. */
  private from: Lowered | undefined;
  private saidWhyNot = false;
  private timer: NodeJS.Timeout | undefined;
  /** When the current lowering began, and the last check's time and wait (ms). */
  private since = 0;
  private checkedAt = 0;
  private waitedAt: number | undefined;
  /** The way back while it runs: a lowering meanwhile could be undone by it, so there is none. */
  private ending: Promise<boolean> | undefined;
  /** Time spent lowered since this server last caught up; maxMs once it gave up. */
  private spentMs = 0;
  private readonly by: number;
  private readonly sys: Priorities;
  private readonly maxMs: number;
  private readonly checkMs: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    o: CatchUpOptions = {},
  ) {
    this.by = o.by ?? CATCH_UP_NICE;
    this.sys = o.sys ?? linuxPriorities;
    this.maxMs = o.maxMs ?? CATCH_UP_LOWERED_MAX_MS;
    this.checkMs = o.checkMs ?? CATCH_UP_CHECK_MS;
    this.now = o.now ?? (() => performance.now());
  }

  get lowered(): boolean {
    return this.from !== undefined;
  }

  /**
   * A snapshot is coming: every thread of this server runs under SCHED_IDLE, or else `by` lower,
   * if it can be given back.
   */
  lower(): void {
    if (this.from !== undefined || this.ending !== undefined || this.by <= 0 || this.spentMs >= this.maxMs) return;
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
    const back = this.sys.idle();
    if (back !== undefined) {
      this.from = { how: 'idle', nice: from, back };
      this.log.info('lowered this server\'s CPU priority while it takes the primary\'s snapshot', { policy: 'idle', threads: this.sys.threads().length });
    } else {
      // Without chrt: a lower nice value.
      if (from + this.by > 19) return;
      this.from = { how: 'nice', nice: from };
      const n = this.setAll(from + this.by);
      this.log.info('lowered this server\'s CPU priority while it takes the primary\'s snapshot', { nice: from + this.by, threads: n });
    }
    this.since = this.checkedAt = this.now();
    this.waitedAt = this.sys.waitedMs();
    this.timer = setInterval(() => this.check(), this.checkMs);
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
    clearInterval(this.timer);
    this.timer = undefined;
    if (!caughtUp) this.spentMs += this.now() - this.since;
    if (from.how === 'idle') {
      const ending = from.back.end();
      this.ending = ending;
      void ending.then((ok) => {
        if (this.ending === ending) this.ending = undefined;
        if (ok) this.log.info('restored this server\'s CPU priority', { policy: 'other', nice: from.nice, threads: this.sys.threads().length });
        else this.log.warn('could not restore this server\'s CPU priority: its threads still run only on idle CPU time; restart it', { nice: from.nice });
      });
      return;
    }
    const n = this.setAll(from.nice);
    this.log.info('restored this server\'s CPU priority', { nice: from.nice, threads: n });
  }

  /** Gives up lowering until this server has caught up, when it has been lowered too long or gets too little CPU. */
  private check(): void {
    const now = this.now();
    const waited = this.sys.waitedMs();
    const interval = now - this.checkedAt;
    const starved = waited !== undefined && this.waitedAt !== undefined && interval > 0 && waited - this.waitedAt >= STARVED_SHARE * interval;
    const tooLong = this.spentMs + (now - this.since) >= this.maxMs;
    if (starved || tooLong) {
      const waitedMs = waited === undefined || this.waitedAt === undefined ? undefined : Math.round(waited - this.waitedAt);
      this.restore();
      this.spentMs = this.maxMs;
      this.log.warn(starved
        ? 'this host leaves the catch-up too little idle CPU time: the rest at full priority'
        : 'still catching up after the longest it may run at a lower CPU priority: the rest at full priority', { waitedMs, intervalMs: Math.round(interval) });
      return;
    }
    this.checkedAt = now;
    this.waitedAt = waited;
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

/** Where util-linux installs chrt, and the shell that runs it to give the priority back. */
const CHRT = ['/usr/bin/chrt', '/bin/chrt'];
const SH = '/bin/sh';

/** CAP_SYS_NICE's bit in the capability sets of /proc/PID/status. */
const CAP_SYS_NICE = 23n;

export const linuxPriorities: Priorities = {
  idle() {
    const chrt = CHRT.find((p) => existsSync(p));
    if (chrt === undefined || !existsSync(SH)) return undefined;
    const pid = String(process.pid);
    // chrt sets every thread of the process (--all-tasks) and stops at the first it cannot, such as
    // one that ended meanwhile: a second try. It is found at a fixed path, not on PATH. Every
    // thread, not the main thread alone, whose collector and I/O threads would run at full
    // priority (the main thread alone, in three catch-ups of the probe above: p99 25–49 ms,
    // against 20–36 ms with every thread in the runs between them).
    const all = (policy: string): string => `${chrt} ${policy} --all-tasks --pid 0 ${pid}`;
    // The way back is started first, at full priority, and waits for a line: started from a
    // thread under SCHED_IDLE it would itself run only on idle time, and give the priority back
    // late on the busy host that needs it most. Its stdin closes if this process dies.
    const back = spawn(SH, ['-c', `read line && { ${all('--other')} || ${all('--other')}; }`], { stdio: ['pipe', 'ignore', 'ignore'] });
    back.unref();
    (back.stdin as { unref?: () => void } | null)?.unref?.();
    const exited = new Promise<boolean>((resolve) => {
      back.once('exit', (code) => resolve(code === 0));
      back.once('error', () => resolve(false));
    });
    const end = (): Promise<boolean> => {
      back.stdin?.end('\n');
      return exited;
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = spawnSync(chrt, ['--idle', '--all-tasks', '--pid', '0', pid], { stdio: 'ignore', timeout: 5000 });
      if (r.status === 0) return { end };
    }
    // Some threads may be idle: all go back.
    void end();
    return undefined;
  },
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
  waitedMs() {
    // schedstat: time on a CPU, time waiting on a run queue (ns), slices.
    try {
      const waited = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]);
      return Number.isFinite(waited) ? waited / 1e6 : undefined;
    } catch {
      return undefined;
    }
  },
};
