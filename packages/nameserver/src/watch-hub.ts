// Watches: grouped by pattern, so a change is matched once per distinct pattern and not
// once per watcher; its JSON is built once per change, and each connection gets one frame
// per change that lists its matching watches.
import { compileGlob, publicEntry, type Glob } from '@dpns/protocol';
import type { Change } from './registry/ops.js';

/** Where a watch's events go: the connection that opened it. */
export interface WatchSink {
  /** Sends a ready JSON text frame. */
  sendRaw(frame: string): void;
  /** Lets the sink batch the frames of one change into as few writes as it can. */
  cork(): void;
  uncork(): void;
}

interface Group {
  glob: Glob;
  watches: Map<string, WatchSink>;
}

export class WatchHub {
  private readonly groups = new Map<string, Group>();
  private readonly byId = new Map<string, Group>();
  private nextId = 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(pattern: string, sink: WatchSink): string {
    let g = this.groups.get(pattern);
    if (g === undefined) this.groups.set(pattern, (g = { glob: compileGlob(pattern), watches: new Map() }));
    const id = `w${this.nextId++}`;
    g.watches.set(id, sink);
    this.byId.set(id, g);
    this.count++;
    return id;
  }

  /** Removes a watch; false when no such watch belongs to `sink`. */
  remove(id: string, sink: WatchSink): boolean {
    const g = this.byId.get(id);
    if (g === undefined || g.watches.get(id) !== sink) return false;
    g.watches.delete(id);
    this.byId.delete(id);
    this.count--;
    if (g.watches.size === 0) this.groups.delete(g.glob.pattern);
    return true;
  }

  /**
   * Tells every matching watch about the changes of one revision. The frames are queued and
   * sent in slices of at most FANOUT_SLICE frames, one slice per turn of the event loop, so a
   * request that arrives during a large fan-out waits for one slice, not for all of it.
   * The queue is first in, first out: each watcher still sees changes in revision order.
   */
  publish(changes: readonly Change[], revision: number): void {
    if (this.count === 0 || changes.length === 0) return;
    for (const ch of changes) {
      // One frame per connection: a connection holding many matching watches gets their ids in one list.
      const ids = new Map<WatchSink, string[]>();
      for (const g of this.groups.values()) {
        if (!g.glob.match(ch.name)) continue;
        for (const [id, sink] of g.watches) {
          const list = ids.get(sink);
          if (list === undefined) ids.set(sink, [id]);
          else list.push(id);
        }
      }
      if (ids.size === 0) continue;
      // One body for every watcher, admin or not, so launch specs go out redacted (register.info shows them).
      const body = JSON.stringify({ revision, type: ch.type, name: ch.name, ...(ch.entry ? { entry: publicEntry(ch.entry) } : {}) }).slice(1);
      for (const [sink, list] of ids) {
        this.queue.push(sink, `{"jsonrpc":"2.0","method":"watch.event","params":{"watchIds":${JSON.stringify(list)},${body}}`);
      }
    }
    if (!this.draining && this.queue.length > 0) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  private readonly queue = new FrameQueue();
  private draining = false;

  private drain(): void {
    const touched = new Set<WatchSink>();
    for (let n = 0; n < FANOUT_SLICE && this.queue.length > 0; n++) {
      const [sink, frame] = this.queue.shift();
      if (!touched.has(sink)) {
        touched.add(sink);
        sink.cork();
      }
      sink.sendRaw(frame);
    }
    for (const s of touched) s.uncork();
    if (this.queue.length > 0) setImmediate(() => this.drain());
    else this.draining = false;
  }
}

/**
 * Frames sent per turn of the event loop during a fan-out: a write arriving meanwhile waits for at
 * most one slice (~0.5 ms at 64 on the benchmark VM; 256 measured a worse write p99 with 1,000
 * watching connections, docs/BENCHMARKS.md).
 */
const FANOUT_SLICE = 64;

/** A FIFO of (sink, frame) pairs in two parallel arrays with a moving head, compacted now and then. */
class FrameQueue {
  private sinks: WatchSink[] = [];
  private frames: string[] = [];
  private head = 0;

  get length(): number {
    return this.frames.length - this.head;
  }

  push(sink: WatchSink, frame: string): void {
    this.sinks.push(sink);
    this.frames.push(frame);
  }

  shift(): [WatchSink, string] {
    const i = this.head++;
    const out: [WatchSink, string] = [this.sinks[i] as WatchSink, this.frames[i] as string];
    if (this.head === this.frames.length) {
      this.sinks = [];
      this.frames = [];
      this.head = 0;
    } else if (this.head > 65_536) {
      this.sinks = this.sinks.slice(this.head);
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
