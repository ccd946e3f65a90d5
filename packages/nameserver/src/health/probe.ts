// One health probe of one address: a TCP connect, or an HTTP GET whose status says healthy
// (2xx, 3xx) or not. Bounded: one timeout covers the connect and the answer, redirects are not
// followed (a 3xx is an answer, and its Location is never dialled), the response's headers are
// capped and its body is not read.
import { request } from 'node:http';
import { connect } from 'node:net';
import { formatHostPort } from '@dpns/node-kit';
import type { HealthCheck } from '@dpns/protocol';

/** What one probe found: a failure says what, in words a person can act on. */
export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** Largest response head an HTTP check reads; past it the probe fails (node's own default is 16 KiB). */
export const MAX_HEADER_BYTES = 4096;

/** Probes `host:port` as `check` says, within `check.timeoutMs`. Never rejects. */
export function probe(host: string, port: number, check: HealthCheck): Promise<ProbeResult> {
  return check.kind === 'tcp' ? probeTcp(host, port, check.timeoutMs) : probeHttp(host, port, check.path ?? '/', check.timeoutMs);
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const where = `tcp connect ${formatHostPort(host, port)}`;
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, reason: `${where}: no answer within ${timeoutMs} ms` }), timeoutMs);
    sock.once('connect', () => done({ ok: true }));
    sock.on('error', (err) => done({ ok: false, reason: `${where}: ${errorText(err)}` }));
  });
}

function probeHttp(host: string, port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  const url = `http://${formatHostPort(host, port)}${path}`;
  const where = `http GET ${url}`;
  return new Promise((resolve) => {
    let settled = false;
    const req = request({
      host, port, path, method: 'GET', agent: false, maxHeaderSize: MAX_HEADER_BYTES,
      headers: { 'user-agent': 'dpns-health-check', connection: 'close', accept: '*/*' },
    });
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, reason: `${where}: no answer within ${timeoutMs} ms` }), timeoutMs);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // The body is never read: the status is the verdict, and the socket is closed now.
      res.on('error', () => undefined);
      done(status >= 200 && status < 400 ? { ok: true } : { ok: false, reason: `${where}: status ${status}` });
    });
    req.on('error', (err) => done({ ok: false, reason: `${where}: ${errorText(err)}` }));
    req.end();
  });
}
