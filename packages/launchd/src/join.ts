// `dpns-launchd join`: enrolls this agent's identity with a name server using a join token. It
// opens one client connection, takes the nonce of the server's hello, and calls `agents.enroll`
// with an HMAC proof keyed by the token's secret and a signature by the identity: the secret
// itself is never sent. A backup answers NOT_PRIMARY naming the primary, which is tried next.
import { hostname } from 'node:os';
import { WebSocket } from 'ws';
import { enrollParams, parseJoinToken, DEFAULT_PORT, type Result } from '@dpns/protocol';
import { formatHostPort, parseHostPort } from '@dpns/node-kit';
import '@dpns/node-kit/use-native-crypto';
import type { SigningKey } from './wire.js';

export interface JoinOptions {
  /** `<id>.<secret>`, from `dpns agents join-token`. */
  token: string;
  /** Name server endpoints, host:port. */
  servers: string[];
  /** The host name the name servers will dial this agent by. */
  host?: string;
  identity: SigningKey;
  timeoutMs?: number;
}

/** Why a join failed: the name server's refusal (with its code) or no server could be asked. */
export class JoinError extends Error {
  override readonly name = 'JoinError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Enrolls the identity; resolves with the name server's answer. */
export async function join(o: JoinOptions): Promise<Result<'agents.enroll'>> {
  const { id, secret } = parseJoinToken(o.token);
  const host = o.host ?? hostname();
  const queue = o.servers.map((s) => { const hp = parseHostPort(s, 'server', DEFAULT_PORT); return `ws://${formatHostPort(hp.host, hp.port)}/`; });
  const tried = new Set<string>();
  let last: Error = new JoinError('UNAVAILABLE', 'no name server given: pass --server HOST:PORT');
  while (queue.length > 0) {
    const url = queue.shift() as string;
    if (tried.has(url)) continue;
    tried.add(url);
    try {
      return await enrollOnce(url, (nonce) => enrollParams({ secret, tokenId: id, host, nonce, identity: o.identity }), o.timeoutMs ?? 10_000);
    } catch (e) {
      last = e as Error;
      const primary = e instanceof Redirect ? e.primary : undefined;
      if (primary !== undefined) queue.unshift(primary);
      else if (e instanceof JoinError && e.code !== 'UNAVAILABLE') throw e;
    }
  }
  throw last;
}

class Redirect extends Error {
  constructor(readonly primary: string) {
    super(`not the primary; the primary is ${primary}`);
  }
}

function enrollOnce(url: string, params: (nonce: string) => Record<string, unknown>, timeoutMs: number): Promise<Result<'agents.enroll'>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let done = false;
    const finish = (err: Error | undefined, value?: Result<'agents.enroll'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.close();
      if (err !== undefined) reject(err);
      else resolve(value as Result<'agents.enroll'>);
    };
    const timer = setTimeout(() => finish(new JoinError('UNAVAILABLE', `${url} did not answer within ${timeoutMs} ms`)), timeoutMs);
    ws.on('error', (err) => finish(new JoinError('UNAVAILABLE', `cannot reach ${url}: ${err.message}`)));
    ws.on('close', () => finish(new JoinError('UNAVAILABLE', `${url} closed the connection without answering`)));
    ws.on('message', (data) => {
      let m: { method?: unknown; id?: unknown; params?: { nonce?: unknown }; result?: unknown; error?: { message?: unknown; data?: { code?: unknown; primary?: unknown } } };
      try {
        m = JSON.parse(String(data)) as typeof m;
      } catch {
        finish(new JoinError('BAD_RESPONSE', `${url} sent a frame that is not JSON`));
        return;
      }
      if (m.method === 'hello') {
        const nonce = m.params?.nonce;
        if (typeof nonce !== 'string' || !/^[0-9a-f]{64}$/.test(nonce)) {
          finish(new JoinError('BAD_RESPONSE', `${url} sent a hello without a nonce; is it a dpns name server?`));
          return;
        }
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agents.enroll', params: params(nonce) }));
      } else if (m.id === 1) {
        const err = m.error;
        if (err === undefined) {
          const r = m.result as Result<'agents.enroll'> | undefined;
          if (typeof r?.host !== 'string' || typeof r.fingerprint !== 'string') finish(new JoinError('BAD_RESPONSE', `${url} answered agents.enroll with an unexpected result`));
          else finish(undefined, r);
          return;
        }
        const code = typeof err.data?.code === 'string' ? err.data.code : 'INTERNAL';
        if (code === 'NOT_PRIMARY' && typeof err.data?.primary === 'string') finish(new Redirect(err.data.primary.replace(/\/?$/, '/')));
        else finish(new JoinError(code === 'NOT_PRIMARY' || code === 'NO_QUORUM' ? 'UNAVAILABLE' : code, `${url} refused the enrollment: ${String(err.message)}`));
      }
    });
  });
}
