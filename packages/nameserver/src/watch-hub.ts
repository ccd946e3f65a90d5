// Watches: grouped by pattern, so a change is matched once per distinct pattern and not
// once per watcher, and its JSON is built once per change and spliced into each frame.
import { compileGlob, type Glob } from '@dpns/protocol';
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

  /** Tells every matching watch about the changes of one revision. */
  publish(changes: readonly Change[], revision: number): void {
    if (this.count === 0 || changes.length === 0) return;
    const touched = new Set<WatchSink>();
    for (const ch of changes) {
      const body = JSON.stringify({ revision, type: ch.type, name: ch.name, ...(ch.entry ? { entry: ch.entry } : {}) }).slice(1);
      for (const g of this.groups.values()) {
        if (!g.glob.match(ch.name)) continue;
        for (const [id, sink] of g.watches) {
          if (!touched.has(sink)) {
            touched.add(sink);
            sink.cork();
          }
          sink.sendRaw(`{"jsonrpc":"2.0","method":"watch.event","params":{"watchId":"${id}",${body}}`);
        }
      }
    }
    for (const s of touched) s.uncork();
  }
}
