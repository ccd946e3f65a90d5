// Messages between the name server and a module's worker leave in batches, one per turn of the
// event loop: a postMessage has a fixed cost on both threads (clone, wake-up, dispatch), and
// under load dozens of calls or answers share it instead of paying it one by one.

export class Outbox<T> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(private readonly send: (batch: T[]) => void) {}

  push(m: T): void {
    this.queue.push(m);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends what is queued now (also called before the worker exits). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.send(batch);
  }
}
