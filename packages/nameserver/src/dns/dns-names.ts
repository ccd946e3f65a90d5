// How a dpns name and a DNS name map onto each other: `/vods/qs` is `qs.vods.<domain>`, the most
// specific segment first. The rules of which dpns names have no DNS form are stated in docs/DNS.md;
// this file is where they are enforced.
import { isIP } from 'node:net';

/** The longest DNS name in text form, without its final dot (RFC 1035: 255 octets on the wire). */
export const MAX_DNS_NAME = 253;
/** The longest DNS label (RFC 1035). */
export const MAX_LABEL = 63;

/** The characters of a dpns segment that are also one DNS label: the name rules less the dot. */
const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
/** A host name we may hand out as a CNAME or SRV target: letters, digits, '-', '_', dot-separated labels. */
const HOST_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** What a query name is to us. */
export type QueryName =
  | { kind: 'outside' }
  | { kind: 'apex' }
  /** Labels no dpns name can have (a character outside the name rules): no such name. */
  | { kind: 'impossible' }
  | { kind: 'name'; name: string };

/**
 * A domain setting made canonical: lowercase, ending in one dot, each label 1 to 63 of
 * `A-Z a-z 0-9 - _`. Throws with a message naming the rule broken.
 */
export function canonicalDomain(domain: string): string {
  const d = domain.toLowerCase().replace(/\.$/, '');
  if (d === '') throw new Error('the DNS domain must have at least one label, like "dpns." or "dpns.example.com."');
  for (const label of d.split('.')) {
    if (!HOST_LABEL.test(label)) throw new Error(`the DNS domain label ${JSON.stringify(label)} must be 1 to 63 of A-Z a-z 0-9 - _, not starting or ending with -`);
  }
  if (d.length + 1 > MAX_DNS_NAME) throw new Error(`the DNS domain is too long: at most ${MAX_DNS_NAME - 2} characters`);
  return `${d}.`;
}

/** The DNS name of dpns `name` under `domain` (canonical, ending in a dot), or undefined when it has none. */
export function dnsNameOf(name: string, domain: string): string | undefined {
  const segments = name.slice(1).split('/');
  if (!segments.every((s) => LABEL.test(s))) return undefined;
  const out = `${segments.reverse().join('.')}.${domain}`;
  return out.length - 1 > MAX_DNS_NAME ? undefined : out;
}

/**
 * The dpns name a query name stands for. `qname` is as the wire decoder gives it (labels joined
 * by dots, no final dot); matching of the domain ignores case, as DNS does.
 */
export function dpnsNameOf(qname: string, domain: string): QueryName {
  const q = qname.replace(/\.$/, '');
  const apex = domain.slice(0, -1);
  const lower = q.toLowerCase();
  if (lower === apex) return { kind: 'apex' };
  if (!lower.endsWith(`.${apex}`)) return { kind: 'outside' };
  const labels = q.slice(0, q.length - apex.length - 1).split('.');
  if (!labels.every((l) => LABEL.test(l))) return { kind: 'impossible' };
  return { kind: 'name', name: `/${labels.reverse().join('/')}` };
}

/** How a service's host is answered: an address record, or a name to point at. */
export type HostForm = { kind: 'ipv4' | 'ipv6'; address: string } | { kind: 'name'; target: string } | { kind: 'none' };

/** A service's `host` as DNS gives it: an IP literal as an address, a host name as `name.`. */
export function hostForm(host: string): HostForm {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v = isIP(bare);
  if (v === 4) return { kind: 'ipv4', address: bare };
  if (v === 6) return { kind: 'ipv6', address: bare };
  const name = host.replace(/\.$/, '');
  if (name.length === 0 || name.length > MAX_DNS_NAME || !name.split('.').every((l) => HOST_LABEL.test(l))) return { kind: 'none' };
  return { kind: 'name', target: `${name}.` };
}
