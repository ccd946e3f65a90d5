// The service side of launch on demand: what a program started by dpns-launchd does to become
// the service it was launched as. It reads its ticket line from stdin, advertises host:port with
// the ticket's proof (again, with a fresh proof, after every reconnect), trusts only a name
// server that proves it holds its half, answers the server's challenges, and keeps the ticket
// pairs the server hands it for clients (authenticateService) so it can verify those clients.
import { DpnsError, isDpnsError, parseLaunchTicket, ticketProof, checkTicketProof, type LaunchTicket } from '@dpns/protocol';
import type { Advertisement } from './advertisement.js';
import { DpnsClient } from './client.js';
import type { DpnsClientOptions } from './options.js';
import { PairStore } from './pair-store.js';
import { readFirstLine } from './stdin-line.js';

export interface DpnsServiceOptions {
  /** The name this program expects to be launched as; refused when the ticket is for another. */
  name?: string;
  /** Where clients reach this service: a host name or address they can use, not 0.0.0.0. */
  host: string;
  port: number;
  /** Name servers (host:port); default the ones the ticket line names. */
  servers?: string[];
  /** Further client options (timeouts, reconnect delays). */
  client?: Omit<DpnsClientOptions, 'servers' | 'token'>;
  /** Where the helper reports what no caller waits for (re-advertise refused, untrusted server); default stderr. */
  log?: (line: string) => void;
  /** How long a pair handed over by authenticateService stays good; default 10 minutes. */
  pairTtlMs?: number;
  /** The most pairs kept at once; default 1000. */
  maxPairs?: number;
}

export interface FromStdinOptions extends DpnsServiceOptions {
  /** Where the ticket line comes from; default process.stdin. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** How long to wait for the ticket line; default 10 s. */
  stdinTimeoutMs?: number;
}

/** open: advertised (or re-advertising after a drop) · closed: unadvertised and disconnected. */
export type ServiceHelperState = 'open' | 'closed';

export class DpnsService {
  #state: ServiceHelperState = 'open';
  #closing: Promise<void> | undefined;
  readonly #pairs: PairStore;

  private constructor(
    /** The name this service runs as. */
    readonly name: string,
    /** The client connection it advertises over; usable for other calls too. */
    readonly client: DpnsClient,
    readonly advertisement: Advertisement,
    pairs: PairStore,
  ) {
    this.#pairs = pairs;
    advertisement.on('pair', (pair) => this.#pairs.add(pair));
  }

  /**
   * Reads the ticket line dpns-launchd wrote to stdin (one JSON line, then stdin closes) and
   * advertises this service with it. Fails with a message that says what is wrong when the
   * program was not started by the launch agent.
   */
  static async fromStdin(opts: FromStdinOptions): Promise<DpnsService> {
    const line = await readFirstLine(opts.input ?? process.stdin, opts.stdinTimeoutMs === undefined ? {} : { timeoutMs: opts.stdinTimeoutMs });
    return DpnsService.fromTicket(line, opts);
  }

  /** Advertises with a ticket line given directly (tests, or a program that got it some other way). */
  static async fromTicket(ticketLine: string | LaunchTicket, opts: DpnsServiceOptions): Promise<DpnsService> {
    const ticket = typeof ticketLine === 'string' ? parseLaunchTicket(ticketLine) : parseLaunchTicket(JSON.stringify(ticketLine));
    if (opts.name !== undefined && opts.name !== ticket.service) {
      throw new DpnsError('INVALID_PARAMS', `this program expects to run as ${opts.name}, but it was launched as ${ticket.service}`);
    }
    const log = opts.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
    const client = new DpnsClient({ ...opts.client, servers: opts.servers ?? ticket.servers });
    client.on('error', (e) => log(`dpns: ${e.code}: ${e.message}`));
    try {
      const ad = await client.advertise(ticket.service, opts.host, opts.port, { ticket });
      ad.on('error', (e) => log(`dpns: re-advertising ${ticket.service} failed: ${e.code}: ${e.message}`));
      const pairs = new PairStore({
        ...(opts.pairTtlMs === undefined ? {} : { ttlMs: opts.pairTtlMs }),
        ...(opts.maxPairs === undefined ? {} : { max: opts.maxPairs }),
      });
      return new DpnsService(ticket.service, client, ad, pairs);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  get state(): ServiceHelperState {
    return this.#state;
  }

  /**
   * True when `proof` is the client's answer to this service's `challenge` for pair `pairId`
   * (constant time). False for a pair this service was not handed, or that has expired.
   */
  verifyClient(pairId: string, challenge: string, proof: string): boolean {
    const pair = this.#pairs.get(pairId);
    return pair !== undefined && checkTicketProof(pair.clientTicket, proof, 'pair-client', pairId, challenge);
  }

  /** This service's proof for a client's `challenge`; NOT_FOUND for an unknown or expired pair. */
  prove(pairId: string, challenge: string): string {
    const pair = this.#pairs.get(pairId);
    if (pair === undefined) throw new DpnsError('NOT_FOUND', `this service holds no pair ${JSON.stringify(pairId.slice(0, 128))} (unknown or expired)`);
    return ticketProof(pair.serviceTicket, 'pair-service', pairId, challenge);
  }

  /**
   * Resolves true once pair `pairId` is here (at once if it is), false after `timeoutMs`. The name
   * server hands the pair to the service before it answers the client, but the client can still
   * reach the service first.
   */
  async waitForPair(pairId: string, timeoutMs = 5000): Promise<boolean> {
    return (await this.#pairs.wait(pairId, timeoutMs)) !== undefined;
  }

  /** Reports this service's load; see Advertisement.reportLoad. */
  reportLoad(load: number): Promise<void> {
    return this.advertisement.reportLoad(load);
  }

  /** Reports `read()` every `ms` when it changed; see Advertisement.reportLoadEvery. */
  reportLoadEvery(ms: number, read: () => number): () => void {
    return this.advertisement.reportLoadEvery(ms, read);
  }

  /** Unadvertises and disconnects; safe to call twice. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#state = 'closed';
    this.#pairs.clear();
    this.#closing = (async () => {
      try {
        await this.advertisement.close();
      } catch (err) {
        // Not reachable any more: the server marks the entry lost when the connection closes.
        if (!isDpnsError(err)) throw err;
      } finally {
        await this.client.close();
      }
    })();
    return this.#closing;
  }
}
