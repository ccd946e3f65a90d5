// One round of dialing: each name server at most once, in order, starting where the last round
// left off, until one answers that will do (the primary, or with read-from-backups a backup that
// serves reads). A server that says it is not the primary is closed at once, and the primary it
// names is tried next when that is a member of the cluster. A failed round is one CONNECTION_LOST
// naming every server tried and why it would not do, which is the line an operator sees:
// "cannot reach any name server (tried a:7700: ECONNREFUSED)". The ordered round serves reads
// connections and `servers` asked of any member; a channel that holds the primary, and its probe
// of a silent primary, dial every member at once instead (primary-race.ts).
import { DpnsError, type HelloParams } from '@dpns/protocol';
import { Connection, type ConnectionHandlers, type DialOptions } from './connection.js';
import type { Endpoint } from './endpoints.js';
import type { ServerList } from './server-list.js';

/**
 * Which servers a channel keeps a connection to: the primary, one that serves reads (the primary
 * or a backup that says so), or any server at all, the primary by preference (to ask a cluster
 * about itself, even while it has no primary).
 */
export type Serves = 'primary' | 'reads' | 'any';

/**
 * Whether a server greeting with `hello` will do. A server without `cluster` in its hello
 * predates backup mode and is a primary by definition.
 */
export function accepts(serves: Serves, hello: HelloParams): boolean {
  const c = hello.cluster;
  if (c === undefined || c.role === 'primary') return true;
  // A candidate follows no primary, so how stale it is has no bound: never read from one.
  return serves === 'reads' && c.role === 'backup' && c.readFromBackups;
}

/**
 * Dials servers from `start` (after `first`, when given) until one is accepted. Members learned
 * from hellos join `servers` and are tried in the same round.
 */
export async function dialRound(
  servers: ServerList,
  start: number,
  first: Endpoint | undefined,
  serves: Serves,
  opts: DialOptions,
  handlers: ConnectionHandlers,
): Promise<Connection> {
  const tried: string[] = [];
  const done = new Set<string>();
  /** With `any`: the first server that answered, kept open in case no primary answers. */
  let fallback: Connection | undefined;
  let answered = false;
  const next: Endpoint[] = first === undefined ? [] : [first];
  let k = 0;
  for (;;) {
    let endpoint = next.shift();
    if (endpoint === undefined) {
      if (k >= servers.length) break;
      endpoint = servers.at(start + k++);
    }
    if (done.has(endpoint.url)) continue;
    done.add(endpoint.url);
    let conn: Connection;
    try {
      conn = await Connection.open(endpoint, opts, handlers);
    } catch (err) {
      tried.push(`${endpoint.label}: ${err instanceof Error ? err.message : String(err)}`);
      if (opts.signal?.aborted === true) break;
      continue;
    }
    answered = true;
    const cluster = conn.hello.cluster;
    if (cluster !== undefined) servers.learn(cluster);
    if (accepts(serves, conn.hello)) {
      void fallback?.close();
      return conn;
    }
    if (serves === 'any' && fallback === undefined) fallback = conn;
    else void conn.close();
    const primary = cluster?.primary === undefined ? undefined : servers.find(cluster.primary);
    tried.push(`${endpoint.label}: ${cluster?.role ?? 'not the primary'}${primary === undefined ? ', no primary known' : `, primary ${primary.label}`}`);
    if (primary !== undefined) next.unshift(primary);
  }
  if (fallback !== undefined) return fallback;
  const message = answered
    ? `no primary name server found (tried ${tried.join(', ')})`
    : `cannot reach any name server (tried ${tried.join(', ')})`;
  // `answered`: some server is up, so the cluster is likely between primaries rather than gone.
  throw new DpnsError('CONNECTION_LOST', message, { details: { tried, answered } });
}
