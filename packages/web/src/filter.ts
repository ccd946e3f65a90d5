// The glob filter as a server-side watch: changing the pattern watches the new one with
// `initial: true` (its entries replace the table), then unwatches the old, so only the changes
// that match arrive at all. Patterns typed faster than the server answers are coalesced: at
// most one `watch` is in flight, and the last pattern typed is the one that ends up watched.
import { RpcError } from './rpc.js';
import type { Session } from './session.js';
import type { EntryStore } from './store.js';
import type { WatchEventParams } from './protocol.js';

/** Matches every name (docs/PROTOCOL.md §12.2). */
export const MATCH_ALL = '*';

/**
 * Refusals that say "not now" rather than "not this pattern": a backup that serves no reads
 * (NOT_PRIMARY) may become the primary, and a server between primaries will have one again.
 */
const RETRY_CODES: ReadonlySet<string> = new Set(['NOT_PRIMARY', 'NO_QUORUM', 'UNAVAILABLE']);
const RETRY_MS = 2_000;

/** The User Timing mark made when a `watch` answer arrives. */
export const WATCH_ANSWERED = 'dpns:watch-answered';

export interface FilterStatus {
  /** The pattern the table shows. */
  shown: string | undefined;
  /** Why the last pattern asked for was refused (INVALID_PATTERN, …). */
  error: string | undefined;
  busy: boolean;
}

export class Filter {
  private wanted: string;
  private watchId: string | undefined;
  private revision = 0;
  private inFlight = false;
  private retryTimer: number | undefined;
  private status: FilterStatus = { shown: undefined, error: undefined, busy: false };
  private readonly listeners = new Set<(s: FilterStatus) => void>();

  constructor(private readonly session: Session, private readonly store: EntryStore, initial: string) {
    this.wanted = initial;
    session.onWatchEvent((ev) => this.onEvent(ev));
    // A watch does not survive a reconnect: watch again, and the initial entries replace ours.
    session.onReady(() => {
      this.watchId = undefined;
      void this.pump();
    });
  }

  get current(): FilterStatus {
    return this.status;
  }

  onStatus(fn: (s: FilterStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Shows the entries matching `pattern` from now on. */
  set(pattern: string): void {
    this.wanted = pattern;
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.inFlight || this.session.current.state !== 'open') return;
    this.inFlight = true;
    this.update({ busy: true });
    try {
      for (;;) {
        window.clearTimeout(this.retryTimer);
        const pattern = this.wanted;
        const old = this.watchId;
        try {
          const r = await this.session.call('watch', { pattern, initial: true });
          // For devtools and the browser tests: where the server's part of a filter change ends
          // and the page's (replacing the table and rendering it) begins.
          performance.clearMarks(WATCH_ANSWERED);
          performance.mark(WATCH_ANSWERED, { detail: { pattern } });
          this.watchId = r.watchId;
          this.revision = r.revision;
          this.store.reset(r.entries ?? []);
          this.update({ shown: pattern, error: undefined });
          if (old !== undefined) this.session.call('unwatch', { watchId: old }).catch(() => undefined);
        } catch (e) {
          // A lost connection is not the pattern's fault: onReady watches again.
          if (e instanceof RpcError && e.code === 'CONNECTION_LOST') return;
          this.update({ error: e instanceof RpcError ? `${e.code}: ${e.message}` : String(e) });
          if (e instanceof RpcError && RETRY_CODES.has(e.code)) {
            this.retryTimer = window.setTimeout(() => void this.pump(), RETRY_MS);
          }
        }
        if (this.wanted === pattern) return;
      }
    } finally {
      this.inFlight = false;
      this.update({ busy: false });
    }
  }

  private onEvent(ev: WatchEventParams): void {
    // Events naming only other watches (an old pattern's, not yet unwatched) and events the
    // initial entries already reflect are dropped (§6 of the protocol).
    if (this.watchId === undefined || ev.revision <= this.revision || !ev.watchIds.includes(this.watchId)) return;
    this.store.enqueue(ev);
  }

  private update(patch: Partial<FilterStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const fn of this.listeners) fn(this.status);
  }
}
