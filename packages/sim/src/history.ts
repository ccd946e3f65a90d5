// What a linearizability check reads: operations as clients saw them (when each was called, when
// its answer came, and what it was), and a sequential model of the object they were made on.

/**
 * One operation as a client saw it. `call` and `return` are times on one clock (the recorder's
 * `performance.now()`, or a simulator's virtual clock). An operation that never returned (its
 * connection was lost, it timed out: Jepsen's "info") has `return` undefined or Infinity and no
 * `output`: it may have taken effect at any moment after its call, or never.
 */
export interface Operation<I, O> {
  readonly client: number | string;
  readonly input: I;
  readonly call: number;
  readonly return?: number | undefined;
  /** The answer; undefined exactly when the operation never returned. */
  readonly output?: O | undefined;
}

/** Whether an operation's answer is possible in `state` (`ok`), and the state after it. */
export interface StepResult<S> {
  readonly ok: boolean;
  readonly next: S;
}

/** A sequential specification: what one copy of the object, applying operations one at a time, would answer. */
export interface Model<S, I, O> {
  init(): S;
  /**
   * Applies `input` to `state`. `output` undefined means the answer is unknown (the operation never
   * returned), and any answer must be accepted; the step must still say what the state becomes.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /**
   * Splits a history into independent parts (one per key) that are checked apart: a history is
   * linearizable exactly when every part is (P-compositionality). Without it, one part named "".
   */
  partition?(history: readonly Operation<I, O>[]): ReadonlyMap<string, readonly Operation<I, O>[]>;
  /** States that are `equal` must have the same `hash` (a 32-bit integer): the search's memo relies on it. */
  equal(a: S, b: S): boolean;
  hash(state: S): number;
  /** For a person reading a failure: `find /a → 10.0.0.1:80`. `output` undefined: it never returned. */
  describeOperation(input: I, output: O | undefined): string;
  describeState(state: S): string;
}

/**
 * A model that tells reads (operations that only observe the state, `step` returning the state it
 * was given) from writes. The staleness check needs it, since only a read may be answered by a
 * backup; and the search uses it to place each read as early as it fits, never trying it later.
 */
export interface ReadWriteModel<S, I, O> extends Model<S, I, O> {
  isRead(input: I): boolean;
}

/** Whether `op` returned: a finite return time. */
export function returned(op: Operation<unknown, unknown>): boolean {
  return op.return !== undefined && Number.isFinite(op.return);
}
