// Requests that have not been answered yet: queued (no open connection) or in flight on one
// connection. What happens to them when that connection drops is decided here.
import { isMethodName, WRITE_METHODS, type DpnsError, type MethodName } from '@dpns/protocol';
import type { Connection } from './connection.js';

/**
 * Requests that may be sent a second time when the connection drops before the answer:
 * reads, whose repetition changes nothing. Writes are never repeated (the first may have
 * been applied); session and watch set-up are redone by the client itself after a reconnect.
 */
const NOT_RETRIED: ReadonlySet<MethodName> = new Set<MethodName>([
  ...WRITE_METHODS, 'login', 'identify', 'watch', 'unwatch', 'modules.load', 'modules.unload', 'modules.reload',
]);

export function isRetriable(method: string): boolean {
  // A module call (`dir.register`) may write to the module's store: like a write, never repeated.
  return isMethodName(method) && !NOT_RETRIED.has(method);
}

export interface PendingRequest {
  readonly id: number;
  /** A protocol method, or a module call `<prefix>.<method>`. */
  readonly method: string;
  readonly frame: string;
  /** Set for session set-up (login, identify): only ever sent on this one connection. */
  readonly pinned: Connection | undefined;
  /** True once a read has been re-sent after a drop; it is not re-sent again. */
  retried: boolean;
  /** Where it was sent; undefined while queued. */
  conn: Connection | undefined;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: DpnsError) => void;
}

export class RequestTable {
  /** Waiting for a connection, in call order. */
  #queue: PendingRequest[] = [];
  readonly #inFlight = new Map<number, PendingRequest>();

  enqueue(p: PendingRequest, front = false): void {
    if (front) this.#queue.unshift(p);
    else this.#queue.push(p);
  }

  /** Removes and returns everything queued, oldest first. */
  drainQueue(): PendingRequest[] {
    const q = this.#queue;
    this.#queue = [];
    return q;
  }

  sent(p: PendingRequest, conn: Connection): void {
    p.conn = conn;
    this.#inFlight.set(p.id, p);
  }

  /** The request answered by a response with this id on `conn`, removed from the table. */
  answered(id: unknown, conn: Connection): PendingRequest | undefined {
    if (typeof id !== 'number') return undefined;
    const p = this.#inFlight.get(id);
    // A late answer on an old connection to a request since re-sent elsewhere is not ours.
    if (p === undefined || p.conn !== conn) return undefined;
    this.#inFlight.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  /** Removes a request wherever it is (timeout); returns false when it already settled. */
  remove(p: PendingRequest): boolean {
    if (this.#inFlight.get(p.id) === p) {
      this.#inFlight.delete(p.id);
      return true;
    }
    const i = this.#queue.indexOf(p);
    if (i === -1) return false;
    this.#queue.splice(i, 1);
    return true;
  }

  /** Removes and returns the requests in flight on `conn`. */
  takeInFlight(conn: Connection): PendingRequest[] {
    const out: PendingRequest[] = [];
    for (const p of this.#inFlight.values()) if (p.conn === conn) out.push(p);
    for (const p of out) this.#inFlight.delete(p.id);
    return out;
  }

  /** Rejects every request, queued or in flight (the client is closing). */
  rejectAll(err: (p: PendingRequest) => DpnsError): void {
    const all = [...this.#queue, ...this.#inFlight.values()];
    this.#queue = [];
    this.#inFlight.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(err(p));
    }
  }

  /** Rejects the queued requests only (the first connection could not be made). */
  rejectQueued(err: DpnsError): void {
    for (const p of this.drainQueue()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}
