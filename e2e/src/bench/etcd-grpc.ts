// etcd's own wire for the throughput shapes: its v3 gRPC API through the `etcd3` client (on
// @grpc/grpc-js), one client per connection, so that "64 in flight over 8 connections" means for
// etcd what it means for dpns: 8 HTTP/2 connections with 8 requests multiplexed on each (the JSON
// gateway over HTTP/1.1, used before, put only one request per connection on the wire). The
// client's retries and circuit breaker are off: a failed request counts as an error, as it does
// in the dpns generator, instead of coming back later as a slow success.
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { onCleanup } from './lifecycle.js';

/**
 * etcd's two kinds of read. `serializable`: the member answers from its own store, as a dpns
 * server answers `findServices` from its registry. `linearizable` (etcd's default): the member
 * first confirms with the raft leader (ReadIndex) that its store is current.
 */
export type EtcdRead = 'serializable' | 'linearizable';

/** `connections` etcd3 clients on one member; request `slot` goes to client `slot % connections`. */
export class EtcdGrpc {
  private readonly clients: Etcd3[];
  private readonly forget: () => void;
  private closed = false;

  constructor(url: string, connections: number) {
    this.clients = Array.from({ length: connections }, () => new Etcd3({
      hosts: url,
      // Channels to one target share a single connection in grpc-js unless each has its own pool.
      grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
      faultHandling: { host: () => noop, global: noop },
    }));
    this.forget = onCleanup(() => Promise.resolve(this.close()));
  }

  /** Reads `key`; `done(true)` once the answer holds it. */
  get(slot: number, key: string, read: EtcdRead, done: (ok: boolean) => void): void {
    this.client(slot).get(key).serializable(read === 'serializable').exec().then(
      (res) => done(res.kvs.length === 1),
      () => done(false),
    );
  }

  /** Puts `key`; `done(true)` once etcd acknowledged it (committed by raft, in its fsynced log). */
  put(slot: number, key: string, value: string, done: (ok: boolean) => void): void {
    this.client(slot).put(key).value(value).exec().then(() => done(true), () => done(false));
  }

  /** Closes every channel; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    for (const c of this.clients) c.close();
  }

  private client(slot: number): Etcd3 {
    return this.clients[slot % this.clients.length] as Etcd3;
  }
}
