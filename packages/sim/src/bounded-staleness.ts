// Reads from backups, checked against the bound PROTOCOL.md §19.3 gives them. A backup answers from
// what it has stored, so its read may miss recent writes, but only those of a bounded window: it
// stops answering once it has heard nothing from its primary for a failure window. That is
// Golab, Li and Shah's Δ-atomicity ("Analyzing consistency properties for fun and profit", PODC
// 2011): a history is Δ-atomic when it becomes linearizable once every read's call is moved Δ
// earlier. So a backup's read is checked as if it had been called `staleMs` sooner, in one search
// with the primary's reads and writes: it must fit the one order of writes that the primary's own
// operations allow, at some instant from `staleMs` before its call to its return. It may not show
// a value never written, a value written only after it returned, or one already overwritten more
// than `staleMs` before its call.
import { checkLinearizable, type CheckOptions, type CheckResult } from './linearizability.js';
import { returned, type Operation, type ReadWriteModel } from './history.js';

export interface StalenessOptions extends CheckOptions {
  /** How much older than its call the state a backup's read shows may be (in the history's time unit). */
  staleMs: number;
}

/** A history in two parts: what the primary answered, and the reads that backups answered. */
export interface SplitHistory<I, O> {
  /** Reads and writes answered by the primary (or never answered): they must be linearizable. */
  readonly primary: readonly Operation<I, O>[];
  /** Reads answered by a backup. One that never returned observed nothing and is left out. */
  readonly backupReads: readonly Operation<I, O>[];
}

/**
 * Checks the primary's operations for linearizability and the backups' reads for staleness of at
 * most `staleMs`, together. In a violation's witness and explanation a backup's read appears as
 * checked: its call moved back by `staleMs`, its client marked `(backup)`.
 */
export function checkBoundedStaleness<S, I, O>(model: ReadWriteModel<S, I, O>, history: SplitHistory<I, O>, opts: StalenessOptions): CheckResult<I, O> {
  const { staleMs, ...check } = opts;
  if (!(staleMs >= 0 && Number.isFinite(staleMs))) throw new RangeError(`staleness: staleMs must be a finite number ≥ 0, got ${staleMs}`);
  const moved: Operation<I, O>[] = [];
  for (const r of history.backupReads) {
    // A backup refuses every write (§19.3): a write here is the caller's mistake, not the cluster's.
    if (!model.isRead(r.input)) throw new Error(`staleness: a backup's operation must be a read, got ${model.describeOperation(r.input, r.output)}`);
    if (returned(r)) moved.push({ ...r, client: `${String(r.client)} (backup)`, call: r.call - staleMs });
  }
  const r = checkLinearizable(model, [...history.primary, ...moved], check);
  if (r.ok || r.verdict !== 'violation' || moved.length === 0) return r;
  return { ...r, explanation: `${r.explanation}\nA read from a backup (client "(backup)") is shown as called ${staleMs} ms before it was: it may show any state from then on.` };
}
