// A live view of the registry entries matching a pattern.
//
// Re-sync after a reconnect: the watch always subscribes with `initial: true`, so it knows the
// entries it has seen. After the connection drops (or the server restarts) it subscribes again
// and emits synthetic events, `source: 'resync'`, for every entry that appeared, changed or
// vanished meanwhile, then a 'resync' event. A consumer that applies events in order therefore
// ends up with the server's state, though it may not see every intermediate state.
import { DpnsError, isDpnsError, type EntryView, type Result, type SingleWatchEvent } from '@dpns/protocol';
import { Emitter } from './emitter.js';
import { diffEntries } from './watch-diff.js';

/** One change seen by a watch. */
export interface WatchEvent {
  type: 'put' | 'delete';
  name: string;
  /** The entry after the change; absent for `delete`. */
  entry?: EntryView;
  /** The registry revision; for snapshot and resync events, the snapshot's revision. */
  revision: number;
  /**
   * `initial`: an entry that existed when the watch started (only with `{initial: true}`);
   * `change`: a change the server reported; `resync`: a difference found after a reconnect.
   */
  source: 'initial' | 'change' | 'resync';
}

export interface WatchOptions {
  /** Emit the matching entries that exist now as `initial` events first. */
  initial?: boolean;
  /** Called for every event (the same as `watch.on('event', ...)`). */
  onEvent?: (event: WatchEvent) => void;
}

/** subscribing → active; active → detached on a drop; detached → subscribing on reconnect; any → closed. */
export type WatchState = 'subscribing' | 'active' | 'detached' | 'closed';

/** What a watch needs from the client that made it. */
export interface WatchLink {
  subscribe(pattern: string): Promise<Result<'watch'>>;
  unsubscribe(watchId: string): Promise<void>;
  /** Routes events with this id to the watch (and delivers any that arrived before the answer). */
  bind(watch: Watch, watchId: string): void;
  release(watch: Watch): void;
  /** True when a failed subscribe will be retried by a reconnect rather than being final. */
  recoverable(err: unknown): boolean;
  isOpen(): boolean;
}

export interface WatchEvents {
  event: [WatchEvent];
  /** A fatal error: the watch is closed after it. */
  error: [DpnsError];
  /** Emitted after the synthetic events of a re-subscription. */
  resync: [{ revision: number }];
  /** Emitted when the subscription is established (the first time and after each re-sync). */
  subscribed: [{ revision: number; watchId: string }];
}

/** How many undelivered events an iterator may fall behind before it fails. */
const MAX_BUFFERED = 10_000;

export class Watch extends Emitter<WatchEvents> implements AsyncIterable<WatchEvent> {
  #state: WatchState = 'subscribing';
  #watchId: string | undefined;
  /** The snapshot revision of the current subscription; events at or below it are already in it. */
  #revision = -1;
  #subscribedOnce = false;
  #known = new Map<string, EntryView>();
  readonly #ready: Promise<void>;
  #settleReady!: (err?: DpnsError) => void;
  // The async-iterator side: events not yet pulled, and pullers waiting for one.
  #buffer: WatchEvent[] = [];
  #pullers: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void }[] = [];
  #buffering: boolean;
  #failure: DpnsError | undefined;

  /** @internal Made by `DpnsClient.watch`. */
  constructor(readonly pattern: string, private readonly opts: WatchOptions, private readonly link: WatchLink) {
    super();
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    // Nobody has to await `ready`; an unobserved rejection must not crash the process.
    this.#ready.catch(() => undefined);
    if (opts.onEvent !== undefined) this.on('event', opts.onEvent);
    // A callback consumer does not iterate; buffering for nobody would only grow.
    this.#buffering = opts.onEvent === undefined;
  }

  get state(): WatchState {
    return this.#state;
  }

