// Is a history linearizable? Wing & Gong's search as refined by Lowe ("Testing for
// linearizability", 2017) and used by Porcupine: walk the history's call and return events in
// time order; at a call, try to apply that operation next (the model must accept its answer); at a
// return, the operation returning must already have been applied, so back up and try another
// order. Three things keep it fast:
// - only operations called before the earliest pending return are ever tried next (the walk
//   reaches that return and backs up before it can try a later one);
// - a memo of (set of operations applied, model state) pairs already explored: two orders that
//   applied the same operations and left the same state have the same future, so the second is cut;
// - with a model that tells reads apart (`isRead`), a read that fits where the walk stands is
//   placed there and never tried later. No order can need it later: the state is the same
//   without it, and every operation that must precede it (returned before its call) is already
//   placed, since its call comes before the earliest pending return. Without this, a violation
//   among many overlapping reads (a backup's, widened by the staleness check) would make the
//   search try every subset of them at every point.
// Independent keys are checked apart (the model's `partition`), each part's search much smaller.
import { explainViolation, type Witness } from './explanation.js';
import { returned, type Model, type Operation, type ReadWriteModel } from './history.js';

export interface CheckOptions {
  /** Give up (answer `unknown`) after this long in total; default 10 s. */
  timeoutMs?: number;
  /** Give up after remembering this many explored (set, state) pairs in one part; default 1,000,000. */
  maxStates?: number;
}

/**
 * The verdict. `ok` is true only for a history shown linearizable: a search that ran out of its
 * budget is `unknown`, never silently ok.
 */
export type CheckResult<I, O> =
  | { readonly ok: true }
  | { readonly ok: false; readonly verdict: 'violation'; readonly key: string; readonly explanation: string; readonly witness: Witness<I, O> }
  | { readonly ok: false; readonly verdict: 'unknown'; readonly key: string; readonly explanation: string };

/** Checks `history` against `model`, part by part (see `Model.partition`). */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], opts: CheckOptions = {}): CheckResult<I, O> {
  const deadline = performance.now() + (opts.timeoutMs ?? 10_000);
  const maxStates = opts.maxStates ?? 1_000_000;
  const index = new Map<Operation<I, O>, number>(history.map((op, i) => [op, i]));
  const parts = model.partition?.(history) ?? new Map([['', history]]);
  let unknown: CheckResult<I, O> | undefined;
  for (const [key, ops] of parts) {
    const r = searchPart(model, ops, deadline, maxStates);
    if (r.kind === 'linearizable') continue;
    if (r.kind === 'budget') {
      unknown ??= { ok: false, verdict: 'unknown', key, explanation: `key ${JSON.stringify(key)}: ${r.why} (${ops.length} operations); neither shown linearizable nor not` };
      continue;
    }
    const witness: Witness<I, O> = {
      linearized: r.linearized.map((i) => ops[i] as Operation<I, O>),
      stateAfter: model.describeState(r.state),
      blocked: ops[r.blocked] as Operation<I, O>,
      concurrent: r.concurrent.map((i) => ops[i] as Operation<I, O>),
    };
    return { ok: false, verdict: 'violation', key, witness, explanation: explainViolation(model, key, witness, (op) => index.get(op) ?? -1, history) };
  }
  return unknown ?? { ok: true };
}

/** One event of the walk, in a doubly linked list so that applied operations can be lifted out and put back in O(1). */
interface Event {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  /** A call's return event. */
  match: Event | undefined;
  prev: Event | undefined;
  next: Event | undefined;
}

type PartResult<S> =
  | { kind: 'linearizable' }
  | { kind: 'budget'; why: string }
  | { kind: 'violation'; linearized: number[]; state: S; blocked: number; concurrent: number[] };

