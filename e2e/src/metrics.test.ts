// GET /metrics and /healthz on a real name server process: the page is strict Prometheus text
// (format 0.0.4) and its counters move with the traffic.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { DpnsClient, isDpnsError } from '@dpns/client';
import { startServerProcess, teardown, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
const clients: DpnsClient[] = [];
before(async () => {
  ns = await startServerProcess({ args: ['--log-level', 'warn'] });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
after(async () => {
  await teardown();
});

function client(): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server] });
  clients.push(c);
  return c;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: string;
  samples: Sample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${METRIC_NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;

/** Label pairs of one sample; throws on anything the text format does not allow. */
function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = LABEL.exec(rest);
    assert.ok(m !== null, `bad labels in ${JSON.stringify(line)}`);
    const [all, key = '', raw = ''] = m;
    assert.equal(out[key], undefined, `label ${key} twice in ${JSON.stringify(line)}`);
    out[key] = raw.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(all.length);
  }
  return out;
}

/**
 * A strict reader of the text format: every family has HELP then TYPE before its samples, every
 * sample belongs to the family declared last, and histograms are cumulative ending in +Inf = _count.
 */
function parseMetrics(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the page ends with a newline');
  const families = new Map<string, Family>();
  let current: { name: string; help: boolean; family?: Family } | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    // The format lets blank lines stand anywhere; prom-client puts one after every family.
    if (line === '') continue;
    const help = new RegExp(`^# HELP (${METRIC_NAME}) (.*)$`).exec(line);
    const type = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (help !== null) {
      const name = help[1] ?? '';
      assert.ok(!families.has(name), `${name} declared twice`);
      current = { name, help: true };
      continue;
    }
    if (type !== null) {
      const name = type[1] ?? '';
      assert.equal(current?.name, name, `TYPE of ${name} without its HELP just before it`);
      const family: Family = { type: type[2] ?? '', samples: [] };
      families.set(name, family);
      current.family = family;
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment ${JSON.stringify(line)}`);
    const m = SAMPLE.exec(line);
    assert.ok(m !== null, `not a sample line: ${JSON.stringify(line)}`);
    const [, name = '', labels = '', value = ''] = m;
    assert.ok(current?.family !== undefined, `sample ${name} before any HELP and TYPE`);
    const base = current.family.type === 'histogram' ? name.replace(/_(bucket|sum|count)$/, '') : name;
    assert.equal(base, current.name, `sample ${name} is not of the family declared last (${current.name})`);
    const v = value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value);
    assert.ok(!Number.isNaN(v) || value === 'NaN', `bad value in ${JSON.stringify(line)}`);
    current.family.samples.push({ name, labels: parseLabels(labels, line), value: v });
  }
  for (const [name, f] of families) if (f.type === 'histogram') checkHistogram(name, f);
  return families;
}

function checkHistogram(name: string, f: Family): void {
  const series = new Map<string, Sample[]>();
  const keyOf = (labels: Record<string, string>): string => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
  for (const s of f.samples) {
    const k = keyOf(s.labels);
    series.set(k, [...(series.get(k) ?? []), s]);
  }
  for (const [k, samples] of series) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    const count = samples.find((s) => s.name === `${name}_count`);
    assert.ok(samples.some((s) => s.name === `${name}_sum`), `${name}${k} has no _sum`);
    assert.ok(count !== undefined, `${name}${k} has no _count`);
    assert.ok(buckets.length > 0, `${name}${k} has no buckets`);
    let lastLe = -Infinity;
    let lastCount = 0;
    for (const b of buckets) {
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      assert.ok(le > lastLe, `${name}${k}: buckets not in increasing le order`);
      assert.ok(b.value >= lastCount, `${name}${k}: buckets not cumulative at le=${b.labels.le ?? '?'}`);
      lastLe = le;
      lastCount = b.value;
    }
    assert.equal(buckets.at(-1)?.labels.le, '+Inf', `${name}${k}: last bucket is not le="+Inf"`);
    assert.equal(buckets.at(-1)?.value, count.value, `${name}${k}: +Inf bucket differs from _count`);
  }
}

/** Sends one frame on a bare WebSocket (the client library refuses unknown methods) and returns the answer. */
async function rawCall(frame: string): Promise<string> {
  const ws = new WebSocket(ns.url);
  try {
    return await new Promise<string>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        if (text.includes('"method":"hello"')) ws.send(frame);
        else resolve(text);
      });
    });
  } finally {
    ws.close();
  }
}

async function scrape(): Promise<Map<string, Family>> {
  const res = await fetch(`http://${ns.server}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

function value(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}, sample = name): number {
  const f = fams.get(name);
  assert.ok(f !== undefined, `no family ${name}`);
  const s = f.samples.find((x) => x.name === sample && Object.entries(labels).every(([k, v]) => x.labels[k] === v) &&
    Object.keys(x.labels).filter((k) => k !== 'le').length === Object.keys(labels).filter((k) => k !== 'le').length);
  return s?.value ?? 0;
}

test('/metrics parses as Prometheus text and its counters move with the traffic', async () => {
  const c = client();
  await c.advertise('/m/one', '127.0.0.1', 9601);
  await c.findServices('/m/*');
  const before = await scrape();
  for (const name of ['dpns_requests_total', 'dpns_request_duration_seconds', 'dpns_registry_entries', 'dpns_registry_revision',
    'dpns_connections', 'dpns_watches', 'dpns_launches_total', 'dpns_wal_fsyncs_total', 'dpns_modules']) {
    assert.ok(before.has(name), `missing ${name}`);
  }
  assert.equal(before.get('dpns_request_duration_seconds')?.type, 'histogram');
  assert.equal(before.get('dpns_requests_total')?.type, 'counter');

  const N = 25;
  for (let i = 0; i < N; i++) await c.findServices('/m/*');
  await assert.rejects(c.findServices('/m/none'), (e) => isDpnsError(e, 'NOT_FOUND'));
  await assert.rejects(c.callModule('no.such', {}), (e) => isDpnsError(e, 'METHOD_NOT_FOUND'));
  assert.match(await rawCall('{"jsonrpc":"2.0","id":1,"method":"nosuch"}'), /"code":-32601/);
  const w = c.watch('/m/*');
  await w.ready;
  const after = await scrape();

  const ok = { method: 'findServices', outcome: 'ok' };
  assert.equal(value(after, 'dpns_requests_total', ok) - value(before, 'dpns_requests_total', ok), N);
  const nf = { method: 'findServices', outcome: 'NOT_FOUND' };
  assert.equal(value(after, 'dpns_requests_total', nf) - value(before, 'dpns_requests_total', nf), 1);
  // Unknown methods are lumped together, so a client cannot make up new series.
  assert.ok(value(after, 'dpns_requests_total', { method: 'unknown', outcome: 'METHOD_NOT_FOUND' }) >= 1);
  for (const s of after.get('dpns_requests_total')?.samples ?? []) assert.notEqual(s.labels.method, 'nosuch');
  const count = (f: Map<string, Family>): number =>
    value(f, 'dpns_request_duration_seconds', { method: 'findServices' }, 'dpns_request_duration_seconds_count');
  assert.equal(count(after) - count(before), N + 1);
  assert.ok(value(after, 'dpns_request_duration_seconds', { method: 'findServices', le: '1' }, 'dpns_request_duration_seconds_bucket') >= N);
  assert.ok(value(after, 'dpns_registry_entries', { kind: 'service' }) >= 1);
  assert.ok(value(after, 'dpns_registry_revision') >= 1);
  assert.ok(value(after, 'dpns_connections') >= 1);
  assert.equal(value(after, 'dpns_watches') - value(before, 'dpns_watches'), 1);
  assert.ok(value(after, 'dpns_wal_fsyncs_total') >= 1);
});

test('/healthz answers ok with the revision while the server runs', async () => {
  const res = await fetch(`http://${ns.server}/healthz`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { status: string; revision: number; entries: number };
  assert.equal(body.status, 'ok');
  assert.equal(typeof body.revision, 'number');
  assert.equal(typeof body.entries, 'number');
});
