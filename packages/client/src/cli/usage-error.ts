// Bad usage, found before anything is sent: exit code 2 instead of 1.
import { isDpnsError } from '@dpns/protocol';

export class UsageError extends Error {
  override readonly name = 'UsageError';

  /** `code` is a protocol code when the protocol's own rule refused the value (INVALID_NAME). */
  constructor(message: string, readonly code = 'USAGE') {
    super(message);
  }
}

/** Runs a local check; a DpnsError it throws (a bad name, pattern or param) becomes a UsageError. */
export function checkLocally<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (isDpnsError(err)) throw new UsageError(err.message, err.code);
    throw err;
  }
}
