// etcd's v3 JSON gateway over HTTP/1.1 keep-alive: the same kind of hand-made client as the
// WebSocket one, with no gRPC dependency. `maxSockets` is the number of connections.
import { Agent, request } from 'node:http';

export class EtcdHttp {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(url: string, connections: number) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  /** Base64, as the gateway wants keys and values. */
  static b64(s: string): string {
    return Buffer.from(s).toString('base64');
  }

  /** POSTs `body` as JSON; `done` gets the parsed answer, or undefined on any failure. */
  post(path: string, body: unknown, onDone: (res: Record<string, unknown> | undefined) => void): void {
    let settled = false;
    const done = (res: Record<string, unknown> | undefined): void => {
      if (settled) return;
      settled = true;
      onDone(res);
    };
    const payload = JSON.stringify(body);
    const req = request({
      host: this.host, port: this.port, method: 'POST', path, agent: this.agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return done(undefined);
        try {
          done(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        } catch {
          done(undefined);
        }
      });
      res.on('error', () => done(undefined));
    });
    req.on('error', () => done(undefined));
    req.end(payload);
  }

  close(): void {
    this.agent.destroy();
  }
}
