// The names this host answers to, so a request meant for another host is refused (WRONG_TARGET):
// its hostname, the addresses of its interfaces (read per request, as interfaces come and go),
// "localhost", the address the agent listens on, and the extra names of the "hostNames" setting.
import { hostname, networkInterfaces } from 'node:os';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Lowercase, without IPv6 brackets or a trailing dot. */
function normalise(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n.startsWith('[') && n.endsWith(']') ? n.slice(1, -1) : n;
}

export class HostNames {
  private readonly fixed: ReadonlySet<string>;

  constructor(extra: readonly string[], listenHost: string) {
    const names = ['localhost', hostname(), ...extra];
    if (!WILDCARDS.has(listenHost)) names.push(listenHost);
    this.fixed = new Set(names.map(normalise));
  }

  /** True when `name` is a name or address of this host. */
  has(name: string): boolean {
    const n = normalise(name);
    if (this.fixed.has(n)) return true;
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (normalise(a.address) === n) return true;
    }
    return false;
  }
}
