// The name servers a client may dial, and which to dial next: the ones it was given, plus the
// members of the cluster that the servers' hellos name. A URL a server names (the primary of a
// NOT_PRIMARY answer or of a hello) is followed only when it is on this list, so a server cannot
// send the client anywhere outside its own cluster.
import type { ClusterHello } from '@dpns/protocol';
import { Backoff, type BackoffOptions } from './backoff.js';
import { parseEndpoint, type Endpoint } from './endpoints.js';

/** More members than any sane cluster has: a hello listing more is not believed beyond this. */
const MAX_SERVERS = 64;

export class ServerList {
  readonly #list: Endpoint[];
  /** Where the next dial round starts; advanced past a server that dropped us. */
  #nextIndex = 0;
  /** The server the next dial round tries first: the primary a NOT_PRIMARY answer named. */
  #first: Endpoint | undefined;
  /** Paces moves from server to server when each in turn says it is not the primary. */
  readonly #moves: Backoff;
  /** NOT_PRIMARY moves since a server last answered anything else. */
  #movesInARow = 0;

  constructor(configured: readonly Endpoint[], backoff: BackoffOptions) {
    this.#list = [...configured];
    this.#moves = new Backoff(backoff);
  }

  /** Where the next round starts, and the server it tries first (taken: a hint is used once). */
  nextRound(): { start: number; first: Endpoint | undefined } {
    const first = this.#first;
    this.#first = undefined;
    return { start: this.#nextIndex, first };
  }

  /** A connection to `endpoint` opened: rounds start there until it drops. */
  openedAt(endpoint: Endpoint): void {
    this.#nextIndex = Math.max(0, this.indexOf(endpoint));
  }

  /** The open connection dropped: the next round starts with the server after it. */
  dropped(): void {
    this.#nextIndex = (this.#nextIndex + 1) % this.#list.length;
  }

  /**
   * The client leaves `from`, which said it is not the primary, for the listed server `primary`
   * names (or the one after `from`). Returns how long to wait first: nothing the first time,
   * a growing back-off when servers keep sending the client round.
   */
  moveFrom(from: Endpoint, primary: unknown): number {
    const at = this.indexOf(from);
    this.#nextIndex = ((at === -1 ? this.#nextIndex : at) + 1) % this.#list.length;
    this.#first = typeof primary === 'string' ? this.find(primary) : undefined;
    return this.#movesInARow++ === 0 ? 0 : this.#moves.next();
  }

  /** The next round tries `endpoint` first (a newer primary found while the current one was silent). */
  preferNext(endpoint: Endpoint): void {
    this.#first = endpoint;
  }

  /** A server answered something other than NOT_PRIMARY: the next move is immediate again. */
  settled(): void {
    this.#movesInARow = 0;
    this.#moves.reset();
  }

  get length(): number {
    return this.#list.length;
  }

  at(index: number): Endpoint {
    return this.#list[index % this.#list.length] as Endpoint;
  }

  indexOf(endpoint: Endpoint): number {
    return this.#list.findIndex((e) => sameServer(e, endpoint));
  }

  /** The listed server a URL (or HOST:PORT) names, or undefined when it is not one of them. */
  find(url: string): Endpoint | undefined {
    const e = toEndpoint(url);
    return e === undefined ? undefined : this.#list.find((x) => sameServer(x, e));
  }

  /** Adds the members a hello lists (in SID order) that are not on the list yet. */
  learn(cluster: ClusterHello): void {
    for (const url of cluster.servers) {
      if (this.#list.length >= MAX_SERVERS) return;
      const e = toEndpoint(url);
      if (e !== undefined && this.#list.every((x) => !sameServer(x, e))) this.#list.push(e);
    }
  }
}

function toEndpoint(url: unknown): Endpoint | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return parseEndpoint(url);
  } catch {
    return undefined;
  }
}

/** Same host and port, and the same scheme (a ws:// and a wss:// on one port are not one server). */
function sameServer(a: Endpoint, b: Endpoint): boolean {
  return a.label.toLowerCase() === b.label.toLowerCase() && scheme(a.url) === scheme(b.url);
}

function scheme(url: string): string {
  return /^wss:/i.test(url) ? 'wss' : 'ws';
}
