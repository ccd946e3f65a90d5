// Free TCP ports on loopback, for processes that must be told their port before they start
// (agents, cluster members, etcd). Another process could take one in between; tests accept that.
import { createServer } from 'node:net';

/** `n` distinct loopback ports that were free a moment ago (held open together, so no two are the same). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  const ports = await Promise.all(servers.map((s) => new Promise<number>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    });
  })));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One free port. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}
