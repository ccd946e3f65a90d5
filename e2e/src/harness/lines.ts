// Splits a child's output stream into lines and lets a test wait for the line it expects,
// instead of sleeping and hoping.
import type { Readable } from 'node:stream';

export type LineMatcher = string | RegExp | ((line: string) => boolean);

interface Waiter {
  match: LineMatcher;
  test: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** The lines read so far from one stream, and waits on the ones still to come. */
export class LineLog {
  readonly lines: string[] = [];
  private partial = '';
  private ended = false;
  private readonly waiters = new Set<Waiter>();

  constructor(stream: Readable | null, private readonly label = 'output') {
    if (stream === null) {
      this.ended = true;
      return;
    }
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.push(chunk));
    stream.on('end', () => this.finish());
    stream.on('error', () => this.finish());
  }

  /** Everything read so far, joined. */
  text(): string {
    return this.lines.join('\n') + (this.partial === '' ? '' : (this.lines.length > 0 ? '\n' : '') + this.partial);
  }

  /**
   * Resolves with the first line (already read, or still to come) that matches. Rejects when the
   * stream ends without one or after `timeoutMs`, with the output so far in the message.
   */
  waitFor(match: LineMatcher, timeoutMs = 10_000, from = 0): Promise<string> {
    const test = toTest(match);
    for (let i = from; i < this.lines.length; i++) {
      const line = this.lines[i] as string;
      if (test(line)) return Promise.resolve(line);
    }
    if (this.ended) return Promise.reject(this.missing(match, 'the stream ended'));
    return new Promise<string>((resolve, reject) => {
      const waiter: Waiter = {
        match,
        test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(this.missing(match, `${timeoutMs} ms passed`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private missing(match: LineMatcher, why: string): Error {
    const tail = this.lines.slice(-20).join('\n');
    return new Error(`no ${this.label} line matching ${String(match)} (${why}); last lines:\n${tail}`);
  }

  private push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) this.add(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  }

  private add(line: string): void {
    this.lines.push(line);
    for (const w of this.waiters) {
      if (w.test(line)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(line);
      }
    }
  }

  private finish(): void {
    if (this.ended) return;
    if (this.partial !== '') {
      this.add(this.partial);
      this.partial = '';
    }
    this.ended = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(this.missing(w.match, 'the stream ended'));
    }
    this.waiters.clear();
  }
}

function toTest(match: LineMatcher): (line: string) => boolean {
  if (typeof match === 'string') return (line) => line.includes(match);
  if (match instanceof RegExp) return (line) => match.test(line);
  return match;
}
