// A plain service's line in a snapshot file: one that starts as the registry writes a service
// (kind, then name) and whose name has no escape and nothing outside ASCII, so its name can be
// read from its bytes. A file of its own, importing nothing: the registry's index of a restart's
// lines uses it, and a module's child process loads the registry's files with read access to
// this folder alone (modules/sandbox.ts), so they must not reach the storage code.

/** How a service's JSON starts as the registry makes it (kind, then name). */
export const SERVICE_PREFIX = '{"kind":"service","name":"';

const PREFIX_BYTES = Buffer.from(SERVICE_PREFIX, 'latin1');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Where the name ends (its closing quote) in the line `buf[at, end)` when the line starts as the
 * registry's services do and the name is not empty and has no escape and nothing outside ASCII
 * (then its bytes are its characters, and sort as they do); -1 otherwise, when the line must be
 * parsed for its name. The name starts at `at + SERVICE_PREFIX.length`.
 */
export function plainNameEnd(buf: Buffer, at: number, end: number): number {
  if (end - at <= PREFIX_BYTES.length) return -1;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (buf[at + i] !== PREFIX_BYTES[i]) return -1;
  const from = at + PREFIX_BYTES.length;
  for (let i = from; i < end; i++) {
    const b = buf[i] as number;
    if (b === QUOTE) return i === from ? -1 : i;
    if (b === BACKSLASH || b >= 0x80) return -1;
  }
  return -1;
}
