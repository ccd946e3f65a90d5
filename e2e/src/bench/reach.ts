// "Reachable" as a client sees it: a TCP connection to the address, one line sent, the same
// line back. Used for both sides of the launch scenario, so they end at the same event.
import { connect } from 'node:net';

/** Loopback only: the benchmark sends no traffic anywhere else, whatever an answer says. */
const LOOPBACK = '127.0.0.1';

/** Connects to `host:port`, sends `line`, and resolves once it has come back; rejects on anything else. */
export function reachEcho(host: string, port: number, line: string, timeoutMs = 5_000): Promise<void> {
  if (host !== LOOPBACK) return Promise.reject(new Error(`refusing to connect to ${host}:${port}: the benchmark only talks to ${LOOPBACK}`));
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, noDelay: true });
    let got = '';
    let settled = false;
    const done = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const timer = setTimeout(() => done(new Error(`${host}:${port} did not echo within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('error', (e) => done(new Error(`cannot reach ${host}:${port}: ${e.message}`)));
    sock.on('close', () => done(new Error(`${host}:${port} closed before echoing (got ${JSON.stringify(got)})`)));
    sock.on('data', (chunk: string) => {
      got += chunk;
      const nl = got.indexOf('\n');
      if (nl < 0) return;
      const back = got.slice(0, nl);
      done(back === line ? undefined : new Error(`${host}:${port} echoed ${JSON.stringify(back)}, not ${JSON.stringify(line)}`));
    });
    sock.once('connect', () => sock.write(`${line}\n`));
  });
}