function searchPart<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], deadline: number, maxStates: number): PartResult<S> {
  const head = buildEvents(ops);
  // Operations that never returned need not be applied at all (they may not have happened), so
  // the search is done once every operation that returned is.
  let left = ops.filter(returned).length;
  const applied = new Uint32Array(Math.ceil(ops.length / 32));
  let appliedHash = 0;
  const memo = new Map<number, { bits: Uint32Array; state: S }[]>();
  let remembered = 0;
  const stack: { call: Event; state: S; read: boolean }[] = [];
  const isRead = (model as Partial<ReadWriteModel<S, I, O>>).isRead?.bind(model);
  let state = model.init();
  let best: { depth: number; result: PartResult<S> & { kind: 'violation' } } | undefined;
  let entry = head.next;
  for (let steps = 0; left > 0; steps++) {
    if ((steps & 4095) === 0 && performance.now() >= deadline) return { kind: 'budget', why: 'the time budget ran out' };
    if (entry === undefined) throw new Error('linearizability: the walk ran past the last event (a bug in the search)');
    if (entry.isCall) {
      const op = ops[entry.op] as Operation<I, O>;
      const { ok, next } = model.step(state, op.input, returned(op) ? op.output : undefined);
      if (ok) {
        const bit = 1 << (entry.op & 31);
        const word = entry.op >>> 5;
        applied[word] = (applied[word] as number) | bit;
        const h = (appliedHash ^ zobrist(entry.op)) >>> 0;
        const key = (h ^ Math.imul(model.hash(next) | 0, 0x9e3779b1)) >>> 0;
        const bucket = memo.get(key);
        if (bucket?.some((m) => sameBits(m.bits, applied) && model.equal(m.state, next)) === true) {
          applied[word] = (applied[word] as number) & ~bit;
          entry = entry.next;
          continue;
        }
        if (++remembered > maxStates) return { kind: 'budget', why: `more than ${maxStates} states explored` };
        const mark = { bits: applied.slice(), state: next };
        if (bucket === undefined) memo.set(key, [mark]);
        else bucket.push(mark);
        stack.push({ call: entry, state, read: isRead?.(op.input) === true });
        appliedHash = h;
        state = next;
        if (returned(op)) left--;
        lift(entry);
        entry = head.next;
      } else {
        entry = entry.next;
      }
      continue;
    }
    // A return: its operation had to be applied by now and was not. Remember the deepest such
    // dead end (what a person needs to see), then undo the last choice and try the next one.
    if (best === undefined || stack.length > best.depth) {
      best = { depth: stack.length, result: { kind: 'violation', linearized: stack.map((s) => s.call.op), state, blocked: entry.op, concurrent: pendingBefore(head, entry) } };
    }
    let top = stack.pop();
    for (; top !== undefined; top = stack.pop()) {
      const op = top.call.op;
      applied[op >>> 5] = (applied[op >>> 5] as number) & ~(1 << (op & 31));
      appliedHash = (appliedHash ^ zobrist(op)) >>> 0;
      if (returned(ops[op] as Operation<I, O>)) left++;
      state = top.state;
      unlift(top.call);
      // A read was placed as early as it fits: placing it later cannot do better, so back up further.
      if (!top.read) break;
    }
    if (top === undefined) return best.result;
    entry = top.call.next;
  }
  return { kind: 'linearizable' };
}

/**
 * The events in time order behind a sentinel head. At equal times calls come first: the two
 * operations then count as concurrent, the reading that never reports a false violation.
 * Operations that never returned get their return at the very end.
 */
function buildEvents(ops: readonly Operation<unknown, unknown>[]): Event {
  const events: Event[] = [];
  ops.forEach((op, i) => {
    if (returned(op) && (op.return as number) < op.call) throw new Error(`linearizability: operation ${i} returned (${String(op.return)}) before its call (${op.call})`);
    const ret: Event = { op: i, isCall: false, time: returned(op) ? (op.return as number) : Infinity, match: undefined, prev: undefined, next: undefined };
    events.push({ op: i, isCall: true, time: op.call, match: ret, prev: undefined, next: undefined }, ret);
  });
  events.sort((a, b) => (a.time - b.time) || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1) || 0);
  const head: Event = { op: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Takes a call and its return out of the list (they stay linked to their neighbours for `unlift`). */
function lift(call: Event): void {
  for (const e of [call, call.match as Event]) {
    (e.prev as Event).next = e.next;
    if (e.next !== undefined) e.next.prev = e.prev;
  }
}

/** Puts back what `lift` took out, in the reverse order (dancing links). */
function unlift(call: Event): void {
  for (const e of [call.match as Event, call]) {
    (e.prev as Event).next = e;
    if (e.next !== undefined) e.next.prev = e;
  }
}

/** Operations not yet applied whose call comes before `stop`: what could have gone next instead. */
function pendingBefore(head: Event, stop: Event): number[] {
  const out: number[] = [];
  for (let e = head.next; e !== undefined && e !== stop; e = e.next) if (e.isCall && e.op !== stop.op) out.push(e.op);
  return out;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A fixed pseudo-random 32-bit value per operation (splitmix32), XORed into the applied set's hash. */
function zobrist(i: number): number {
  let z = (i + 1) * 0x9e3779b9;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
