// One DNS message in, one out (or none): the checks of the header before anything is decoded,
// the wire codec (dns-packet), EDNS sizes and truncation, the per-source and global limits, and
// the wait for a launch that a question asked for. Transports (dns-server.ts) only move the bytes.
import * as packet from 'dns-packet';
import type { DecodedPacket, OptAnswer, Question } from 'dns-packet';
import type { DpnsError } from '@dpns/protocol';
import type { Registry } from '../registry/registry.js';
import type { RateLimitedLog } from '../rate-limited-log.js';
import { planAnswer, RCODE, type Planned, type Rcode } from './dns-answer.js';
import type { GlobalLimits } from './global-limits.js';
import type { SourceLimits } from './source-limits.js';

/** Largest UDP answer without EDNS (RFC 1035). */
export const PLAIN_UDP_BYTES = 512;
/** Largest UDP answer we send whatever EDNS offers: no IP fragmentation on any usual path (DNS flag day 2020). */
export const MAX_UDP_BYTES = 1232;
/** Largest query we read; a query is one question, far smaller. */
export const MAX_QUERY_BYTES = 4096;
/** How long a question that launched a service waits for it: answered before a stub resolver's usual 5 s timeout. */
export const LAUNCH_WAIT_MS = 3500;

/**
 * The bound a query ran into (dpns_dns_limited_total): the rates drop it unanswered, the others
 * answer SERVFAIL at once.
 */
export type DnsLimit = 'source_rate' | 'global_rate' | 'udp_in_flight' | 'source_launches' | 'launches_in_flight';

export interface ResponderOptions {
  registry: Registry;
  /** Canonical, ending in a dot. */
  domain: string;
  ttl: number;
  limits: SourceLimits;
  global: GlobalLimits;
  /** Why this server cannot launch now (a backup), or undefined when it can. */
  launchRefusal(): DpnsError | undefined;
  /** Launches `name` (an auto-start service or an alias of one): the server's find path. */
  launch(name: string): Promise<unknown>;
  /** Told the service whose address an answer gave: a use of it (idle stops count from the last). */
  used?(service: string): void;
  rateLog: RateLimitedLog;
  /** Counts each answer by transport and rcode (or `dropped`). */
  count(transport: 'udp' | 'tcp', outcome: Rcode | 'dropped'): void;
  /** Counts each query a bound refused. */
  limited(limit: DnsLimit): void;
  /** How long a launch is waited for; LAUNCH_WAIT_MS by default. */
  launchWaitMs?: number;
}

export class DnsResponder {
  constructor(private readonly o: ResponderOptions) {}

  /**
   * The answer to `query` from `address`, or undefined to send nothing. Never throws.
   * `overloaded`: the transport has too many queries in flight; a query within the rates is
   * answered SERVFAIL at once.
   */
  async respond(query: Buffer, address: string, transport: 'udp' | 'tcp', overloaded = false): Promise<Buffer | undefined> {
    try {
      const out = await this.answer(query, address, transport, overloaded);
      if (out === undefined) this.o.count(transport, 'dropped');
      return out;
    } catch (err) {
      this.o.rateLog.warn('a DNS query could not be answered', { err: (err as Error).message, from: address });
      this.o.count(transport, 'SERVFAIL');
      return query.length >= 12 ? headerOnly(query.readUInt16BE(0), 'SERVFAIL') : undefined;
    }
  }

