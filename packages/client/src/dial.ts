// One round of dialing: each name server once, in order, starting where the last round left
// off. Fails with one CONNECTION_LOST that names every server tried and why it failed, which
// is the line an operator sees: "cannot reach any name server (tried a:7700: ECONNREFUSED)".
import { DpnsError } from '@dpns/protocol';
import { Connection, type ConnectionHandlers, type DialOptions } from './connection.js';
import type { Endpoint } from './endpoints.js';

export interface Dialled {
  conn: Connection;
  /** The position of the server that answered, for the next round's rotation. */
  index: number;
}

export async function dialRound(
  endpoints: readonly Endpoint[],
  start: number,
  opts: DialOptions,
  handlers: ConnectionHandlers,
): Promise<Dialled> {
  const tried: string[] = [];
  for (let k = 0; k < endpoints.length; k++) {
    const index = (start + k) % endpoints.length;
    const endpoint = endpoints[index] as Endpoint;
    try {
      return { conn: await Connection.open(endpoint, opts, handlers), index };
    } catch (err) {
      tried.push(`${endpoint.label}: ${err instanceof Error ? err.message : String(err)}`);
      if (opts.signal?.aborted === true) break;
    }
  }
  throw new DpnsError('CONNECTION_LOST', `cannot reach any name server (tried ${tried.join(', ')})`, { details: { tried } });
}
