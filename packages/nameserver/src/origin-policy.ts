// Which web pages may open a WebSocket to this server. A browser lets any page open a WebSocket
// to any address and sends the operator's network position along (the server on 127.0.0.1 or on
// the LAN is reachable from the browser even when not from the page's own site); the `Origin`
// header is the only thing that says which page asks. So a browser connection is accepted only
// from the monitor page this server serves (its own origin) or from origins the operator listed
// (--allowed-origins). Programs that are not browsers send no Origin and are not affected: the
// CLI, the client library, services, cluster members.
import type { IncomingMessage } from 'node:http';
import { ConfigError } from '@dpns/node-kit';

export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  /** `allowed`: origins as `normalizeOrigin` gives them. */
  constructor(allowed: readonly string[] = []) {
    this.allowed = new Set(allowed);
  }

  /** Why the upgrade `req` must be refused, or undefined when it may proceed. */
  refusal(req: Pick<IncomingMessage, 'headers'>): string | undefined {
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    if (this.allowed.has(origin.toLowerCase()) || isOwnOrigin(origin, req.headers.host)) return undefined;
    return `origin ${JSON.stringify(origin.slice(0, 200))} may not open a WebSocket to this name server: only the monitor page it serves itself, ` +
      'or an origin listed with --allowed-origins (config "allowedOrigins", env DPNS_ALLOWED_ORIGINS)';
  }
}

/**
 * The monitor page served by this server: the very host and port the browser sent in `Host` (the
 * address it connected to), over http, or https when a TLS proxy in front of it keeps `Host`
 * (only whoever answers on that address can serve a page of that origin).
 */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  let o: URL;
  let h: URL;
  try {
    o = new URL(origin);
    h = new URL(`http://${host}`);
  } catch {
    return false;
  }
  // URL drops a default port (":80"), so "http://h" and Host "h:80" compare equal.
  return (o.protocol === 'http:' || o.protocol === 'https:') && o.origin === origin.toLowerCase() && o.host === h.host;
}

/**
 * An origin as a setting gives it ("http://ops.example:8080"): scheme, host and port only, in the
 * form browsers send (lowercase, default port dropped). "null" (sandboxed frames, file: pages)
 * is refused: any page can make itself "null".
 */
export function normalizeOrigin(s: string, at: string): string {
  let u: URL;
  try {
    u = new URL(s.trim());
  } catch {
    throw new ConfigError(`${at}: expected an origin like http://ops.example:8080, got ${JSON.stringify(s)}`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '' || u.pathname !== '/') {
    throw new ConfigError(`${at}: expected an origin (http:// or https://, a host, an optional port, nothing after), got ${JSON.stringify(s)}`);
  }
  return u.origin;
}

/** A list of origins from a config array, or a comma-separated string (flags, the environment). */
export function originList(v: unknown, at: string): string[] {
  const items = Array.isArray(v) ? v : String(v).split(',');
  return items
    .map((x) => String(x).trim())
    .filter((x) => x !== '')
    .map((x, i) => normalizeOrigin(x, `${at}[${i}]`));
}
