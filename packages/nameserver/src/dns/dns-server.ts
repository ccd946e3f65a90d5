// The DNS port: UDP and TCP on one HOST:PORT, each message handed to the responder. TCP is
// bounded in connections, idle time, message size and questions in flight; a peer past a bound
// is cut off. UDP is bounded in queries in flight over all sources: past that they are answered
// SERVFAIL at once (dns-responder.ts). States: idle → running → closed; close() is safe to call twice.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { MAX_QUERY_BYTES, type DnsResponder } from './dns-responder.js';

export interface DnsServerOptions {
  host: string;
  /** 0 picks a free port, the same for UDP and TCP. */
  port: number;
  maxTcpConnections: number;
  /** UDP queries received and not yet answered (their answer not yet handed to the kernel), over all sources. */
  maxUdpInFlight: number;
  tcpIdleMs: number;
  responder: DnsResponder;
  log: Logger;
}

/** Questions one TCP connection may have waiting for answers (launches) at once. */
export const MAX_TCP_IN_FLIGHT = 16;
/** Answers queued for a TCP peer that does not read them; past this it is cut off. */
export const MAX_TCP_QUEUED_BYTES = 1024 * 1024;
/** Tries at a port free for both UDP and TCP when asked for port 0. */
const BIND_TRIES = 10;

export class DnsServer {
  state: 'idle' | 'running' | 'closed' = 'idle';
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly conns = new Set<Socket>();
  private udpQueries = 0;

  constructor(private readonly o: DnsServerOptions) {}

  /** UDP queries being answered now (those answered SERVFAIL for being past the bound not counted). */
  get udpInFlight(): number {
    return this.udpQueries;
  }

  /** The port both transports listen on. */
  get port(): number {
    const a = this.udp?.address();
    return a === undefined ? this.o.port : a.port;
  }

  async start(): Promise<void> {
    for (let tries = 1; ; tries++) {
      const tcp = await this.listenTcp(this.o.port);
      const port = (tcp.address() as { port: number }).port;
      try {
        this.udp = await this.bindUdp(port);
        this.tcp = tcp;
        break;
      } catch (err) {
        await new Promise((r) => tcp.close(r));
        // Port 0 gave a TCP port whose UDP twin is taken: try another.
        if (this.o.port !== 0 || tries >= BIND_TRIES || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    this.state = 'running';
  }

  private listenTcp(port: number): Promise<Server> {
    const server = createServer({ pauseOnConnect: false }, (sock) => this.accept(sock));
    server.maxConnections = this.o.maxTcpConnections;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.o.host, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.o.log.warn('DNS TCP listener error', { err }));
        resolve(server);
      });
    });
  }

  private bindUdp(port: number): Promise<UdpSocket> {
    const sock = createSocket({ type: isIP(this.o.host) === 6 ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: this.o.host, port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.o.log.warn('DNS UDP socket error', { err }));
        sock.on('message', (msg, rinfo) => {
          // Past the bound a query is not counted: its SERVFAIL goes at once, and the global
          // query rate bounds how many such answers there are.
          const overloaded = this.udpQueries >= this.o.maxUdpInFlight;
          if (!overloaded) this.udpQueries++;
          const done = (): void => {
            if (!overloaded) this.udpQueries--;
          };
          void this.o.responder.respond(msg, rinfo.address, 'udp', overloaded).then((out) => {
            if (out !== undefined && this.state === 'running') sock.send(out, rinfo.port, rinfo.address, done);
            else done();
          });
        });
        resolve(sock);
      });
    });
  }

  /** One TCP peer: two-byte length, message, as often as it likes within the bounds. */
  private accept(sock: Socket): void {
    if (this.state !== 'running') {
      sock.destroy();
      return;
    }
    this.conns.add(sock);
    const address = sock.remoteAddress ?? '?';
    let buf: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    sock.setTimeout(this.o.tcpIdleMs, () => sock.destroy());
    sock.on('error', () => undefined);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        // A length no query needs: the peer is not speaking DNS to us.
        if (len > MAX_QUERY_BYTES || len < 12) {
          sock.destroy();
          return;
        }
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (++inFlight > MAX_TCP_IN_FLIGHT) {
          sock.destroy();
          return;
        }
        void this.o.responder.respond(Buffer.from(msg), address, 'tcp').then((out) => {
          inFlight--;
          if (out === undefined || sock.destroyed) return;
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          sock.write(framed);
          if (sock.writableLength > MAX_TCP_QUEUED_BYTES) sock.destroy();
        });
      }
    });
  }

  /** Stops both transports and cuts every TCP peer. Safe to call twice. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    const udp = this.udp;
    await Promise.all([
      udp === undefined ? undefined : new Promise<void>((r) => udp.close(() => r())),
      this.tcp === undefined ? undefined : new Promise<void>((r) => this.tcp?.close(() => r())),
    ]);
  }
}
