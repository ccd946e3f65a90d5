// Counters and histograms for `/metrics`, written out in the Prometheus text format 0.0.4
// by hand (no client library). Labels are few and bounded by the code that sets them.

/** Upper bounds of the request latency buckets, in seconds: 50 µs to 1 s. */
export const DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] as const;

type Labels = Readonly<Record<string, string>>;

/** A label value escaped as the text format asks: backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function header(name: string, help: string, type: 'counter' | 'gauge' | 'histogram'): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

/** A counter family keyed by its label values. */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const cur = this.values.get(key);
    if (cur === undefined) this.values.set(key, { labels, value: by });
    else cur.value += by;
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    let out = header(this.name, this.help, 'counter');
    for (const [key, v] of this.values) out += `${this.name}${key} ${v.value}\n`;
    return out;
  }
}

/** A histogram family keyed by its label values, with fixed buckets. */
export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number; labels: Labels }>();

  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[]) {}

  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0, labels };
      this.series.set(key, s);
    }
    // Only the first bucket that holds the value is counted; render makes them cumulative.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    for (const s of this.series.values()) {
      let acc = 0;
      this.buckets.forEach((b, i) => {
        acc += s.counts[i] ?? 0;
        out += `${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${acc}\n`;
      });
      out += `${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${s.sum}\n`;
      out += `${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/** A gauge read when the page is rendered: one sample per label set the reader returns. */
export function renderGauge(name: string, help: string, samples: readonly { labels?: Labels; value: number }[]): string {
  let out = header(name, help, 'gauge');
  for (const s of samples) out += `${name}${labelText(s.labels ?? {})} ${s.value}\n`;
  return out;
}

/** A counter whose total is kept elsewhere (the store's fsync count), read at render time. */
export function renderCounterValue(name: string, help: string, value: number): string {
  return `${header(name, help, 'counter')}${name} ${value}\n`;
}

/** The name server's own counters: requests by method and outcome, their latency, launches. */
export class ServerMetrics {
  readonly requests = new Counter('dpns_requests_total', 'Requests answered, by method and outcome (ok or the error code).');
  readonly duration = new Histogram('dpns_request_duration_seconds', 'Time from a request being read to its answer, durability wait included, by method.', DURATION_BUCKETS);
  readonly launches = new Counter('dpns_launches_total', 'Launch attempts through an agent, by outcome (ok or the LAUNCH_FAILED cause).');
  readonly expired = new Counter('dpns_lost_entries_expired_total', 'Lost entries nobody kept, deleted after --lost-expiry-ms.');
  readonly loginFailures = new Counter('dpns_login_failures_total', 'Wrong credentials: admin logins and agent enrollments refused UNAUTHORIZED.');
  readonly limits = new Counter('dpns_limit_refusals_total', 'Requests refused LIMIT_EXCEEDED, by the limit they hit (data.what).');
  readonly closes = new Counter('dpns_connections_closed_by_server_total', 'Client connections the server closed, by reason (heartbeat, slow_consumer, too_many, not_primary, history_changed, login_failures).');

  /** Records one answered request; `started` is from `process.hrtime.bigint()`. */
  request(method: string, outcome: string, started: bigint): void {
    this.requests.inc({ method, outcome });
    this.duration.observe({ method }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}
