// Name server addresses as operators write them ("host:port") turned into WebSocket URLs.
import { DEFAULT_PORT, DpnsError } from '@dpns/protocol';
import { formatHostPort } from '@dpns/node-kit';

/** One name server the client may dial. */
export interface Endpoint {
  /** As the operator wrote it, normalised to HOST:PORT; used in messages. */
  label: string;
  url: string;
}

/**
 * Parses "host:port", "host" (default port), "[v6]:port" or a full ws:// / wss:// URL.
 * Throws INVALID_PARAMS naming the value when it is none of these.
 */
export function parseEndpoint(raw: string): Endpoint {
  const s = raw.trim();
  const fail = (why: string): never => {
    throw new DpnsError('INVALID_PARAMS', `server ${JSON.stringify(raw)}: ${why}`, { details: { field: 'servers' } });
  };
  if (s === '') fail('expected HOST:PORT, got an empty string');
  if (/^wss?:\/\//i.test(s)) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return fail('not a valid URL');
    }
    const port = u.port === '' ? String(DEFAULT_PORT) : u.port;
    return { label: `${u.hostname}:${port}`, url: s };
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(s);
  if (v6 !== null) {
    host = v6[1] as string;
    portText = v6[2];
  } else {
    const at = s.lastIndexOf(':');
    if (at !== -1 && s.indexOf(':') !== at) fail('an IPv6 address must be written in brackets, like [::1]:7700');
    host = at === -1 ? s : s.slice(0, at);
    portText = at === -1 ? undefined : s.slice(at + 1);
  }
  if (host === '' || !/^[A-Za-z0-9.:-]+$/.test(host)) fail('expected HOST:PORT with a host name or IP address');
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!/^\d{1,5}$/.test(portText ?? '0') || !Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`the port must be an integer from 1 to 65535, got ${JSON.stringify(portText)}`);
  }
  const label = formatHostPort(host, port);
  return { label, url: `ws://${label}` };
}
