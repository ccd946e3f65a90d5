// The load shapes every scenario is built from, over JSON-RPC connections: a timed closed
// loop (throughput and latency), and a bulk load of a fixed number of requests.
import type { ResponseMessage } from '@dpns/protocol';
import { isAborting } from './lifecycle.js';
import { closedLoop, type Issue, type LoadResult } from './loadgen.js';
import type { BenchConfig } from './args.js';
import type { RpcConn } from './rpc-conn.js';

/** The method and params of request number `seq`. */
export type MakeRequest = (seq: number) => [method: string, params: unknown];

export interface ShapeResult extends LoadResult {
  /** The first error answer seen, to say what went wrong. */
  firstError: string | undefined;
}

/** An `Issue` that sends `make(seq)` on connection `slot % conns.length`; error answers go to `onError`. */
export function rpcIssue(conns: readonly RpcConn[], make: MakeRequest, onError: (msg: ResponseMessage) => void): Issue {
  return (slot, seq, done) => {
    const conn = conns[slot % conns.length] as RpcConn;
    const [method, params] = make(seq);
    conn.request(method, params, (msg) => {
      const ok = !('error' in msg);
      if (!ok) onError(msg);
      done(ok);
    });
  };
}

/** `inFlight` requests over `conns` for the configured warm-up and duration. */
export async function rpcLoop(conns: readonly RpcConn[], inFlight: number, cfg: BenchConfig, make: MakeRequest, serverPid?: number): Promise<ShapeResult> {
  let firstError: string | undefined;
  const res = await closedLoop({
    inFlight,
    serverPid,
    warmupMs: cfg.warmupMs,
    durationMs: cfg.durationMs,
    issue: rpcIssue(conns, make, (msg) => {
      firstError ??= describeError(msg);
    }),
  });
  return { ...res, firstError };
}

/** Sends `count` requests, `inFlight` at a time over `conns`; resolves when all are answered. */
export function rpcBulk(conns: readonly RpcConn[], inFlight: number, count: number, make: MakeRequest): Promise<{ errors: number; firstError: string | undefined; elapsedMs: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let next = 0;
    let answered = 0;
    let errors = 0;
    let firstError: string | undefined;
    const send = (slot: number): void => {
      if (next >= count || isAborting()) return;
      const seq = next++;
      const [method, params] = make(seq);
      (conns[slot % conns.length] as RpcConn).request(method, params, (msg) => {
        if ('error' in msg) {
          errors++;
          firstError ??= describeError(msg);
        }
        if (++answered === count) resolve({ errors, firstError, elapsedMs: performance.now() - started });
        else send(slot);
      });
    };
    if (count === 0) resolve({ errors: 0, firstError: undefined, elapsedMs: 0 });
    for (let s = 0; s < Math.min(inFlight, count); s++) send(s);
  });
}

export function describeError(msg: ResponseMessage): string {
  if (!('error' in msg)) return 'no error';
  return `${msg.error.data?.code ?? msg.error.code}: ${msg.error.message}`;
}

/** A uniformly random integer in [0, n). */
export function randInt(n: number): number {
  return Math.floor(Math.random() * n);
}
