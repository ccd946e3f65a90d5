import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, escapeLabelValue, Histogram } from './metrics.js';

test('label values escape backslash, double quote and newline', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const c = new Counter('x_total', 'X.');
  c.inc({ method: 'we"ird\n' }, 2);
  assert.equal(c.render(), '# HELP x_total X.\n# TYPE x_total counter\nx_total{method="we\\"ird\\n"} 2\n');
});

test('histogram buckets are cumulative and end with +Inf equal to the count', () => {
  const h = new Histogram('d_seconds', 'D.', [0.1, 1]);
  for (const v of [0.05, 0.5, 0.5, 5]) h.observe({ m: 'a' }, v);
  assert.deepEqual(h.render().split('\n').slice(2, -1), [
    'd_seconds_bucket{m="a",le="0.1"} 1',
    'd_seconds_bucket{m="a",le="1"} 3',
    'd_seconds_bucket{m="a",le="+Inf"} 4',
    'd_seconds_sum{m="a"} 6.05',
    'd_seconds_count{m="a"} 4',
  ]);
});