  private async answer(query: Buffer, address: string, transport: 'udp' | 'tcp', overloaded: boolean): Promise<Buffer | undefined> {
    // Less than a header, or a response (answering one could make two servers talk forever): nothing.
    if (query.length < 12 || query.length > MAX_QUERY_BYTES || (query.readUInt16BE(2) & 0x8000) !== 0) return undefined;
    // The source's share first, so that one loud source does not spend everybody's allowance.
    if (!this.o.limits.takeQuery(address)) {
      this.o.limited('source_rate');
      return undefined;
    }
    // Dropped, not answered: an answer to each of a flood of forged sources would reflect it.
    if (!this.o.global.takeQuery()) {
      this.o.limited('global_rate');
      return undefined;
    }
    const id = query.readUInt16BE(0);
    const flags = query.readUInt16BE(2);
    const rd = flags & packet.RECURSION_DESIRED;
    const done = (rcode: Rcode): Buffer => {
      this.o.count(transport, rcode);
      return headerOnly(id, rcode, rd);
    };
    if (((flags >> 11) & 0xf) !== 0) return done('NOTIMP');
    // One question per query (RFC 9619); the other counts are checked by decoding.
    if (query.readUInt16BE(4) !== 1) return done('FORMERR');
    let q: DecodedPacket;
    try {
      q = packet.decode(query);
    } catch {
      return done('FORMERR');
    }
    const question = q.questions?.[0];
    const opts = (q.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
    // A name outside printable ASCII is none of ours, and would not survive the codec's text form.
    if (question === undefined || opts.length > 1 || !/^[\x21-\x7e]*$/.test(question.name)) return done('FORMERR');
    const cls = question.class ?? 'IN';
    if (cls !== 'IN' && cls !== 'ANY') return done('REFUSED');
    const opt = opts[0];
    const limit = transport === 'tcp' ? 65_535 : opt === undefined ? PLAIN_UDP_BYTES : Math.min(MAX_UDP_BYTES, Math.max(PLAIN_UDP_BYTES, opt.udpPayloadSize));

    const planned = overloaded ? this.refused('udp_in_flight') : await this.plan(question, address);
    this.o.count(transport, planned.rcode);
    if (planned.service !== undefined) this.o.used?.(planned.service);
    const ednsOut: OptAnswer[] = opt === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: MAX_UDP_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }];
    const head = (tc: boolean) => (planned.authoritative ? packet.AUTHORITATIVE_ANSWER : 0) | (tc ? packet.TRUNCATED_RESPONSE : 0) | rd | RCODE[planned.rcode];
    const full = packet.encode({
      type: 'response', id, flags: head(false), questions: [question],
      answers: planned.answers, authorities: planned.authorities, additionals: [...planned.additionals, ...ednsOut],
    });
    if (full.length <= limit) return full;
    // Too big for this client over UDP: the question alone, TC set, and it asks again over TCP.
    return packet.encode({ type: 'response', id, flags: head(true), questions: [question], answers: [], authorities: [], additionals: ednsOut });
  }

  /**
   * SERVFAIL at once, with the question: what an in-flight cap answers. SERVFAIL, not REFUSED,
   * because it says "not now" (DNS.md, Limits): stub resolvers report a temporary failure and
   * programs try again, forwarders try their next server; REFUSED says this server will not
   * serve the zone at all.
   */
  private refused(limit: DnsLimit): Planned {
    this.o.limited(limit);
    return { rcode: 'SERVFAIL', authoritative: true, answers: [], authorities: [], additionals: [] };
  }

  /** The answer to one question, launching a stopped auto-start service first when it asks for one. */
  private async plan(question: Question, address: string): Promise<Planned> {
    const o = this.o;
    const first = planAnswer(o.registry, question.name, question.type, o);
    if ('answer' in first) return first.answer;
    const failed: Planned = { rcode: 'SERVFAIL', authoritative: true, answers: [], authorities: [], additionals: [] };
    // Only the primary launches; a backup's SERVFAIL sends the resolver to its next server.
    if (o.launchRefusal() !== undefined) return failed;
    if (!o.limits.takeLaunch(address)) {
      o.rateLog.warn('refused a launch asked for by DNS: this source launched too often', { from: address, name: first.launch });
      return this.refused('source_launches');
    }
    if (!o.global.enterLaunch()) {
      o.rateLog.warn('refused a launch asked for by DNS: too many queries wait for launches', { from: address, name: first.launch, max: o.global.maxLaunchWaits });
      return this.refused('launches_in_flight');
    }
    try {
      return await this.launchAndPlan(question, first.launch, failed);
    } finally {
      o.global.leaveLaunch();
    }
  }

  /** Launches `name` and answers `question` once it is up, or `failed` when it fails or is late. */
  private async launchAndPlan(question: Question, name: string, failed: Planned): Promise<Planned> {
    const o = this.o;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      o.launch(name).then(() => 'launched' as const, (err: unknown) => {
        o.rateLog.warn('a launch asked for by DNS failed', { name, err: (err as Error).message });
        return 'failed' as const;
      }),
      new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), o.launchWaitMs ?? LAUNCH_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (waited !== 'launched') return failed;
    const again = planAnswer(o.registry, question.name, question.type, o, true);
    return 'answer' in again ? again.answer : failed;
  }
}

/** An answer with no question: to a query too broken to echo. */
function headerOnly(id: number, rcode: Rcode, rd = 0): Buffer {
  return packet.encode({ type: 'response', id, flags: rd | RCODE[rcode], questions: [] });
}