  /** Resolves when the first subscription is established; rejects if it was refused. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** The entries matching the pattern, as far as this watch knows. */
  entries(): EntryView[] {
    return [...this.#known.values()];
  }

  /** @internal Subscribes (first time, or again after a reconnect). */
  start(): void {
    if (this.#state === 'closed') return;
    this.#state = 'subscribing';
    this.#watchId = undefined;
    this.link.subscribe(this.pattern).then(
      (r) => this.#subscribed(r),
      (err: unknown) => this.#subscribeFailed(err),
    );
  }

  /** @internal The connection dropped: the subscription is gone with it. */
  detach(): void {
    if (this.#state === 'active') this.#state = 'detached';
    this.#watchId = undefined;
  }

  /** @internal A `watch.event` for this watch's current subscription. */
  deliver(p: SingleWatchEvent): void {
    if (this.#state !== 'active' || p.watchId !== this.#watchId || p.revision <= this.#revision) return;
    if (p.type === 'delete') this.#known.delete(p.name);
    else if (p.entry !== undefined) this.#known.set(p.name, p.entry);
    const ev: WatchEvent = { type: p.type, name: p.name, revision: p.revision, source: 'change' };
    if (p.entry !== undefined) ev.entry = p.entry;
    this.#emitEvent(ev);
  }

  /** Stops the watch: the server forgets it, iterators end. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const watchId = this.#state === 'active' ? this.#watchId : undefined;
    this.#end();
    if (watchId !== undefined) {
      try {
        await this.link.unsubscribe(watchId);
      } catch {
        // The connection (and so the server-side watch) may already be gone; nothing to undo.
      }
    }
  }

  /** @internal The client closed: end without talking to the server. */
  end(err?: DpnsError): void {
    if (this.#state === 'closed') return;
    this.#failure = err;
    this.#end();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    this.#buffering = true;
    return {
      next: () => {
        const ev = this.#buffer.shift();
        if (ev !== undefined) return Promise.resolve({ value: ev, done: false });
        if (this.#failure !== undefined) return Promise.reject(this.#failure);
        if (this.#state === 'closed') return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.#pullers.push({ resolve, reject }));
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  #subscribed(r: Result<'watch'>): void {
    if (this.#state === 'closed') {
      // Closed while the answer was on its way: tell the server too.
      this.link.unsubscribe(r.watchId).catch(() => undefined);
      return;
    }
    const now = new Map<string, EntryView>();
    for (const e of r.entries ?? []) now.set(e.name, e);
    const resync = this.#subscribedOnce;
    const changes = resync
      ? diffEntries(this.#known, now)
      : this.opts.initial === true ? [...now.values()].map((entry) => ({ type: 'put' as const, name: entry.name, entry })) : [];
    this.#known = now;
    this.#watchId = r.watchId;
    this.#revision = r.revision;
    this.#state = 'active';
    this.#subscribedOnce = true;
    for (const c of changes) {
      const ev: WatchEvent = { type: c.type, name: c.name, revision: r.revision, source: resync ? 'resync' : 'initial' };
      if (c.entry !== undefined) ev.entry = c.entry;
      this.#emitEvent(ev);
    }
    if (resync) this.emit('resync', { revision: r.revision });
    this.emit('subscribed', { revision: r.revision, watchId: r.watchId });
    this.#settleReady();
    // Events that raced ahead of the answer are delivered now, after the snapshot.
    this.link.bind(this, r.watchId);
  }

  #subscribeFailed(err: unknown): void {
    if (this.#state === 'closed') return;
    if (this.link.recoverable(err)) {
      this.#state = 'detached';
      // The client may have reconnected before this failure was seen; then nobody else will restart us.
      if (this.link.isOpen()) this.start();
      return;
    }
    const e = isDpnsError(err) ? err : new DpnsError('INTERNAL', String(err), { cause: err });
    this.#failure = e;
    this.emit('error', e);
    this.#settleReady(e);
    this.#end();
  }

  #emitEvent(ev: WatchEvent): void {
    this.emit('event', ev);
    if (!this.#buffering) return;
    const puller = this.#pullers.shift();
    if (puller !== undefined) {
      puller.resolve({ value: ev, done: false });
      return;
    }
    if (this.#buffer.length >= MAX_BUFFERED) {
      this.#buffering = false;
      this.#buffer = [];
      this.#failure = new DpnsError('LIMIT_EXCEEDED', `the watch iterator fell more than ${MAX_BUFFERED} events behind`);
      return;
    }
    this.#buffer.push(ev);
  }

  #end(): void {
    this.#state = 'closed';
    this.#watchId = undefined;
    this.link.release(this);
    this.#settleReady(this.#failure ?? new DpnsError('CLOSED', 'the watch was closed before it was established'));
    for (const p of this.#pullers.splice(0)) {
      if (this.#failure !== undefined) p.reject(this.#failure);
      else p.resolve({ value: undefined, done: true });
    }
  }
}
