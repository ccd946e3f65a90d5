// A bound on how deeply a frame's JSON nests, checked before JSON.parse sees it: V8's parser
// takes time that grows faster than the input for deep nesting (a 1 MiB frame of `[` held the
// event loop for over a second), and no request of this protocol nests more than a few levels.

/** Deepest nesting a frame may have; a request with a launch spec needs about six. */
export const MAX_JSON_DEPTH = 32;

const OPEN_OBJ = 0x7b;
const OPEN_ARR = 0x5b;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when the bytes nest objects and arrays deeper than `max` (brackets inside strings do not count). One linear pass. */
export function nestsDeeperThan(buf: Uint8Array, max: number): boolean {
  if (buf.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] as number;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_OBJ || b === OPEN_ARR) {
      if (++depth > max) return true;
    } else if (b === CLOSE_OBJ || b === CLOSE_ARR) {
      depth--;
    }
  }
  return false;
}
