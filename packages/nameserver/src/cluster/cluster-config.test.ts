import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterOf, ConfigError, loadConfig } from '../config.js';
import { failureWindowMs, quorumOf, standalone } from './cluster-config.js';

test('--cluster and --self make a cluster; the member listens at its own entry unless told otherwise', () => {
  const cfg = loadConfig({ cluster: 'a:7700, b:7700,c:7701', self: 'b:7700' }, {});
  assert.deepEqual(cfg.cluster, ['a:7700', 'b:7700', 'c:7701']);
  assert.equal(cfg.host, 'b');
  assert.equal(cfg.port, 7700);
  const c = clusterOf(cfg);
  assert.equal(c.self, 1);
  assert.equal(c.replication, 'sync');
  assert.equal(quorumOf(c), 2);
  const listening = loadConfig({ cluster: 'a:7700,b:7700,c:7700', self: 'c:7700', listen: '0.0.0.0:7700' }, {});
  assert.equal(listening.host, '0.0.0.0');
  assert.equal(clusterOf(listening).self, 2);
});

test('the environment can say it all, and a stand-alone server is a cluster of one', () => {
  const cfg = loadConfig({}, { DPNS_CLUSTER: 'x:1,y:2', DPNS_SELF: 'y:2', DPNS_REPLICATION: 'async', DPNS_READ_FROM_BACKUPS: 'true' });
  const c = clusterOf(cfg);
  assert.deepEqual([c.self, c.replication, c.readFromBackups], [1, 'async', true]);
  const alone = clusterOf(loadConfig({}, {}));
  assert.deepEqual([alone.members.length, alone.self, quorumOf(alone)], [1, 0, 1]);
});

test('a cluster of two needs both servers unless two-node failover is asked for', () => {
  assert.equal(quorumOf(clusterOf(loadConfig({ cluster: 'a:1,b:1', self: 'a:1' }, {}))), 2);
  assert.equal(quorumOf(clusterOf(loadConfig({ cluster: 'a:1,b:1', self: 'a:1', twoNodeFailover: true }, {}))), 1);
  assert.equal(quorumOf(clusterOf(loadConfig({ cluster: 'a:1,b:1,c:1,d:1,e:1', self: 'a:1' }, {}))), 3);
});

test('cluster settings that cannot work are refused with what to do', () => {
  assert.throws(() => loadConfig({ cluster: 'a:1,b:1' }, {}), (e: unknown) => e instanceof ConfigError && /--self/.test(e.message));
  assert.throws(() => loadConfig({ cluster: 'a:1,b:1', self: 'c:1' }, {}), /not in the cluster list/);
  assert.throws(() => loadConfig({ cluster: 'a:1,a:1', self: 'a:1' }, {}), /listed twice/);
  assert.throws(() => loadConfig({ self: 'a:1' }, {}), /only meaningful with --cluster/);
  assert.throws(() => loadConfig({ cluster: 'a:1,b:1', self: 'a:1', join: true }, {}), /in the cluster list already/);
  assert.throws(() => loadConfig({ cluster: 'a:1,b:1', join: true }, {}), /--self HOST:PORT/);
  assert.throws(() => loadConfig({ join: true }, {}), /only meaningful with --cluster/);
  assert.throws(() => loadConfig({ cluster: 'a:1', replication: 'maybe' }, {}), ConfigError);
  assert.throws(() => loadConfig({ cluster: 'a:1', restartMember: '{"program":"bin/relative"}' }, {}), /absolute path or a short name/);
  const ok = loadConfig({ cluster: 'a:1', restartMember: '{"program":"/usr/bin/dpns-nameserver","args":["--self","{self}"]}' }, {});
  assert.deepEqual(ok.restartMember, { program: '/usr/bin/dpns-nameserver', args: ['--self', '{self}'] });
});

test('two-node failover changes only a cluster of two', () => {
  const three = { ...standalone('a:1'), members: ['a:1', 'b:1', 'c:1'], twoNodeFailover: true };
  assert.equal(quorumOf(three), 2);
  assert.equal(quorumOf({ ...three, members: ['a:1'] }), 1);
});

test('a stand-alone server: a cluster of one, synchronous, neither failing over nor serving reads as a backup', () => {
  assert.deepEqual(standalone('h:7700'), { members: ['h:7700'], self: 0, address: 'h:7700', join: false, replication: 'sync', clusterHeartbeatMs: 150, clusterMisses: 4, twoNodeFailover: false, readFromBackups: false });
  assert.equal(quorumOf(standalone('h:7700')), 1);
});

test('a member counts as gone after the heartbeats it may miss', () => {
  assert.equal(failureWindowMs({ ...standalone('h:1'), clusterHeartbeatMs: 150, clusterMisses: 4 }), 600);
});

test('a joining server: self is not in the list, and its SID is unknown until the primary dials it', () => {
  const cfg = loadConfig({ cluster: 'a:1,b:1,c:1', self: '127.0.0.1:9', join: true }, {});
  const c = clusterOf(cfg);
  assert.equal(c.self, -1);
  assert.equal(c.address, '127.0.0.1:9');
  assert.equal(c.join, true);
  assert.deepEqual(c.members, ['a:1', 'b:1', 'c:1']);
  assert.equal(cfg.port, 9);
});
