// Runs async steps one at a time, in call order: the state files are read-modify-write, and two
// requests on two connections must not interleave their writes.
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    // The chain goes on after a failure; the caller still sees the failure.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
