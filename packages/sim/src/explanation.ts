// A failed check, told so that a person can see the bug: the longest order of operations the
// search could justify, the state it leaves, and the operation that cannot come next whatever
// the order — with the operations it overlapped, which are the ones that could have explained it.
import { returned, type Model, type Operation } from './history.js';

/** The smallest useful evidence of a violation, in one key's history. */
export interface Witness<I, O> {
  /** The longest order found in which every answer fits the model, first applied first. */
  readonly linearized: readonly Operation<I, O>[];
  /** The model's state after `linearized`, described. */
  readonly stateAfter: string;
  /** An operation that returned and fits no order that places it next: the contradiction. */
  readonly blocked: Operation<I, O>;
  /** Operations not in `linearized` called before `blocked` returned: what could have come between. */
  readonly concurrent: readonly Operation<I, O>[];
}

/** How many of the linearized operations the text shows (the last ones: the first are rarely the story). */
const SHOWN = 12;

/** Renders `w` over several lines; `id` gives an operation's place in the whole history (#n). */
export function explainViolation<S, I, O>(model: Model<S, I, O>, key: string, w: Witness<I, O>, id: (op: Operation<I, O>) => number, history: readonly Operation<I, O>[]): string {
  const t0 = history.reduce((m, op) => Math.min(m, op.call), Infinity);
  const line = (op: Operation<I, O>): string => describeOperation(model, op, id(op), t0);
  const shown = w.linearized.slice(-SHOWN);
  const skipped = w.linearized.length - shown.length;
  return [
    `not linearizable${key === '' ? '' : ` on key ${JSON.stringify(key)}`}.`,
    w.linearized.length === 0
      ? 'No operation can go first:'
      : `The longest order found that every answer fits (${w.linearized.length} operation${w.linearized.length === 1 ? '' : 's'}${skipped > 0 ? `, the last ${shown.length} shown` : ''}):`,
    ...(w.linearized.length === 0 ? [] : [...(skipped > 0 ? ['    …'] : []), ...shown.map((op) => `    ${line(op)}`), `  leaves the state ${w.stateAfter}, and then no order places this one:`]),
    `    ${line(w.blocked)}`,
    w.concurrent.length === 0
      ? '  and no operation outside that order was pending while it ran.'
      : `  though these, outside that order, were also pending before it returned:\n${w.concurrent.map((op) => `    ${line(op)}`).join('\n')}`,
    `Times are ms after the first call; "…" as a return: it never returned.`,
  ].join('\n');
}

/** `#12 client 3 [104.2–106.0] find /a → NOT_FOUND`. */
export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>, n: number, t0: number): string {
  const ms = (t: number): string => (t - t0).toFixed(1);
  const interval = `[${ms(op.call)}–${returned(op) ? ms(op.return as number) : '…'}]`;
  return `#${n} client ${String(op.client)} ${interval} ${model.describeOperation(op.input, returned(op) ? op.output : undefined)}`;
}
