import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, LOG_REDACTED, type LogLevel } from './log.js';

function capture(level: LogLevel, format: 'json' | 'text' = 'json') {
  const lines: string[] = [];
  const log = createLogger({ level, format, write: (l) => lines.push(l) });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('one JSON object a line: ts, level and msg, then the fields and the child\'s fields', () => {
  const { log, lines, records } = capture('debug');
  log.child({ conn: 7 }).info('hello', { n: 1 });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]?.endsWith('}\n'));
  const [r] = records();
  assert.match(String(r?.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual({ ...r, ts: undefined }, { ts: undefined, level: 'info', msg: 'hello', conn: 7, n: 1 });
});

test('levels below the configured one are dropped; silent drops all', () => {
  const { log, records } = capture('warn');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(records().map((r) => [r.level, r.msg]), [['warn', 'w'], ['error', 'e']]);
  const quiet = capture('silent');
  quiet.log.error('x');
  assert.equal(quiet.lines.length, 0);
});

test('an Error under any key keeps its name, message and stack', () => {
  const { log, records } = capture('info');
  log.warn('failed', { cause: new RangeError('too far') });
  const cause = records()[0]?.cause as { name: string; message: string; stack: string };
  assert.equal(cause.name, 'RangeError');
  assert.equal(cause.message, 'too far');
  assert.match(cause.stack, /RangeError: too far/);
});

test('secrets are redacted by configuration: tokens, tickets, proofs, keys, and a spec\'s env values and args', () => {
  for (const format of ['json', 'text'] as const) {
    const { log, lines } = capture('debug', format);
    log.info('a', { token: 'T0KEN', ticket: 'TICK', pair: { clientTicket: 'CT', serviceTicket: 'ST' }, proof: 'PR00F' });
    log.info('b', { spec: { host: 'h', program: '/bin/db', env: { DB_PASSWORD: 'PASSW0RD' }, args: ['--password=ARGSECRET'] } });
    log.info('c', { params: { spec: { env: { K: 'DEEPSECRET' }, args: ['DEEPARG'] }, joinToken: 'J01N' } });
    log.child({ seed: 'SEEDVALUE' }).info('d');
    const text = lines.join('');
    for (const secret of ['T0KEN', 'TICK', 'CT', 'ST', 'PR00F', 'PASSW0RD', 'ARGSECRET', 'DEEPSECRET', 'DEEPARG', 'J01N', 'SEEDVALUE']) {
      assert.ok(!text.includes(secret), `${format}: ${secret} reached the log: ${text}`);
    }
    assert.ok(text.includes(LOG_REDACTED), format);
    // What is not secret stays: the key names, the host and the program.
    // (A text line writes an object field as JSON too.)
    for (const k of ['"DB_PASSWORD":"[redacted]"', '"program":"/bin/db"', '"host":"h"']) assert.ok(text.includes(k), `${format}: ${k} in ${text}`);
  }
});

test('text: a line a record, ts LEVEL msg key=value', () => {
  const { log, lines } = capture('info', 'text');
  log.child({ conn: 3 }).warn('slow consumer', { queued: 10, why: 'x y' });
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^\d{4}-\d\d-\d\dT\S+Z WARN {2}slow consumer conn=3 queued=10 why=x y\n$/);
});
