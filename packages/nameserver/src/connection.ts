// One client connection: who it has proved to be, what it watches and advertises.
import type { WebSocket } from 'ws';
import { randomHex } from '@dpns/protocol';
import type { HeartbeatTarget } from './heartbeat.js';
import type { WatchSink } from './watch-hub.js';
import { launchBucket, TokenBucket } from './rate-limit.js';
import { corkable } from './cork.js';
import { sendTextFrame } from './text-frame.js';

export type ConnectionState = 'open' | 'closed';

/** A peer that stops reading is cut off once this much is queued for it. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/** The reasons the server ends a client connection on its own. */
export type ServerCloseReason = 'heartbeat' | 'slow_consumer' | 'too_many' | 'too_many_from_address' | 'not_primary' | 'history_changed' | 'login_failures' | 'unfinished_input';

export class Connection implements WatchSink, HeartbeatTarget {
  readonly nonce = randomHex(32);
  admin = false;
  /** Wrong admin proofs sent so far (login-guard.ts). */
  loginFailures = 0;
  /** The Ed25519 public key this connection proved with `identify`. */
  owner: string | undefined;
  /** The owner key asked for no reservation of its names (identify `reserve: false`). */
  ephemeralOwner = false;
  readonly watches = new Set<string>();
  /** Names whose advertisements this connection keeps alive. */
  readonly advertised = new Set<string>();
  state: ConnectionState = 'open';
  /** Launch requests this connection may still make (find of a stopped service counts too). */
  readonly launches = launchBucket();
  /** reportLoad calls per service name: bursts of 10, then 10 a second. */
  private readonly loadReports = new Map<string, TokenBucket>();
  /** Why the connection ended, for the `lost` reason of what it advertised. */
  endReason = 'its connection closed';
  /** Why the server itself ended this connection, for its log line and /metrics; unset when the peer did. */
  closedBy: ServerCloseReason | undefined;
  /** Output still queued for the peer when the server closed it (a ping can wait behind it). */
  queuedAtClose = 0;
  /** Bytes of watch events the hub holds for this peer, not yet handed to its socket (WatchSink.held). */
  private watchBacklog = 0;

  /** Requests this server sent the peer (ticket challenges), by id. */
  private readonly asked = new Map<string, { resolve(m: Record<string, unknown>): void; timer: NodeJS.Timeout }>();
  private nextAsk = 1;
  /** The peer's address without its port: what per-address quotas count under. */
  readonly address: string;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    /** `address:port` of the peer. */
    readonly remote: string,
  ) {
    this.address = remote.slice(0, Math.max(0, remote.lastIndexOf(':')));
  }

  /** Spends one load report for `name`; false when this connection reports it too often. */
  takeLoadReport(name: string): boolean {
    let bucket = this.loadReports.get(name);
    if (bucket === undefined) {
      bucket = new TokenBucket(10, 600);
      this.loadReports.set(name, bucket);
    }
    return bucket.take();
  }

  send(msg: unknown): void {
    this.sendRaw(JSON.stringify(msg));
  }

  sendRaw(frame: string): void {
    this.sendJoined(frame);
  }

  sendJoined(head: string, tail?: Uint8Array): void {
    if (this.state !== 'open') return;
    // One limit for all a peer has not taken: its socket's queue and the watch events held for it.
    if (this.bufferedBytes() > MAX_BUFFERED_BYTES) {
      this.cutSlow();
      return;
    }
    sendTextFrame(this.ws, head, tail);
  }

  /** Ends a peer that does not read what is queued for it. */
  private cutSlow(): void {
    this.endReason = 'it stopped reading (more than 32 MiB queued)';
    this.closedBy = 'slow_consumer';
    this.ws.close(1008, 'slow consumer: too much queued');
    this.ws.terminate();
  }

  /** Sends the peer a request and resolves with its response object, or rejects on timeout or close. */
  request(method: string, params: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = `s${this.nextAsk++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.asked.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.asked.set(id, { resolve, timer });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** A response frame from the peer: true when it answered one of our requests. */
  answered(msg: Record<string, unknown>): boolean {
    const a = typeof msg.id === 'string' ? this.asked.get(msg.id) : undefined;
    if (a === undefined) return false;
    clearTimeout(a.timer);
    this.asked.delete(msg.id as string);
    a.resolve(msg);
    return true;
  }

  /** Fails our outstanding requests; called when the connection ends. */
  dropAsked(): void {
    for (const [, a] of this.asked) {
      clearTimeout(a.timer);
      a.resolve({ error: { code: -32000, message: 'connection closed' } });
    }
    this.asked.clear();
  }

  cork(): void {
    corkable(this.ws)?.cork();
  }

  uncork(): void {
    corkable(this.ws)?.uncork();
  }

  ping(): void {
    if (this.state === 'open') this.ws.ping();
  }

  /** Output queued for this peer and not yet written, watch events the hub holds for it included. */
  bufferedBytes(): number {
    return this.ws.bufferedAmount + this.watchBacklog;
  }

  held(delta: number): void {
    this.watchBacklog += delta;
    if (delta > 0 && this.open && this.bufferedBytes() > MAX_BUFFERED_BYTES) this.cutSlow();
  }

  /** Open, and not being ended by the server. */
  get open(): boolean {
    return this.state === 'open' && this.closedBy === undefined;
  }

  /** Ends the connection because all queues together hold too much (socket-guard.ts): this one is the largest. */
  cutForMemory(): void {
    this.endReason = 'it stopped reading while the server\'s output queues were full';
    this.closedBy = 'slow_consumer';
    this.ws.close(1008, 'slow consumer: too much queued');
    this.ws.terminate();
  }

  /** Ends the connection because all unfinished messages together hold too much (socket-guard.ts): this one holds the most. */
  cutForUnfinishedInput(): void {
    this.endReason = 'it held the most unfinished input while all unfinished messages together were over the limit';
    this.closedBy = 'unfinished_input';
    this.ws.close(1008, 'too much unfinished input on this server; send smaller messages');
    this.ws.terminate();
  }

  /** Ends the connection of a peer that sent too many wrong admin proofs. */
  endForLoginFailures(): void {
    this.endReason = 'it sent too many wrong admin credentials';
    this.closedBy = 'login_failures';
    this.ws.close(4003, 'too many wrong admin credentials');
  }

  dead(): void {
    this.endReason = 'it stopped answering heartbeats';
    this.closedBy = 'heartbeat';
    this.queuedAtClose = this.ws.bufferedAmount;
    this.ws.terminate();
  }
}
