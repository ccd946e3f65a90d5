import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './log.js';
import { RateLimitedLog } from './rate-limited-log.js';

test('a flood of lines is cut to the rate, and the count of those left out is logged', () => {
  const lines: string[] = [];
  let clock = 0;
  const log = new RateLimitedLog(createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }), 5, () => clock);
  for (let i = 0; i < 1000; i++) log.info('closed', { i });
  assert.equal(lines.length, 5);
  clock = 1000;
  log.warn('again');
  assert.equal(lines.length, 7);
  assert.match(lines[5] ?? '', /"count":995/);
  assert.match(lines[6] ?? '', /again/);
});
