// Reads the one line a launched service is given on stdin: dpns-launchd writes the ticket line
// and closes stdin. Bounded in size and time, so a program started by hand (stdin a terminal, or
// a pipe nobody writes) fails with a message that says what it expected instead of hanging.
import { DpnsError } from '@dpns/protocol';

export interface ReadLineOptions {
  /** Give up after this long; default 10 s. */
  timeoutMs?: number;
  /** The longest line accepted, in bytes; default 64 KiB. */
  maxBytes?: number;
}

const NOT_LAUNCHED = 'was this program started by dpns-launchd (dpns launch NAME, or dpns find NAME of an auto-start service)?';

/** The first line of `input` without its newline (or everything, if it ends without one). */
export function readFirstLine(input: NodeJS.ReadableStream & { isTTY?: boolean }, opts: ReadLineOptions = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024;
  if (input.isTTY === true) {
    return Promise.reject(new DpnsError('INVALID_PARAMS', `stdin is a terminal, not a launch ticket line; ${NOT_LAUNCHED}`));
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: DpnsError | undefined, line?: string): void => {
      clearTimeout(timer);
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      // The rest of stdin is not ours to wait for; a paused pipe does not keep the process alive.
      input.pause();
      if (err !== undefined) reject(err);
      else resolve(line ?? '');
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      const nl = b.indexOf(0x0a);
      const part = nl === -1 ? b : b.subarray(0, nl);
      size += part.length;
      if (size > maxBytes) {
        finish(new DpnsError('INVALID_PARAMS', `the first line on stdin is longer than ${maxBytes} bytes; ${NOT_LAUNCHED}`));
        return;
      }
      chunks.push(part);
      if (nl !== -1) finish(undefined, trimCr(Buffer.concat(chunks).toString('utf8')));
    };
    const onEnd = (): void => {
      if (size === 0) finish(new DpnsError('INVALID_PARAMS', `stdin closed without a launch ticket line; ${NOT_LAUNCHED}`));
      else finish(undefined, trimCr(Buffer.concat(chunks).toString('utf8')));
    };
    const onError = (err: Error): void => finish(new DpnsError('INVALID_PARAMS', `cannot read stdin: ${err.message}`));
    const timer = setTimeout(() => {
      finish(new DpnsError('TIMEOUT', `no launch ticket line on stdin within ${timeoutMs} ms; ${NOT_LAUNCHED}`));
    }, timeoutMs);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

function trimCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}
