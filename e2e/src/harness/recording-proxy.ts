// A TCP proxy that keeps every byte it carries, both ways, so a test can put it on a link (client
// ↔ name server, name server ↔ agent, member ↔ member) and read afterwards what really crossed.
// It listens on loopback, opens one connection to the target for each one it accepts, and
// forwards without looking: half-closes and resets are passed on, so the ends see what they would
// see without it. `close()` cuts every connection and is safe to call twice.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface StartRecordingProxyOptions {
  /** Where each accepted connection is forwarded. */
  target: ProxyTarget;
  /** Loopback address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port to listen on; default 0 (any free one). */
  port?: number;
}

/** One proxied connection: its chunks in arrival order, each way. */
export interface RecordedConnection {
  /** 1, 2, … in the order the proxy accepted them. */
  readonly id: number;
  /** Bytes from the dialing side to the target. */
  readonly toTarget: Buffer[];
  /** Bytes from the target back to the dialing side. */
  readonly fromTarget: Buffer[];
}

export interface RecordingProxy {
  /** `HOST:PORT` to dial instead of the target. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Every connection so far, open or closed, in the order accepted. */
  readonly connections: readonly RecordedConnection[];
  /** Stops listening and cuts every open connection; safe to call twice. */
  close(): Promise<void>;
}

/** Starts a proxy to `target` and resolves once it listens. */
export async function startRecordingProxy(opts: StartRecordingProxyOptions): Promise<RecordingProxy> {
  const host = opts.host ?? '127.0.0.1';
  const connections: RecordedConnection[] = [];
  const open = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (inbound) => {
    const rec: RecordedConnection = { id: connections.length + 1, toTarget: [], fromTarget: [] };
    connections.push(rec);
    const outbound = connect({ host: opts.target.host, port: opts.target.port, allowHalfOpen: true });
    splice(inbound, outbound, rec.toTarget, open);
    splice(outbound, inbound, rec.fromTarget, open);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => { /* after listening, only accept failures: the dialer sees them */ });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  let closing: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    host,
    port,
    connections,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      });
      return closing;
    },
  };
}

/** Copies `from` into `to`, keeping a copy of each chunk; an end or a reset on one side is passed on. */
function splice(from: Socket, to: Socket, kept: Buffer[], open: Set<Socket>): void {
  open.add(from);
  from.on('data', (chunk: Buffer) => {
    kept.push(Buffer.from(chunk));
    // Backpressure: a slow reader slows the writer, as it would without the proxy.
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
  // A reset or a refused dial on one side resets the other: the proxy adds no state of its own.
  from.on('error', () => to.destroy());
  from.on('close', () => {
    open.delete(from);
    if (!to.writableEnded) to.end();
  });
}
