// Watches: grouped by pattern, so a change is matched once per distinct pattern and not
// once per watcher; its JSON is built once per change, and each connection gets one frame
// per change that lists its matching watches. A frame is that list (kept ready per connection
// and pattern) followed by the change's bytes, shared by every frame of the change: with
// 1,000 watching connections a change used to build 1,000 strings of the whole event, ~2.6 KB
// of garbage a frame with what sending them cost, and the young generation was collected every
// ~80 ms (~4 ms a time on the benchmark VM).
//
// A change finds its groups through indexes where it can: a name pattern by a map lookup, a
// `prefix*` pattern by looking up each prefix of the changed name. Only the other patterns
// are tried one by one, so those are what a client could multiply to make every write slow:
// they are capped per connection and in total.
import { DpnsError, compileGlob, publicEntry, type Glob } from '@dpns/protocol';
import { FanoutQueue } from './fanout-queue.js';
import type { Change } from './registry/ops.js';

/** Where a watch's events go: the connection that opened it. */
export interface WatchSink {
  /**
   * Sends one JSON text frame: `head` followed by the UTF-8 bytes of `tail`, which the frames of
   * one change to every connection share (so it must not be changed).
   */
  sendJoined(head: string, tail: Uint8Array): void;
  /** Lets the sink batch the frames of one change into as few writes as it can. */
  cork(): void;
  uncork(): void;
  /** The peer's source address, when watches are counted per address. */
  readonly address?: string;
  /**
   * The hub now holds `delta` more bytes of this sink's events (negative: handed to sendRaw, or
   * dropped). The sink counts them with its output queue, so its limits cover events it has not
   * been sent yet, and it may end itself here as a slow consumer.
   */
  held(delta: number): void;
  /** False once the sink has ended: events still queued for it are dropped, not sent. */
  readonly open: boolean;
}

/** How a group is found for a change. */
type GroupKind = 'literal' | 'prefix' | 'scanned';

interface Group {
  glob: Glob;
  kind: GroupKind;
  /** Its watches by connection, with the start of that connection's frames when known. */
  bySink: Map<WatchSink, SinkWatches>;
}

/** One connection's watches of one pattern. */
interface SinkWatches {
  /** A set, not a list: a connection with 20,000 watches that closes removes them one by one. */
  ids: Set<string>;
  /** The frame's start up to its watch ids: made at the first change after the list changed. */
  head: string | undefined;
}

/** Distinct patterns that need a match per change (not a name, not `prefix*`) one connection may watch. */
export const MAX_SCANNED_PATTERNS_PER_CONNECTION = 64;
/** The same over all connections. */
export const MAX_SCANNED_PATTERNS = 1000;
/** Watches the connections from one source address may hold together. */
export const DEFAULT_MAX_WATCHES_PER_ADDRESS = 20_000;

export interface WatchLimits {
  /** Distinct scanned patterns per sink. */
  perConnection: number;
  /** Distinct scanned patterns in all. */
  total: number;
  /** Watches of all the sinks with one address together. */
  perAddress?: number;
}

export class WatchHub {
  private readonly groups = new Map<string, Group>();
  private readonly literal = new Map<string, Group>();
  private readonly prefix = new Map<string, Group>();
  /** How many prefix groups have each prefix length: the lengths a change's name is cut at. */
  private readonly prefixLengths = new Map<number, number>();
  private readonly scanned = new Set<Group>();
  /** Scanned patterns each sink watches, with how many of its watches use each. */
  private readonly scannedBySink = new Map<WatchSink, Map<string, number>>();
  private readonly byId = new Map<string, Group>();
  private nextId = 1;
  private count = 0;
  private readonly byAddress = new Map<string, number>();
  /** Bytes of every event queued and not yet handed to a sink (nor dropped). */
  private held = 0;
  /**
   * Told the bytes held for all sinks together after a change's events are queued: the total
   * limit on output is checked as events pile up, not only by a periodic sweep.
   */
  onHeld: ((totalBytes: number) => void) | undefined;

