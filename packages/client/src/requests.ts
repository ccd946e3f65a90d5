// Requests that have not been answered yet: queued (no open connection), parked (waiting out a
// NO_QUORUM before trying again) or in flight on one connection. What happens to them when that
// connection drops is decided here.
import { randomBytes } from 'node:crypto';
import { isMethodName, traitsOf, type DpnsError } from '@dpns/protocol';
import type { Connection } from './connection.js';

/**
 * Reads, whose repetition changes nothing: the method table's `resend`. Session set-up, watches
 * and module loads are not: login and identify are redone by the client itself on every
 * connection, watches re-subscribe, and a module operation's outcome is for the admin to check.
 * A module call (`dir.register`) may write: not one.
 */
export function isRead(method: string): boolean {
  if (!isMethodName(method)) return false;
  const t = traitsOf(method);
  return t.kind !== 'write' && t.kind !== 'launch' && t.resend;
}

/** A fresh request id for one logical write: 16 random bytes in hex, kept across every resend. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

export interface PendingRequest {
  /** The JSON-RPC id; the same on every resend (answers on old connections are told apart by `conn`). */
  readonly id: number;
  /** A protocol method, or a module call `<prefix>.<method>`. */
  readonly method: string;
  readonly params: unknown;
  /** Set for writes: sent to every server that does backup mode, which applies it at most once. */
  readonly requestId: string | undefined;
  /** Set for session set-up (login, identify): only ever sent on this one connection. */
  readonly pinned: Connection | undefined;
  /** How many times it was sent again after a drop, NOT_PRIMARY or NO_QUORUM. */
  resends: number;
  /** Where it was sent; undefined while queued or parked. */
  conn: Connection | undefined;
  readonly timer: NodeJS.Timeout;
  /** While parked after NO_QUORUM: the timer that sends it again. */
  parked: NodeJS.Timeout | undefined;
  /** The NO_QUORUM answer it is waiting out: what it fails with if its time runs out meanwhile. */
  lastRefusal: DpnsError | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: DpnsError) => void;
}

/**
 * The frame of `p` as sent on `conn`. The request id goes only to servers whose hello carries
 * `cluster`: a server from before backup mode refuses params it does not know.
 */
export function frameFor(p: PendingRequest, conn: Connection | undefined): string {
  const params = p.requestId !== undefined && conn?.hello.cluster !== undefined && isObject(p.params)
    ? { ...p.params, requestId: p.requestId }
    : p.params;
  return JSON.stringify({ jsonrpc: '2.0', id: p.id, method: p.method, params });
}

/**
 * Whether a request in flight on `conn` when it dropped is sent again on the next connection.
 * A server in backup mode remembers the request ids it applied, so there a write is resent as
 * safely as a read, for as long as its timeout allows. A server from before backup mode would
 * apply a write twice: there a write fails with CONNECTION_LOST and a read is resent once.
 */
export function resendAfterDrop(p: PendingRequest, conn: Connection): boolean {
  if (p.pinned !== undefined) return false;
  if (conn.hello.cluster !== undefined) return isRead(p.method) || p.requestId !== undefined;
  return isRead(p.method) && p.resends === 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class RequestTable {
  /** Waiting for a connection, in call order. */
  #queue: PendingRequest[] = [];
  readonly #inFlight = new Map<number, PendingRequest>();
  readonly #parked = new Set<PendingRequest>();

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
    return p;
  }

  /** Holds `p` for `ms`, then hands it to `wake` (unless it settled meanwhile). */
  park(p: PendingRequest, ms: number, wake: (p: PendingRequest) => void): void {
    p.conn = undefined;
    this.#parked.add(p);
    p.parked = setTimeout(() => {
      p.parked = undefined;
      if (this.#parked.delete(p)) wake(p);
    }, ms);
  }

  /** Removes a request wherever it is (timeout); returns false when it already settled. */
  remove(p: PendingRequest): boolean {
    if (this.#inFlight.get(p.id) === p) {
      this.#inFlight.delete(p.id);
      return true;
    }
    if (this.#parked.delete(p)) {
      clearTimeout(p.parked);
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

  /** Rejects every request, queued, parked or in flight (the client is closing). */
  rejectAll(err: (p: PendingRequest) => DpnsError): void {
    const all = [...this.#queue, ...this.#parked, ...this.#inFlight.values()];
    this.#queue = [];
    this.#parked.clear();
    this.#inFlight.clear();
    for (const p of all) settle(p).reject(err(p));
  }

  /** Rejects the queued requests only (the first connection could not be made). */
  rejectQueued(err: DpnsError): void {
    for (const p of this.drainQueue()) settle(p).reject(err);
  }
}

/** Stops the timers of a request that is about to be settled; returns it for chaining. */
export function settle(p: PendingRequest): PendingRequest {
  clearTimeout(p.timer);
  clearTimeout(p.parked);
  p.parked = undefined;
  return p;
}
