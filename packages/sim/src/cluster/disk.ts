// A member's simulated disk: what survives a crash. Writes and fsyncs take a little while and
// complete in order; a crash keeps a random prefix of what was still on its way (the OS may have
// written some of it) and tears the write after that, which the store's recovery then drops.
import type { WireRecord } from '@dpns/cluster-core';
import type { SimRecord } from './records.js';

export type DiskWrite =
  | { readonly kind: 'store'; readonly recs: readonly WireRecord<SimRecord>[] }
  | { readonly kind: 'persist'; readonly epoch: number; readonly votedFor: number | undefined }
  | { readonly kind: 'install'; readonly records: readonly WireRecord<SimRecord>[] };

export class Disk {
  /** The log on disk: record i at [i - 1]. */
  records: WireRecord<SimRecord>[] = [];
  epoch = 0;
  votedFor: number | undefined;
  /** Writes not yet known durable, oldest first. */
  private inFlight: DiskWrite[] = [];
  /** An fsync failed: nothing more reaches the disk until the process restarts (it halts). */
  private failed = false;

  begin(w: DiskWrite): void {
    if (!this.failed) this.inFlight.push(w);
  }

  /** The oldest write in flight is durable (undefined: it was lost to a failed fsync). */
  complete(): DiskWrite | undefined {
    const w = this.inFlight.shift();
    if (w !== undefined) this.land(w);
    return w;
  }

  /** The oldest write in flight failed: it and everything after it never reach the disk. */
  fail(): void {
    this.inFlight = [];
    this.failed = true;
  }

  /** The process died: `survive` of the writes in flight reached the disk anyway, the rest is lost. */
  crash(survive: number): void {
    for (const w of this.inFlight.slice(0, survive)) this.land(w);
    this.inFlight = [];
    this.failed = false;
  }

  get pending(): number {
    return this.inFlight.length;
  }

  private land(w: DiskWrite): void {
    switch (w.kind) {
      case 'store':
        for (const r of w.recs) {
          if (r.i !== this.records.length + 1) throw new Error(`simulated disk: record ${r.i} stored after ${this.records.length}`);
          this.records.push(r);
        }
        return;
      case 'persist':
        this.epoch = w.epoch;
        this.votedFor = w.votedFor;
        return;
      case 'install':
        this.records = [...w.records];
        return;
    }
  }
}
