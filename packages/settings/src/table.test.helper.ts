// A small table with one setting of each shape, for the package's own tests.
import { bool, defineSettings, endpoint, int, kind, oneOf, path, setting } from './index.js';

export const TABLE = defineSettings({ command: 'demo', envPrefix: 'DEMO_' }, {
  listen: setting({ kind: endpoint(9000), default: { host: '127.0.0.1', port: 9000 }, group: 'Place', help: 'where it listens' }),
  stateDir: setting({ kind: path(), default: () => '/var/lib/demo', defaultText: '/var/lib/demo', group: 'Place', help: 'its state | its logs' }),
  pingMs: setting({ kind: int(10, 1000), default: 100, group: 'Timing', help: 'ping interval', deprecated: { flag: 'heartbeat-ms', env: 'DEMO_HEARTBEAT_MS', key: 'heartbeatMs' } }),
  maxItemsPerConnection: setting({ kind: int(1, 10), default: 5, flag: 'max-items', group: 'Timing', help: 'items' }),
  mode: setting({ kind: oneOf(['a', 'b'] as const), default: 'a', group: 'Timing', help: 'the mode' }),
  verbose: setting({ kind: bool(), default: false, group: 'Timing', help: 'say more' }),
  tags: setting({
    kind: kind<string[]>({ text: 'tag', flag: 'repeatable', show: (v) => v.join(','), parse: (v, at) => (Array.isArray(v) ? v.map(String) : [String(v)]).map((t) => (t === 'bad' ? (() => { throw new Error(`${at}: bad tag`); })() : t)) }),
    default: [], flag: 'tag', group: 'Place', help: 'a tag',
  }),
  peer: setting({ kind: endpoint(9000), group: 'Place', help: 'a peer, when there is one' }),
});
