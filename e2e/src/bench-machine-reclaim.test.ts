// The benchmark's line on the kernel's own reclaim (bench/machine-reclaim.ts), on a made-up
// sysfs tree: the figures of a large registry depend on it, so a run must say when it is on.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { proactiveReclaim } from './bench/machine-reclaim.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'dpns-damon-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${text}\n`);
  }
  return root;
}

const PAGEOUT = {
  '0/state': 'on',
  '0/contexts/0/monitoring_attrs/intervals/sample_us': '500000',
  '0/contexts/0/monitoring_attrs/intervals/aggr_us': '5000000',
  '0/contexts/0/schemes/0/action': 'pageout',
  '0/contexts/0/schemes/0/access_pattern/age/min': '12',
};

void test('a running pageout scheme is named with the idle time it waits for and how often memory is sampled', (t) => {
  const root = tree(PAGEOUT);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(proactiveReclaim(root), 'DAMON reclaim on (pageout of memory idle ≥ 60 s, sampled every 500 ms)');
});

void test('no line when the kdamond is off, or the kernel has no DAMON', (t) => {
  const root = tree({ ...PAGEOUT, '0/state': 'off' });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(proactiveReclaim(root), undefined);
  assert.equal(proactiveReclaim(join(root, 'absent')), undefined);
});