  constructor(
    private readonly limits: WatchLimits = { perConnection: MAX_SCANNED_PATTERNS_PER_CONNECTION, total: MAX_SCANNED_PATTERNS },
    /** The longest the fan-out yields to writes in flight at a time (writeStarted). */
    private readonly yieldMs = FANOUT_YIELD_MS,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Bytes of the events queued for all sinks together, not yet handed to them. */
  get heldBytes(): number {
    return this.held;
  }

  /** Distinct patterns matched one by one on every change. */
  get scannedPatterns(): number {
    return this.scanned.size;
  }

  /** Adds a watch; LIMIT_EXCEEDED when it would add one scanned pattern too many. */
  add(pattern: string, sink: WatchSink): string {
    const limit = this.limits.perAddress ?? DEFAULT_MAX_WATCHES_PER_ADDRESS;
    if (sink.address !== undefined && (this.byAddress.get(sink.address) ?? 0) >= limit) {
      throw new DpnsError('LIMIT_EXCEEDED', `at most ${limit} watches by the connections from ${sink.address} together; unwatch some, or watch wider patterns`, {
        details: { limit, what: 'watchesPerAddress' },
      });
    }
    let g = this.groups.get(pattern);
    const glob = g?.glob ?? compileGlob(pattern);
    const kind = g?.kind ?? kindOf(glob);
    if (kind === 'scanned') this.admitScanned(pattern, sink, g === undefined);
    if (g === undefined) {
      g = { glob, kind, bySink: new Map() };
      this.groups.set(pattern, g);
      this.index(g, true);
    }
    const id = `w${this.nextId++}`;
    const mine = g.bySink.get(sink);
    if (mine === undefined) g.bySink.set(sink, { ids: new Set([id]), head: undefined });
    else {
      mine.ids.add(id);
      mine.head = undefined;
    }
    this.byId.set(id, g);
    this.count++;
    if (sink.address !== undefined) this.byAddress.set(sink.address, (this.byAddress.get(sink.address) ?? 0) + 1);
    return id;
  }

  /** Removes a watch; false when no such watch belongs to `sink`. */
  remove(id: string, sink: WatchSink): boolean {
    const g = this.byId.get(id);
    const mine = g?.bySink.get(sink);
    if (g === undefined || mine === undefined || !mine.ids.delete(id)) return false;
    mine.head = undefined;
    if (mine.ids.size === 0) g.bySink.delete(sink);
    this.byId.delete(id);
    this.count--;
    if (sink.address !== undefined) {
      const n = (this.byAddress.get(sink.address) ?? 1) - 1;
      if (n > 0) this.byAddress.set(sink.address, n);
      else this.byAddress.delete(sink.address);
    }
    if (g.kind === 'scanned') {
      const scanned = this.scannedBySink.get(sink);
      const n = (scanned?.get(g.glob.pattern) ?? 1) - 1;
      if (n > 0) scanned?.set(g.glob.pattern, n);
      else scanned?.delete(g.glob.pattern);
      if (scanned?.size === 0) this.scannedBySink.delete(sink);
    }
    if (g.bySink.size === 0) {
      this.groups.delete(g.glob.pattern);
      this.index(g, false);
    }
    return true;
  }

  private admitScanned(pattern: string, sink: WatchSink, newGroup: boolean): void {
    let mine = this.scannedBySink.get(sink);
    const have = mine?.get(pattern) ?? 0;
    if (have === 0 && (mine?.size ?? 0) >= this.limits.perConnection) {
      throw new DpnsError('LIMIT_EXCEEDED', `at most ${this.limits.perConnection} distinct wildcard patterns (other than NAME and PREFIX*) per connection; watch a wider pattern and filter, or use PREFIX* patterns, which are not limited`, {
        details: { limit: this.limits.perConnection, what: 'scannedPatternsPerConnection' },
      });
    }
    if (newGroup && this.scanned.size >= this.limits.total) {
      throw new DpnsError('LIMIT_EXCEEDED', `this server already watches ${this.limits.total} distinct wildcard patterns (other than NAME and PREFIX*); try again later, or watch a PREFIX* pattern`, {
        details: { limit: this.limits.total, what: 'scannedPatterns' },
      });
    }
    if (mine === undefined) this.scannedBySink.set(sink, (mine = new Map()));
    mine.set(pattern, have + 1);
  }

  private index(g: Group, add: boolean): void {
    if (g.kind === 'literal') {
      if (add) this.literal.set(g.glob.literalPrefix, g);
      else this.literal.delete(g.glob.literalPrefix);
    } else if (g.kind === 'prefix') {
      const key = g.glob.literalPrefix;
      const n = (this.prefixLengths.get(key.length) ?? 0) + (add ? 1 : -1);
      if (n > 0) this.prefixLengths.set(key.length, n);
      else this.prefixLengths.delete(key.length);
      if (add) this.prefix.set(key, g);
      else this.prefix.delete(key);
    } else if (add) {
      this.scanned.add(g);
    } else {
      this.scanned.delete(g);
    }
  }

  /** The groups whose pattern matches `name`. */
  private matching(name: string, out: (g: Group) => void): void {
    const lit = this.literal.get(name);
    if (lit !== undefined) out(lit);
    for (const len of this.prefixLengths.keys()) {
      if (len > name.length) continue;
      const g = this.prefix.get(name.slice(0, len));
      if (g !== undefined) out(g);
    }
    for (const g of this.scanned) if (g.glob.match(name)) out(g);
  }

  /**
   * Tells every matching watch about the changes of one revision. The frames are queued per
   * connection and sent in slices of at most FANOUT_SLICE connections, one slice per turn of the
   * event loop, so a request that arrives during a large fan-out waits for one slice, not for
   * all of it. Each connection's frames go out first in, first out, so each watcher still sees
   * changes in revision order; those that queued up for it meanwhile go out in one write.
   */
  publish(changes: readonly Change[], revision: number): void {
    if (this.count === 0 || changes.length === 0) return;
    const groups: Group[] = [];
    for (const ch of changes) {
      groups.length = 0;
      this.matching(ch.name, (g) => groups.push(g));
      if (groups.length === 0) continue;
      // One body for every watcher, admin or not, so launch specs go out redacted (register.info shows them).
      const body = JSON.stringify({ revision, type: ch.type, name: ch.name, ...(ch.entry ? { entry: publicEntry(ch.entry) } : {}) });
      const tail = Buffer.from(`${body.slice(1)}}`);
      if (groups.length === 1) {
        // The common case: each connection's list of ids for this pattern, and its frame's start, are ready.
        for (const [sink, mine] of (groups[0] as Group).bySink) this.enqueue(sink, (mine.head ??= frameHead(mine.ids)), tail);
        continue;
      }
      // One frame per connection: a connection holding watches of several matching patterns gets all their ids in one list.
      const ids = new Map<WatchSink, string[]>();
      for (const g of groups) {
        for (const [sink, mine] of g.bySink) {
          let list = ids.get(sink);
          if (list === undefined) ids.set(sink, (list = []));
          for (const id of mine.ids) list.push(id);
        }
      }
      for (const [sink, list] of ids) this.enqueue(sink, frameHead(list), tail);
    }
    this.onHeld?.(this.held);
    if (!this.draining && this.queue.length > 0) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  private enqueue(sink: WatchSink, head: string, tail: Uint8Array): void {
    if (!sink.open) return;
    this.queue.push(sink, head, tail);
    // Counted at once: a fan-out that cannot keep up with the writes (many watchers, a
    // flood of changes) would otherwise queue here without bound (GBs in seconds).
    const bytes = head.length + tail.length;
    this.held += bytes;
    sink.held(bytes);
  }

  private readonly queue = new FanoutQueue<WatchSink>();
  private draining = false;
  /** Writes between their append and their answer: the fan-out gives them the CPU (writeStarted). */
  private writesWaiting = 0;
  /** When the fan-out began to yield to them; undefined while it is not yielding. */
  private yieldingSince: number | undefined;
  private yieldTimer: NodeJS.Timeout | undefined;
  /** The fan-out may not yield again before this time (performance.now()). */
  private mayYieldAt = 0;

  /**
   * A write has been logged and waits for its disk (and its backups); call the function returned
   * once it is answered. Meanwhile the fan-out sends nothing, so the write's steps (two hops to
   * libuv's thread pool, then the answer) each find the event loop free instead of behind a slice,
   * and its thread pool finds a CPU the fan-out is not holding: with 1,000 watching connections a
   * write that came mid-fan-out waited for a CPU at each step. Bounded both ways: a yield lasts at
   * most FANOUT_YIELD_MS (4 ms), and after yielding for t the fan-out sends for at least 3t before
   * it yields again, so under writes that never stop it still has three quarters of the time.
   */
  writeStarted(): () => void {
    this.writesWaiting++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.writesWaiting === 0 && this.yieldingSince !== undefined) this.endYield();
    };
  }

