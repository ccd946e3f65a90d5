import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_BUCKETS, ServerMetrics } from './metrics.js';

test('a request is counted by method and outcome, and timed in the documented buckets', async () => {
  const m = new ServerMetrics();
  const started = process.hrtime.bigint();
  m.request('findServices', 'ok', started);
  m.request('findServices', 'ok', started);
  m.request('findServices', 'NOT_FOUND', started);
  const text = await m.registry.metrics();
  assert.match(text, /^dpns_requests_total\{method="findServices",outcome="ok"\} 2$/m);
  assert.match(text, /^dpns_requests_total\{method="findServices",outcome="NOT_FOUND"\} 1$/m);
  const les = [...text.matchAll(/^dpns_request_duration_seconds_bucket\{le="([^"]+)",method="findServices"\} (\d+)$/gm)];
  assert.deepEqual(les.map((b) => b[1]), [...DURATION_BUCKETS.map(String), '+Inf']);
  assert.equal(les.at(-1)?.[2], '3', '+Inf holds every request');
  assert.match(text, /^dpns_request_duration_seconds_count\{method="findServices"\} 3$/m);
});

test('the process and Node.js metrics an operator graphs first are exported', async () => {
  const text = await new ServerMetrics().registry.metrics();
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});

test('two servers in one process keep their own counts', async () => {
  const a = new ServerMetrics();
  const b = new ServerMetrics();
  a.loginFailures.inc();
  assert.match(await a.registry.metrics(), /^dpns_login_failures_total 1$/m);
  assert.match(await b.registry.metrics(), /^dpns_login_failures_total 0$/m);
});
