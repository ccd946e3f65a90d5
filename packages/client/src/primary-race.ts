// One round of dialing for the primary, every member at once: the first server whose hello says
// it is the primary wins, and the others are closed as they greet. A failover is a race against
// an election, and a round that dialed the members one after another cost the sum of their
// greetings (on a loaded host, tens of milliseconds each, with a candidate and the dead member
// tried first half the time); dialed together it costs the quickest primary's. Members learned
// from a hello, and the primary a hello names, join the round at once (the named primary even if
// it greeted this round as a candidate: it may have won since). A member whose hello says it
// `notifies` is not closed but held until the round ends: its `cluster` notification says the
// moment it wins, or which member did, so a round during an election ends with the election
// rather than with the next round's dial. A round with no primary fails as dial.ts's does (once
// no dial is pending and the held members have said nothing for HOLD_MS), with one
// CONNECTION_LOST naming each server and why it would not do.
// (Reads connections keep the ordered round of dial.ts: there the order spreads clients over
// the backups.)
import { DpnsError } from '@dpns/protocol';
import { Connection, type ConnectionHandlers, type DialOptions } from './connection.js';
import { accepts } from './dial.js';
import type { Endpoint } from './endpoints.js';
import type { ServerList } from './server-list.js';

/**
 * How long a round with no primary waits on the members it holds for one of them to say (in a
 * `cluster` notification) that it won or who did. Elections take tens of milliseconds; a member
 * that stays silent this long is on the side of a partition that elects no one, and the next
 * round (after round-pacing.ts's wait) dials everyone again.
 */
export const HOLD_MS = 1000;

/**
 * Dials every server on `servers` (`first`, then from `start`) at once, but `skip`; resolves with
 * the first primary.
 */
export function racePrimary(
  servers: ServerList,
  start: number,
  first: Endpoint | undefined,
  opts: DialOptions,
  handlers: ConnectionHandlers,
  skip?: Endpoint,
): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    /** Why each server dialed would not do, in the order they were dialed. */
    const outcome = new Map<string, string>();
    /**
     * The newest epoch in which some hello named each server the primary, the epoch each server
     * that greeted as no primary was in, and which were dialed a second time.
     */
    const namedPrimaryIn = new Map<string, number>();
    const notPrimaryIn = new Map<string, number>();
    const redialed = new Set<string>();
    /** Members that greeted as no primary and will say when that changes. */
    const held = new Set<Connection>();
    let holdTimer: NodeJS.Timeout | undefined;
    let pending = 0;
    let answered = false;
    let done = false;

    const release = (): void => {
      clearTimeout(holdTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const c of held) {
        c.onCluster = undefined;
        void c.close();
      }
      held.clear();
    };

    const win = (conn: Connection): void => {
      done = true;
      held.delete(conn);
      conn.onCluster = undefined;
      release();
      resolve(conn);
    };

    const lose = (): void => {
      done = true;
      release();
      const tried = [...outcome.values()];
      const message = answered
        ? `no primary name server found (tried ${tried.join(', ')})`
        : `cannot reach any name server (tried ${tried.join(', ')})`;
      // `answered`: some server is up, so the cluster is likely between primaries rather than gone.
      reject(new DpnsError('CONNECTION_LOST', message, { details: { tried, answered } }));
    };

    const finishIfLost = (): void => {
      if (done || pending > 0) return;
      if (held.size === 0) return lose();
      holdTimer ??= setTimeout(lose, HOLD_MS);
    };

    const onAbort = (): void => {
      if (done) return;
      pending = 0;
      lose();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    /** A member that is not the primary greeted, or told us its place changed. */
    const notPrimary = (endpoint: Endpoint, conn: Connection): void => {
      const cluster = conn.hello.cluster;
      const primary = cluster?.primary === undefined ? undefined : servers.find(cluster.primary);
      outcome.set(endpoint.url, `${endpoint.label}: ${cluster?.role ?? 'not the primary'}${primary === undefined ? ', no primary known' : `, primary ${primary.label}`}`);
      if (cluster !== undefined) {
        notPrimaryIn.set(endpoint.url, cluster.epoch);
        if (primary !== undefined) namedPrimaryIn.set(primary.url, Math.max(cluster.epoch, namedPrimaryIn.get(primary.url) ?? 0));
        // Whichever hello came first, a member named primary in an epoch at least as new as the
        // one it greeted in as a candidate or backup has won since (its greeting left before the
        // votes were in): dialed once more, not again and again.
        redialIfWon(endpoint);
        if (primary !== undefined) redialIfWon(primary);
      }
      if (primary !== undefined) dial(primary);
      dialAll();
    };

    const greeted = (endpoint: Endpoint, conn: Connection): void => {
      if (done) {
        void conn.close();
        return;
      }
      answered = true;
      const cluster = conn.hello.cluster;
      if (cluster !== undefined) servers.learn(cluster);
      if (accepts('primary', conn.hello)) return win(conn);
      if (cluster?.notifies === true) hold(endpoint, conn);
      else void conn.close();
      notPrimary(endpoint, conn);
    };

    const hold = (endpoint: Endpoint, conn: Connection): void => {
      held.add(conn);
      conn.onCluster = (c) => {
        if (done) return;
        const cluster = c.hello.cluster;
        if (cluster !== undefined) servers.learn(cluster);
        if (accepts('primary', c.hello)) return win(c);
        notPrimary(endpoint, c);
        finishIfLost();
      };
      void conn.ended.then(() => {
        if (!held.delete(conn)) return;
        conn.onCluster = undefined;
        finishIfLost();
      });
    };

    const redialIfWon = (endpoint: Endpoint): void => {
      const named = namedPrimaryIn.get(endpoint.url);
      const was = notPrimaryIn.get(endpoint.url);
      if (named === undefined || was === undefined || was > named || redialed.has(endpoint.url)) return;
      redialed.add(endpoint.url);
      outcome.delete(endpoint.url);
      dial(endpoint);
    };

    const dial = (endpoint: Endpoint): void => {
      if (done || outcome.has(endpoint.url) || endpoint.url === skip?.url || opts.signal?.aborted === true) return;
      outcome.set(endpoint.url, `${endpoint.label}: no answer`);
      pending++;
      Connection.open(endpoint, opts, handlers).then((conn) => {
        pending--;
        greeted(endpoint, conn);
        finishIfLost();
      }, (err: unknown) => {
        pending--;
        outcome.set(endpoint.url, `${endpoint.label}: ${err instanceof Error ? err.message : String(err)}`);
        finishIfLost();
      });
    };

    const dialAll = (): void => {
      for (let k = 0; k < servers.length; k++) dial(servers.at(start + k));
    };

    if (first !== undefined) dial(first);
    dialAll();
    finishIfLost();
  });
}
