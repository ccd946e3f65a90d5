import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LaunchSpec, ServiceView } from './entries.js';
import { publicEntry, REDACTED, redactSpec } from './redact.js';

const spec: LaunchSpec = {
  host: 'h1', program: '/usr/bin/db', args: ['--password=hunter22', '-v'], env: { DB_PASSWORD: 's3cret!', MODE: 'x' },
  cwd: '/srv/secret-dir', user: 'dbsvc', startTimeoutMs: 5000, restart: 'on-failure',
};

test('a redacted spec keeps host, program, counts and keys, and no value', () => {
  const r = redactSpec(spec);
  assert.deepEqual(r, {
    host: 'h1', program: '/usr/bin/db', args: [REDACTED, REDACTED], env: { DB_PASSWORD: REDACTED, MODE: REDACTED },
    cwd: REDACTED, user: REDACTED, startTimeoutMs: 5000, restart: 'on-failure', redacted: true,
  });
  assert.equal(redactSpec(r), r, 'redacting twice changes nothing');
  const bare = redactSpec({ host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1 });
  assert.equal('cwd' in bare || 'user' in bare, false, 'absent cwd and user stay absent');
});

test('publicEntry scrubs secret values out of a failure reason and leaves other entries alone', () => {
  const e: ServiceView = { kind: 'service', name: '/db', state: 'failed', since: 1, spec, reason: 'cannot enter /srv/secret-dir as dbsvc' };
  const p = publicEntry(e) as ServiceView;
  assert.equal(p.reason, `cannot enter ${REDACTED} as ${REDACTED}`);
  assert.doesNotMatch(JSON.stringify(p), /s3cret|hunter22|secret-dir|dbsvc/);
  assert.equal(e.spec, spec, 'the registry\'s own entry is not changed');
  const plain: ServiceView = { kind: 'service', name: '/p', state: 'running', since: 1, host: 'h', port: 1 };
  assert.equal(publicEntry(plain), plain);
});

test('a secret is scrubbed inside a longer path too, longest first, but never the host or program', () => {
  const s: LaunchSpec = { host: 'host-a', program: '/usr/bin/db', args: ['/usr/bin/db', 'host-a', 'ab'], env: { A: 'root', B: 'rootpw' }, user: 'root', startTimeoutMs: 1 };
  const e: ServiceView = { kind: 'service', name: '/db', state: 'failed', since: 1, spec: s, reason: 'cannot chdir to /fail/root as rootpw on host-a running /usr/bin/db (ab)' };
  assert.equal((publicEntry(e) as ServiceView).reason, `cannot chdir to /fail/${REDACTED} as ${REDACTED} on host-a running /usr/bin/db (ab)`);
});
