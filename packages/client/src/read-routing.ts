// Read-from-backups: which connection a call goes over.
//
// Without the option the client holds one connection, to the primary, and everything goes over
// it. With it the client holds up to two: a "reads" connection to the first server that serves
// reads (the primary, or a backup whose hello says readFromBackups; see dial.ts), which carries
// listServices, serviceState, findServices that cannot launch, and watches; and the primary
// connection, dialed lazily at the first write, launch, admin call or advertisement. This is the
// simplest design that spreads reads over the backups: each client reads from one server and
// stays there, so many clients spread over the cluster while each one sees its reads in order.
// The alternative, routing each read to a different backup, would let a client see an older
// state after a newer one. The price: a backup's answer may lag the primary by the records not
// yet replicated to it (the server refuses reads once it has not heard from the primary for a
// few heartbeats), so a client may not see its own write at once on its reads connection.
import { isMethodName, traitsOf } from '@dpns/protocol';
import { Channel, type ChannelHooks, type ChannelOptions } from './channel.js';

/**
 * Whether a call may be answered by a backup that serves reads: the method table's `channel`
 * (listServices, serviceState, watch, unwatch, ping; ping goes where reads go, so that it
 * measures their connection), and for findServices only when it cannot launch.
 */
export function isBackupRead(method: string, params: unknown): boolean {
  if (!isMethodName(method)) return false;
  const t = traitsOf(method);
  if (t.kind === 'write' || t.kind === 'launch') return false;
  return t.channel === 'reads' && t.mayLaunch?.(params) !== true;
}

/** What each connection's events are for: the session and advertisements, watches, or both. */
export type ChannelRole = 'primary' | 'reads' | 'both';

/** The client's connections: one to the primary, and with read-from-backups one for reads. */
export class Channels {
  readonly primary: Channel;
  /** Carries watches and the calls of isBackupRead; the primary channel itself without the option. */
  readonly reads: Channel;

  constructor(opts: ChannelOptions, readFromBackups: boolean, hooks: (role: ChannelRole) => ChannelHooks) {
    this.primary = new Channel({ ...opts, serves: 'primary' }, hooks(readFromBackups ? 'primary' : 'both'));
    this.reads = readFromBackups ? new Channel({ ...opts, serves: 'reads' }, hooks('reads')) : this.primary;
  }

  /** The channel a call of `method` with `params` goes over. */
  for(method: string, params: unknown): Channel {
    return this.reads !== this.primary && isBackupRead(method, params) ? this.reads : this.primary;
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.reads.close()]);
  }
}
