// The DNS interface put together from the server's settings and parts: what server.ts calls.
import type { DpnsError } from '@dpns/protocol';
import { formatHostPort } from '@dpns/node-kit';
import type { HostPort } from '@dpns/settings';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import type { RateLimitedLog } from '../rate-limited-log.js';
import type { Registry } from '../registry/registry.js';
import { DNS_DEFAULTS } from './dns-defaults.js';
import { canonicalDomain } from './dns-names.js';
import { DnsResponder } from './dns-responder.js';
import { DnsServer } from './dns-server.js';
import { GlobalLimits } from './global-limits.js';
import { SourceLimits } from './source-limits.js';

/** The DNS settings (settings.ts); absent ones take DNS_DEFAULTS. */
export interface DnsSettings {
  dnsDomain?: string;
  dnsTtl?: number;
  dnsQueriesPerSecond?: number;
  dnsGlobalQueriesPerSecond?: number;
  dnsMaxUdpInFlight?: number;
  dnsMaxLaunchesInFlight?: number;
  dnsMaxTcpConnections?: number;
  dnsTcpIdleMs?: number;
}

export interface DnsParts {
  registry: Registry;
  launch(name: string): Promise<unknown>;
  /** A DNS answer gave this service's address: a use of it (idle stops). */
  used(service: string): void;
  launchRefusal(): DpnsError | undefined;
  log: Logger;
  rateLog: RateLimitedLog;
  metrics: ServerMetrics;
}

/** Opens the DNS port at `at`; resolves once UDP and TCP both listen. */
export async function openDns(at: HostPort, s: DnsSettings, parts: DnsParts): Promise<DnsServer> {
  // One child per series, found by a map lookup: prom-client's labels() hashes its arguments on every call.
  const series = new Map<string, { inc(): void }>();
  const count = (transport: string, outcome: string): void => {
    const key = `${transport} ${outcome}`;
    let c = series.get(key);
    if (c === undefined) {
      c = parts.metrics.dnsQueries.labels(transport, outcome);
      series.set(key, c);
    }
    c.inc();
  };
  const limitedSeries = new Map<string, { inc(): void }>();
  const limited = (limit: string): void => {
    let c = limitedSeries.get(limit);
    if (c === undefined) {
      c = parts.metrics.dnsLimited.labels(limit);
      limitedSeries.set(limit, c);
    }
    c.inc();
  };
  const responder = new DnsResponder({
    registry: parts.registry, domain: canonicalDomain(s.dnsDomain ?? DNS_DEFAULTS.dnsDomain), ttl: s.dnsTtl ?? DNS_DEFAULTS.dnsTtl,
    limits: new SourceLimits(s.dnsQueriesPerSecond ?? DNS_DEFAULTS.dnsQueriesPerSecond),
    global: new GlobalLimits(s.dnsGlobalQueriesPerSecond ?? DNS_DEFAULTS.dnsGlobalQueriesPerSecond, s.dnsMaxLaunchesInFlight ?? DNS_DEFAULTS.dnsMaxLaunchesInFlight),
    launch: parts.launch, used: parts.used, launchRefusal: parts.launchRefusal, rateLog: parts.rateLog,
    count, limited,
  });
  const server = new DnsServer({
    host: at.host, port: at.port, responder, log: parts.log,
    maxUdpInFlight: s.dnsMaxUdpInFlight ?? DNS_DEFAULTS.dnsMaxUdpInFlight,
    maxTcpConnections: s.dnsMaxTcpConnections ?? DNS_DEFAULTS.dnsMaxTcpConnections, tcpIdleMs: s.dnsTcpIdleMs ?? DNS_DEFAULTS.dnsTcpIdleMs,
  });
  try {
    await server.start();
  } catch (err) {
    await server.close();
    const code = (err as NodeJS.ErrnoException).code;
    const where = formatHostPort(at.host, at.port);
    const why = code === 'EADDRINUSE' ? `${where} is already in use (UDP or TCP); choose another with --dns-listen`
      : code === 'EACCES' ? `no permission to listen on ${where} (ports below 1024 need root or CAP_NET_BIND_SERVICE)` : (err as Error).message;
    throw new Error(`cannot answer DNS: ${why}`, { cause: err });
  }
  return server;
}
