// Messages between the name server and a module's child process leave in batches, one per turn
// of the event loop: a write to the pipe has a fixed cost on both ends (system calls, wake-up),
// and under load dozens of calls or answers share it instead of paying it one by one.

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

  /** Sends what is queued now (also called before the child exits). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.send(batch);
  }
}
