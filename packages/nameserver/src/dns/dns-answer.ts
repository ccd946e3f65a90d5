// What the name server answers one DNS question, read from its own copy of the registry: no I/O,
// no waiting. A stopped auto-start service is not answered here but handed back as a launch to
// make (dns-server.ts makes it, then asks again). The rules are docs/DNS.md's.
import type { Answer, SoaAnswer } from 'dns-packet';
import type { EntryView } from '@dpns/protocol';
import { compileGlob } from '@dpns/protocol';
import { answerable, launchesOnLookup } from '../registry/queries.js';
import type { Registry } from '../registry/registry.js';
import { dnsNameOf, dpnsNameOf, hostForm } from './dns-names.js';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type Rcode = keyof typeof RCODE;

/** An answer to send: its rcode and sections; `authoritative` unless the name is outside our domain. */
export interface Planned {
  rcode: Rcode;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** The service whose address it gives (aliases followed): a use of it, for idle stops. */
  service?: string;
}

/** Either an answer, or the name of a stopped auto-start service to launch before answering. */
export type Plan = { answer: Planned } | { launch: string };

export interface AnswerOptions {
  /** Canonical, ending in a dot (dns-names.ts canonicalDomain). */
  domain: string;
  ttl: number;
}

/** Query types that want a service's address, and so launch a stopped auto-start service. */
const WANTS_ADDRESS = new Set(['SRV', 'A', 'AAAA', 'ANY', 'CNAME']);
/** Aliases followed in one answer; the registry refuses chains longer than this (§5.19). */
const MAX_HOPS = 33;

/** Plans the answer to `qname`/`qtype`; `launched` when the launch it asked for is done (no second launch). */
export function planAnswer(reg: Registry, qname: string, qtype: string, o: AnswerOptions, launched = false): Plan {
  const where = dpnsNameOf(qname, o.domain);
  const soa = soaOf(reg, o);
  const reply = (rcode: Rcode, answers: Answer[] = [], additionals: Answer[] = []): Plan => ({
    answer: { rcode, authoritative: true, answers, additionals, authorities: answers.length === 0 && (rcode === 'NOERROR' || rcode === 'NXDOMAIN') ? [soa] : [] },
  });
  switch (where.kind) {
    case 'outside':
      return { answer: { rcode: 'REFUSED', authoritative: false, answers: [], authorities: [], additionals: [] } };
    case 'apex':
      return reply('NOERROR', qtype === 'SOA' || qtype === 'ANY' ? [{ ...soa, name: qname }] : []);
    case 'impossible':
      return reply('NXDOMAIN');
    case 'name':
      break;
  }
  // Exact case first; then the name in lowercase, for resolvers that scramble a query's case (docs/DNS.md).
  let name = where.name;
  let entry = reg.get(name);
  if (entry === undefined && name !== name.toLowerCase()) {
    name = name.toLowerCase();
    entry = reg.get(name);
  }
  if (entry === undefined) return reply(hasChildren(reg, where.name) || hasChildren(reg, name) ? 'NOERROR' : 'NXDOMAIN');

  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  let owner = qname.replace(/\.$/, '');
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (entry.kind === 'alias') {
      const target = dnsNameOf(entry.target, o.domain);
      if (target === undefined) return reply('SERVFAIL');
      answers.push({ name: owner, type: 'CNAME', ttl: o.ttl, data: target });
      if (qtype === 'CNAME') return reply('NOERROR', answers);
      owner = target.slice(0, -1);
      const next: EntryView | undefined = reg.get(entry.target);
      // A CNAME to a name that is not there: the answer says so (RFC 6604).
      if (next === undefined) return reply(hasChildren(reg, entry.target) ? 'NOERROR' : 'NXDOMAIN', answers);
      entry = next;
      continue;
    }
    // The rules a find follows (registry/queries.ts): an unhealthy service is not answered, and
    // not launched a second time.
    if (!answerable(entry)) {
      if (launchesOnLookup(entry) && WANTS_ADDRESS.has(qtype)) return launched ? reply('SERVFAIL') : { launch: name };
      return reply('NOERROR', answers);
    }
    const host = hostForm(entry.host);
    if (host.kind === 'none' && WANTS_ADDRESS.has(qtype)) return reply('SERVFAIL');
    const port = entry.port;
    const address = (type: 'A' | 'AAAA'): Answer[] => {
      if (host.kind !== 'ipv4' && host.kind !== 'ipv6') return [];
      return (host.kind === 'ipv4') === (type === 'A') ? [{ name: owner, type, ttl: o.ttl, data: host.address }] : [];
    };
    const cname = (): Answer[] => (host.kind === 'name' ? [{ name: owner, type: 'CNAME', ttl: o.ttl, data: host.target }] : []);
    // An IP literal is no SRV target: the target is the service's own name, whose A or AAAA is the address.
    const srv = (): Answer[] => [{ name: owner, type: 'SRV', ttl: o.ttl, data: { priority: 0, weight: 0, port, target: host.kind === 'name' ? host.target : `${owner}.` } }];
    switch (qtype) {
      case 'SRV':
        answers.push(...srv());
        additionals.push(...address('A'), ...address('AAAA'));
        break;
      case 'A':
      case 'AAAA':
        answers.push(...address(qtype), ...cname());
        break;
      case 'CNAME':
        answers.push(...cname());
        break;
      case 'ANY':
        answers.push(...srv(), ...address('A'), ...address('AAAA'));
        break;
      default:
        break;
    }
    const out = reply('NOERROR', answers, additionals);
    if ('answer' in out && WANTS_ADDRESS.has(qtype)) out.answer.service = entry.name;
    return out;
  }
  return reply('SERVFAIL');
}

/** Whether any name lies below `name`: such a name exists in DNS (an empty non-terminal), and answers NODATA, not NXDOMAIN. */
function hasChildren(reg: Registry, name: string): boolean {
  return !reg.select(compileGlob(`${name}/*`)).next().done;
}

/** The zone's SOA: its serial is the registry's revision; its minimum, the negative-caching time, is the TTL. */
function soaOf(reg: Registry, o: AnswerOptions): SoaAnswer {
  return {
    name: o.domain.slice(0, -1), type: 'SOA', ttl: o.ttl,
    data: { mname: o.domain, rname: `hostmaster.${o.domain}`, serial: reg.revision % 2 ** 32, refresh: 3600, retry: 600, expire: 86_400, minimum: o.ttl },
  };
}
