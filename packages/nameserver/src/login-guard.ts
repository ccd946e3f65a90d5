// Wrong admin proofs on one connection: the first two are answered at once (a typo), the next
// ones only after a growing delay, and the fifth ends the connection. Guessing the 256-bit token
// is hopeless anyway; this keeps a guesser from costing the server CPU, log lines and an open
// connection for free.

/** Wrong proofs a connection may send; the last one closes it. */
export const MAX_LOGIN_FAILURES = 5;
/** Failures answered without delay. */
const FREE_FAILURES = 2;
const FIRST_DELAY_MS = 500;

export interface LoginVerdict {
  /** Hold the UNAUTHORIZED answer this long. */
  delayMs: number;
  /** Close the connection after answering. */
  close: boolean;
}

/**
 * Counts one more wrong proof on a connection that had `failures` before it. Proofs pipelined
 * past the closing one are answered at once: the connection is already on its way out, and no
 * timer is kept for them.
 */
export function onLoginFailure(failures: number): LoginVerdict {
  const n = failures + 1;
  if (n > MAX_LOGIN_FAILURES) return { delayMs: 0, close: false };
  const delayMs = n <= FREE_FAILURES ? 0 : FIRST_DELAY_MS * 2 ** (n - FREE_FAILURES - 1);
  return { delayMs, close: n === MAX_LOGIN_FAILURES };
}
