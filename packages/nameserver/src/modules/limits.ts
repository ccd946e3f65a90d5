// What a module may use: memory, time, restarts, answer and store sizes, and as whom it runs. The
// limits an operator sets carry their settings' names (settings.ts takes its defaults from here);
// the defaults suit modules like the shipped `dir` and `lb`.

export interface ModuleLimits {
  /** A call not answered within this is MODULE_TIMEOUT, and the child process is stopped and restarted. */
  moduleTimeoutMs: number;
  /** Import, registry snapshot and init(ctx) together; past it the load is refused. */
  moduleLoadTimeoutMs: number;
  /** The child process's V8 heap for long-lived objects (the registry copy lives here). */
  moduleMemoryMb: number;
  maxYoungGenerationMb: number;
  /** Failures in a row after which a module stays `failed` instead of restarting again. */
  moduleMaxRestarts: number;
  /** The first restart's delay; each failure in a row doubles it, up to 30 s. */
  restartBackoffMs: number;
  /** A child up this long without failing has its count of failures in a row cleared. */
  stableMs: number;
  /** Largest JSON answer a module call may give. */
  maxResultBytes: number;
  /** Largest store file a module may keep. */
  maxStoreBytes: number;
  /** Queries to the name server a module may have in flight. */
  maxQueriesInFlight: number;
  /**
   * Niceness of the child process: the name server's own thread keeps the CPU when a
   * module spins. 0 leaves it as it is.
   */
  moduleNice: number;
  /**
   * When the name server runs as root, its module children run as this user (a name in
   * /etc/passwd, or "UID:GID"); '' keeps root (not advised: see docs/MODULES.md).
   */
  user: string;
}

export const DEFAULT_MODULE_LIMITS: ModuleLimits = {
  moduleTimeoutMs: 1000,
  moduleLoadTimeoutMs: 5000,
  moduleMemoryMb: 128,
  maxYoungGenerationMb: 16,
  moduleMaxRestarts: 5,
  restartBackoffMs: 200,
  stableMs: 30_000,
  maxResultBytes: 1024 * 1024,
  maxStoreBytes: 16 * 1024 * 1024,
  maxQueriesInFlight: 16,
  moduleNice: 10,
  user: 'nobody',
};

/** The delay before restart number `crashes` in a row (1 is the first). */
export function restartDelay(limits: ModuleLimits, crashes: number): number {
  return Math.min(30_000, limits.restartBackoffMs * 2 ** Math.max(0, crashes - 1));
}