  private endYield(): void {
    clearTimeout(this.yieldTimer);
    this.yieldTimer = undefined;
    const now = performance.now();
    this.mayYieldAt = now + 3 * (now - (this.yieldingSince ?? now));
    this.yieldingSince = undefined;
    // After the answer: it goes out in the promise callbacks that follow the release.
    setImmediate(() => this.drain());
  }

  private drain(): void {
    if (this.writesWaiting > 0 && this.yieldingSince === undefined && performance.now() >= this.mayYieldAt) {
      this.yieldingSince = performance.now();
      this.yieldTimer = setTimeout(() => this.endYield(), this.yieldMs);
      return;
    }
    if (this.yieldingSince !== undefined) return;
    // Frames of sinks that ended (cut as slow consumers, or closed) are dropped without counting
    // as sent, up to DROPPED_PER_SLICE of them a turn, so a cut sink's backlog goes quickly.
    let sinks = 0;
    let frames = 0;
    let dropped = 0;
    while (sinks < FANOUT_SLICE && frames < FRAMES_PER_SLICE && dropped < DROPPED_PER_SLICE) {
      const next = this.queue.first();
      if (next === undefined) break;
      const { sink, heads, tails, from } = next;
      const n = Math.max(1, Math.min(heads.length - from, sink.open ? Math.min(FRAMES_PER_WRITE, FRAMES_PER_SLICE - frames) : DROPPED_PER_SLICE - dropped));
      let bytes = 0;
      for (let i = from; i < from + n; i++) bytes += (heads[i] as string).length + (tails[i] as Uint8Array).length;
      this.held -= bytes;
      sink.held(-bytes);
      if (!sink.open) {
        dropped += n;
        this.queue.takenFromFirst(n);
        continue;
      }
      sinks++;
      frames += n;
      // A sink's frames of several changes go out in one write (fanout-queue.ts).
      if (n > 1) sink.cork();
      for (let i = from; i < from + n; i++) sink.sendJoined(heads[i] as string, tails[i] as Uint8Array);
      if (n > 1) sink.uncork();
      this.queue.takenFromFirst(n);
    }
    if (this.queue.length > 0) setImmediate(() => this.drain());
    else this.draining = false;
  }
}

