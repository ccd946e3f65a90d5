// `servers` asked of whichever server answers first, primary or not. An operator looks at the
// cluster when something is wrong, often while there is no primary to ask; any member can say
// how it sees the others, so this does not wait for one.
import type { Result } from '@dpns/protocol';
import { Channel } from './channel.js';
import type { NormalizedOptions } from './options.js';

/** Dials the servers in order, asks the first that answers, and hangs up. */
export async function askAnyServer(opts: NormalizedOptions): Promise<Result<'servers'>> {
  const channel = new Channel({ ...opts, waitForServer: false, serves: 'any' }, {
    restore: () => Promise.resolve(),
    opened: () => undefined,
    lost: () => undefined,
    watchEvent: () => undefined,
    serverRequest: () => undefined,
    ticketPair: () => undefined,
    state: () => undefined,
    error: () => undefined,
  });
  try {
    return await channel.request('servers', {});
  } finally {
    await channel.close();
  }
}
