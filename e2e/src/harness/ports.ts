// Free TCP ports on loopback, for processes that must be told their port before they start
// (agents, cluster members, etcd). They are picked below the kernel's range for ephemeral ports:
// every outgoing connection takes its local port from that range (cluster members dial each other
// as they start), and one could take a port picked there before its listener binds it (a member
// then exits at start: seen once in CI). Another test picking ports could still take one in
// between; tests accept that.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/** The lowest port the kernel hands out as an ephemeral one (Linux's default 32768 if unreadable). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

const LOW = ephemeralLow();
/**
 * Picked from [FIRST, LOW): below the ephemeral range, and above every port a browser refuses to
 * connect to (Chromium's list ends at 10080) and most that services use.
 */
const FIRST = LOW > 24_000 ? 20_000 : Math.max(1024, LOW - 2048);

function listenOn(s: Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => resolve(true));
  });
}

/** `n` distinct loopback ports that were free a moment ago (held open together, so no two are the same). */
export async function freePorts(n: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > 1000) throw new Error(`no ${n} free loopback ports in ${FIRST}..${LOW - 1}`);
      const port = FIRST + Math.floor(Math.random() * (LOW - FIRST));
      if (ports.includes(port)) continue;
      const s = createServer();
      if (await listenOn(s, port)) {
        held.push(s);
        ports.push(port);
      }
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
  return ports;
}

/** One free port. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}
