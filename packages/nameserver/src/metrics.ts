// The name server's metrics on prom-client, the Prometheus client every Node operator knows:
// the request counters kept as they happen, the gauges read from the server's parts at scrape
// time (metrics-page.ts), and prom-client's default process and Node.js metrics (CPU, memory,
// heap, GC, file descriptors, event-loop lag). Labels are few and bounded by the code that sets them.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Upper bounds of the request latency buckets, in seconds: 50 µs to 1 s. */
export const DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

/** The name server's own counters: requests by method and outcome, their latency, launches. */
export class ServerMetrics {
  /** Every series of this server's /metrics; a registry per server, so servers in one process (tests) stay apart. */
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'dpns_requests_total', help: 'Requests answered, by method and outcome (ok or the error code).', labelNames: ['method', 'outcome'] as const, registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'dpns_request_duration_seconds', help: 'Time from a request being read to its answer, durability wait included, by method.',
    labelNames: ['method'] as const, buckets: [...DURATION_BUCKETS], registers: [this.registry],
  });
  readonly launches = new Counter({ name: 'dpns_launches_total', help: 'Launch attempts through an agent, by outcome (ok or the LAUNCH_FAILED cause).', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly onDemandLaunches = new Counter({
    name: 'dpns_on_demand_launches_total', help: 'Launches a lookup started (not an admin, nor the restart policy), by what asked: find, dns or launchService.',
    labelNames: ['via'] as const, registers: [this.registry],
  });
  readonly idleStops = new Counter({ name: 'dpns_idle_stops_total', help: 'Auto-start services stopped because nobody used them for their idle stop (state stopped, reason idle).', registers: [this.registry] });
  readonly dnsQueries = new Counter({
    name: 'dpns_dns_queries_total', help: 'DNS queries, by transport (udp, tcp) and answer (the rcode, or dropped: not answered).', labelNames: ['transport', 'rcode'] as const, registers: [this.registry],
  });
  readonly dnsLimited = new Counter({
    name: 'dpns_dns_limited_total', help: 'DNS queries a bound refused, by limit: source_rate and global_rate (dropped), udp_in_flight, source_launches and launches_in_flight (SERVFAIL).',
    labelNames: ['limit'] as const, registers: [this.registry],
  });
  readonly expired = new Counter({ name: 'dpns_lost_entries_expired_total', help: 'Lost entries nobody kept, deleted after --lost-expiry-ms.', registers: [this.registry] });
  readonly loginFailures = new Counter({ name: 'dpns_login_failures_total', help: 'Wrong credentials: admin logins and agent enrollments refused UNAUTHORIZED.', registers: [this.registry] });
  readonly limits = new Counter({ name: 'dpns_limit_refusals_total', help: 'Requests refused LIMIT_EXCEEDED, by the limit they hit (data.what).', labelNames: ['what'] as const, registers: [this.registry] });
  readonly healthChecks = new Counter({ name: 'dpns_health_checks_total', help: 'Health probes the primary ran, by kind (tcp, http) and outcome (ok, failed).', labelNames: ['kind', 'outcome'] as const, registers: [this.registry] });
  readonly closes = new Counter({
    name: 'dpns_connections_closed_by_server_total', help: 'Client connections the server closed, by reason (heartbeat, slow_consumer, too_many, not_primary, history_changed, login_failures).',
    labelNames: ['reason'] as const, registers: [this.registry],
  });

  /**
   * The children of a request's two series, by method and outcome: found by one map lookup on
   * the hot path instead of prom-client hashing a label object on every request.
   */
  private readonly perRequest = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<'method'> }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters, which `promtool check metrics` flags; the same counts are
    // exported without the suffix (nodejs_active_handles, nodejs_active_requests, nodejs_active_resources).
    for (const misnamed of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(misnamed);
  }

  /** Records one answered request; `started` is from `process.hrtime.bigint()`. */
  request(method: string, outcome: string, started: bigint): void {
    const key = `${method}\0${outcome}`;
    let s = this.perRequest.get(key);
    if (s === undefined) {
      s = { count: this.requests.labels(method, outcome), duration: this.duration.labels(method) };
      this.perRequest.set(key, s);
    }
    s.count.inc();
    s.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }
}
