// etcd's v3 JSON gateway over HTTP/1.1, for what is not a throughput shape: readiness probes, the
// leader lookups and key listings of the failover scenarios, and their sequential writers (one
// request at a time each, so HTTP/1.1 costs them nothing in flight). The throughput shapes speak
// gRPC (etcd-grpc.ts).
import { request, type Agent } from 'node:http';

/** Base64, as the gateway wants keys and values. */
export function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

/** POSTs JSON to the gateway with a timeout; the parsed answer, or undefined on any failure. */
export function etcdPost(url: string, path: string, body: unknown, timeoutMs: number, agent?: Agent): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const payload = JSON.stringify(body);
    const req = request({
      host: u.hostname, port: Number(u.port), method: 'POST', path, ...(agent === undefined ? {} : { agent }), timeout: timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(undefined);
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    // `timeout` only reports idleness; the request must be torn down here (a put waiting for a leader hangs).
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end(payload);
  });
}