/**
 * Connections sent to per turn of the event loop during a fan-out: a write arriving meanwhile waits
 * for at most one slice at each of its steps (~0.25 ms at 32 on the benchmark VM). With 1,000
 * watching connections a write's p99 was 9.6–19.1 ms at 64 (median of six runs 14.4) and 8.7–12.5
 * ms at 32 (median 10.3), runs alternating; 256 measured worse still (docs/BENCHMARKS.md).
 */
const FANOUT_SLICE = 32;
/**
 * Frames sent per turn at most, however many each of those connections has waiting: a
 * connection's frames of several changes cost one system call, so a slice of many frames costs
 * little more than one of 32.
 */
const FRAMES_PER_SLICE = 256;
/** Frames to one connection in one write at most: one with a long backlog goes to the back of the line after them. */
const FRAMES_PER_WRITE = 64;
/** The longest the fan-out waits for a write in flight (writeStarted) before it sends again. */
const FANOUT_YIELD_MS = 4;
/** Queued frames of ended sinks dropped per turn at most. */
const DROPPED_PER_SLICE = 4096;

/** A frame's start, up to and including its list of watch ids; the change's bytes follow it. */
function frameHead(ids: Iterable<string>): string {
  return `{"jsonrpc":"2.0","method":"watch.event","params":{"watchIds":${JSON.stringify([...ids])},`;
}

/** A name is looked up; `PREFIX*` (one star, at the end, nothing else wild) is found by prefix; the rest is scanned. */
function kindOf(glob: Glob): GroupKind {
  if (glob.isLiteral) return 'literal';
  const p = glob.pattern;
  // The literal prefix is the pattern up to its first wildcard, escapes removed: `prefix*`
  // exactly when the pattern is that prefix (as written) and one final star. A prefix written
  // with escapes is simply scanned.
  if (p.endsWith('*') && p.length === glob.literalPrefix.length + 1 && p.slice(0, -1) === glob.literalPrefix) return 'prefix';
  return 'scanned';
}
