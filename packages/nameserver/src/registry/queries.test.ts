import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, type DpnsError, type ServiceView } from '@dpns/protocol';
import { Registry } from './registry.js';
import { find, states } from './queries.js';

const failed: ServiceView = {
  kind: 'service', name: '/s', state: 'failed', since: 1, reason: 'AGENT_SPAWN_FAILED: permission denied (can dbsvc enter /srv/secret-dir?)',
  spec: { host: 'h', program: '/bin/db', args: ['--password=hunter22'], env: { DB_PASSWORD: 's3cret!' }, cwd: '/srv/secret-dir', user: 'dbsvc', startTimeoutMs: 1000 },
};

test('state answers redacted specs and find refusals scrub spec values out of the reason', () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: failed }], 1);
  const [e] = states(reg, '*') as ServiceView[];
  assert.equal(e?.spec?.redacted, true);
  assert.doesNotMatch(JSON.stringify(e), /s3cret|hunter22|secret-dir|dbsvc/);
  assert.equal((reg.get('/s') as ServiceView).spec?.env.DB_PASSWORD, 's3cret!', 'the registry keeps the values');
  assert.throws(() => find(reg, '/s'), (err: unknown) => {
    const d = err as DpnsError;
    return d.code === 'NOT_RUNNING' && !/secret-dir|dbsvc/.test(d.message) && d.message.includes(REDACTED) && !/secret-dir/.test(String(d.details?.reason));
  });
});
