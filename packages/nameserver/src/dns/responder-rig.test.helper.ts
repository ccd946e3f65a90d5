// A DnsResponder over a small registry for the DNS unit tests: a stopped auto-start service whose
// launches the test holds and releases, and records of what the responder counted.
import * as packet from 'dns-packet';
import type { EntryView } from '@dpns/protocol';
import { createLogger } from '../log.js';
import { RateLimitedLog } from '../rate-limited-log.js';
import { Registry } from '../registry/registry.js';
import { RCODE } from './dns-answer.js';
import { DnsResponder, type DnsLimit, type ResponderOptions } from './dns-responder.js';
import { GlobalLimits } from './global-limits.js';
import { SourceLimits } from './source-limits.js';

export interface Rig {
  responder: DnsResponder;
  /** The limits hit, in order. */
  limited: DnsLimit[];
  /** Names launch() was called with. */
  launched: string[];
  /** Resolves every launch asked for so far. */
  release(): void;
}

export interface RigOptions {
  queriesPerSecond?: number;
  globalQueriesPerSecond?: number;
  maxLaunchWaits?: number;
  now?: () => number;
}

/** `/demo/auto` is stopped and auto-start (auto.demo.dpns launches it); nothing else exists. */
export function responderRig(r: RigOptions = {}): Rig {
  const reg = new Registry();
  const auto: EntryView = { kind: 'service', name: '/demo/auto', state: 'stopped', since: 0, spec: { host: 'h', program: '/bin/x', args: [], env: {}, startTimeoutMs: 1000 } };
  reg.apply([{ t: 'put', e: auto }], 1);
  const limited: DnsLimit[] = [];
  const launched: string[] = [];
  let waiting: (() => void)[] = [];
  const o: ResponderOptions = {
    registry: reg, domain: 'dpns.', ttl: 5,
    limits: new SourceLimits(r.queriesPerSecond ?? 1000, r.now),
    global: new GlobalLimits(r.globalQueriesPerSecond ?? 1000, r.maxLaunchWaits ?? 64, r.now),
    launchRefusal: () => undefined,
    launch: (name) => {
      launched.push(name);
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    rateLog: new RateLimitedLog(createLogger({ level: 'error', format: 'json', write: () => undefined }), 10),
    count: () => undefined,
    limited: (l) => limited.push(l),
    launchWaitMs: 60_000,
  };
  return {
    responder: new DnsResponder(o), limited, launched,
    release: () => {
      for (const w of waiting) w();
      waiting = [];
    },
  };
}

/** A query for `name` SRV with `id`. */
export function query(name: string, id = 1): Buffer {
  return packet.encode({ type: 'query', id, flags: 0, questions: [{ name, type: 'SRV', class: 'IN' }] });
}

/** The rcode of an answer, and the names it echoes as its question. */
export function read(answer: Buffer | undefined): { rcode: string; questions: string[] } | undefined {
  if (answer === undefined) return undefined;
  const p = packet.decode(answer);
  const code = answer.readUInt16BE(2) & 0xf;
  return { rcode: Object.entries(RCODE).find(([, n]) => n === code)?.[0] ?? String(code), questions: (p.questions ?? []).map((q) => q.name) };
}
