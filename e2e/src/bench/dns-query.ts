// One DNS question over UDP from a chosen loopback source address, for the launch scenario: a
// query that launches a service is one question whose answer may take a while, and each round
// asks from its own 127.x address so the name server's per-source launch allowance (20 at once,
// 60 a minute, the same as a WebSocket client's) does not throttle a benchmark of 50 launches.
import { createSocket } from 'node:dgram';
import * as packet from 'dns-packet';

/** The SRV answer: port, and the address from the additional section. */
export interface SrvAnswer {
  port: number;
  address: string | undefined;
}

/** Asks `name` SRV of 127.0.0.1:`port` from `source`; rejects on a timeout or an answer without an SRV. */
export function querySrv(port: number, name: string, source: string, timeoutMs = 5000): Promise<SrvAnswer> {
  const sock = createSocket('udp4');
  return new Promise<SrvAnswer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no DNS answer for ${name} within ${timeoutMs} ms`)), timeoutMs);
    const id = Math.floor(Math.random() * 0x10000);
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('message', (m) => {
      const a = packet.decode(m);
      if (a.id !== id) return;
      clearTimeout(timer);
      const srv = (a.answers ?? []).find((r) => r.type === 'SRV');
      if (srv?.type !== 'SRV') {
        reject(new Error(`DNS answered ${name} ${(a as { rcode?: string }).rcode ?? '?'} with no SRV`));
        return;
      }
      const addr = (a.additionals ?? []).find((r) => r.type === 'A');
      resolve({ port: srv.data.port, address: addr?.type === 'A' ? addr.data : undefined });
    });
    sock.bind(0, source, () => {
      sock.send(packet.encode({ type: 'query', id, flags: 0, questions: [{ name, type: 'SRV', class: 'IN' }] }), port, '127.0.0.1');
    });
  }).finally(() => sock.close());
}
