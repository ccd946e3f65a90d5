// Every setting of dpns-nameserver, once: its name (the config-file key; the flag and the DPNS_*
// variable are spelled from it), what it takes, its default and its help. main.ts, config.ts and
// docs/SETTINGS.md (`pnpm run settings-doc`) are derived from this table. A default that the code
// obeying it also needs lives with that code and is named here.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { agent as A, DEFAULT_MAX_FRAME_BYTES, DEFAULT_PORT } from '@dpns/protocol';
import { ConfigError } from '@dpns/node-kit';
import { address, bool, defineSettings, endpoint, int, logSettings, oneOf, path, setting, text, type Values } from '@dpns/settings';
import { DNS_DEFAULTS } from './dns/dns-defaults.js';
import { canonicalDomain } from './dns/dns-names.js';
import { CLUSTER_DEFAULTS } from './cluster/cluster-config.js';
import { DEFAULT_QUOTAS } from './liveness.js';
import { DEFAULT_MODULE_LIMITS } from './modules/limits.js';
import { DEFAULT_RESERVATION_MS } from './registry/reservation.js';
import { DEFAULT_LOST_EXPIRY_MS, DEFAULT_MAX_LOST_ENTRIES } from './registry/stray-expiry.js';
import { adminPrefixes, agentKeys, members, origins, restartSpec } from './setting-kinds.js';
import { DEFAULT_MAX_WATCHES_PER_ADDRESS } from './watch-hub.js';

/** /var/lib/dpns for root (the unit's StateDirectory), else under the user's XDG state directory. */
export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/dpns';
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'dpns');
}

const DAY_MS = 86_400_000;
const SERVER = 'Server';
const CLIENTS = 'Clients';
const LIMITS = 'Limits';
const NAMES = 'Names';
const LAUNCH = 'Launching';
const MODULES = 'Modules';
const CLUSTER = 'Cluster';
const DNS = 'DNS';

export const SERVER_SETTINGS = defineSettings({ command: 'dpns-nameserver', envPrefix: 'DPNS_' }, {
  listen: setting({
    kind: endpoint(DEFAULT_PORT), default: { host: '127.0.0.1', port: DEFAULT_PORT }, group: SERVER,
    help: 'HOST:PORT to listen on; port 0 picks a free one, printed at start',
  }),
  dataDir: setting({
    kind: path(), default: defaultDataDir, defaultText: '/var/lib/dpns as root, else ~/.local/state/dpns', group: SERVER,
    help: 'where the log, snapshots, admin.token and nameserver.key live; one server at a time',
  }),
  publicAddress: setting({
    kind: address(DEFAULT_PORT), defaultText: 'the listen address (the host name for 0.0.0.0 or ::)', group: SERVER,
    help: 'HOST:PORT launched services use to reach this server',
  }),
  snapshotEvery: setting({ kind: int(10, 100_000_000), default: 10_000, group: SERVER, help: "at least this many log records between snapshots, and at least an eighth of the registry's entries (so snapshot work per write stays flat as it grows, and a restart replays at most about that many records)" }),
  ...logSettings(SERVER),

  clientHeartbeatMs: setting({
    kind: int(20, 60_000), default: 1000, group: CLIENTS, deprecated: { flag: 'heartbeat-ms', env: 'DPNS_HEARTBEAT_MS', key: 'heartbeatMs' },
    help: 'interval of the pings to each client, sent in hello.heartbeatMs; a silent client is cut off within two, and a dead advertiser\'s names are lost',
  }),
  graceMs: setting({ kind: int(0, 3_600_000), default: 5000, group: CLIENTS, help: 'after a restart, how long advertisers have to reconnect and keep their names' }),
  maxFrameBytes: setting({ kind: int(1024, 64 * 1024 * 1024), default: DEFAULT_MAX_FRAME_BYTES, group: CLIENTS, help: 'largest request frame accepted, sent in hello.maxFrameBytes' }),
  allowedOrigins: setting({
    kind: origins, default: [], group: CLIENTS,
    help: 'browser origins, besides this server\'s own monitor page, whose pages may open a WebSocket here; a flag may list several comma-separated',
  }),

  maxConnections: setting({ kind: int(1, 1_000_000), default: 20_000, group: LIMITS, help: 'connections accepted at once' }),
  maxConnectionsPerAddress: setting({ kind: int(1, 1_000_000), default: 5000, group: LIMITS, help: 'connections one source address may hold at once' }),
  maxWatchesPerConnection: setting({ kind: int(1, 1_000_000), default: 1000, flag: 'max-watches', group: LIMITS, help: 'watches one connection may hold' }),
  maxWatchesPerAddress: setting({
    kind: int(1, 100_000_000), default: DEFAULT_MAX_WATCHES_PER_ADDRESS, group: LIMITS, help: 'watches the connections from one source address may hold together',
  }),
  maxAdvertisementsPerConnection: setting({
    kind: int(1, 1_000_000), default: 10_000, flag: 'max-advertisements', group: LIMITS, help: 'names one non-admin connection may keep advertised',
  }),
  maxAdvertisementsPerAddress: setting({
    kind: int(1, 10_000_000), default: DEFAULT_QUOTAS.perAddress, group: LIMITS, help: 'names the non-admin connections from one source address may keep advertised together',
  }),
  maxAdvertisementsPerOwner: setting({
    kind: int(1, 10_000_000), default: DEFAULT_QUOTAS.perOwner, group: LIMITS, help: 'names the non-admin connections that proved one owner key may keep advertised together',
  }),

  reservationMs: setting({
    kind: int(0, 30 * DAY_MS), default: DEFAULT_RESERVATION_MS, group: NAMES,
    help: 'how long a lost name stays reserved for the owner key that advertised it; 0 reserves nothing',
  }),
  lostExpiryMs: setting({
    kind: int(0, 30 * DAY_MS), default: DEFAULT_LOST_EXPIRY_MS, group: NAMES,
    help: 'a lost entry that nobody keeps (its advertiser went, no reservation, no alias to it) is deleted after this long; 0 keeps them',
  }),
  maxLostEntries: setting({
    kind: int(1, 100_000_000), default: DEFAULT_MAX_LOST_ENTRIES, group: NAMES, help: 'lost entries nobody keeps, at most; past it the oldest are deleted early',
  }),
  adminPrefixes: setting({
    kind: adminPrefixes, default: [], flag: 'admin-prefix', group: NAMES,
    help: 'a name pattern, e.g. /prod/*, under which only admins (or launched services with their ticket) may advertise',
  }),

  agentPort: setting({ kind: int(1, 65535), default: A.AGENT_PORT, group: LAUNCH, help: 'port of the dpns-launchd agents that start services' }),
  agentTimeoutMs: setting({ kind: int(100, 600_000), default: 10_000, group: LAUNCH, help: 'how long one agent operation may take (a kill: this and 10 s more)' }),
  agentKeys: setting({
    kind: agentKeys, flag: 'agent-key', defaultText: 'the agent enrolled for the host', group: LAUNCH,
    help: 'HOST=HEX: accept only the launch agent with this identity on HOST',
  }),

  modulesDir: setting({
    kind: path(), defaultText: 'DATA_DIR/modules.d if it exists', group: MODULES, help: 'load every .mjs and .js module in this directory at start (docs/MODULES.md)',
  }),
  moduleTimeoutMs: setting({
    kind: int(10, 600_000), default: DEFAULT_MODULE_LIMITS.moduleTimeoutMs, group: MODULES, help: 'time limit of one module call; past it the module is restarted',
  }),
  moduleLoadTimeoutMs: setting({
    kind: int(100, 600_000), default: DEFAULT_MODULE_LIMITS.moduleLoadTimeoutMs, group: MODULES, help: 'time limit of a module\'s import, registry copy and init together',
  }),
  moduleMemoryMb: setting({ kind: int(16, 65_536), default: DEFAULT_MODULE_LIMITS.moduleMemoryMb, group: MODULES, help: 'V8 heap limit of each module process' }),
  moduleMaxRestarts: setting({
    kind: int(0, 1000), default: DEFAULT_MODULE_LIMITS.moduleMaxRestarts, group: MODULES, help: 'failures in a row before a module stays failed',
  }),
  moduleNice: setting({
    kind: int(0, 19), default: DEFAULT_MODULE_LIMITS.moduleNice, group: MODULES, help: 'niceness of module processes, so the server keeps the CPU when one spins; 0 leaves it',
  }),

  cluster: setting({
    kind: members, defaultText: 'none: a stand-alone server', group: CLUSTER,
    help: 'backup mode: every member, in SID order, the same list on each (copy nameserver.key and admin.token to every member first)',
  }),
  self: setting({
    kind: address(DEFAULT_PORT), group: CLUSTER, defaultText: 'the only member of a cluster of one',
    help: 'this server\'s entry in cluster, written as it is there; it listens there unless listen says otherwise',
  }),
  join: setting({
    kind: bool(), default: false, group: CLUSTER,
    help: 'start empty as a new member of a running cluster: self is not in cluster (the list the cluster was started with); the primary catches it up once an admin runs dpns servers add SELF (docs/CLUSTER.md)',
  }),
  replication: setting({
    kind: oneOf(['sync', 'async'] as const), default: CLUSTER_DEFAULTS.replication, group: CLUSTER,
    help: 'sync: a write is answered once every connected backup stored it; async: at once',
  }),
  clusterHeartbeatMs: setting({
    kind: int(10, 60_000), default: CLUSTER_DEFAULTS.clusterHeartbeatMs, group: CLUSTER, deprecated: { flag: 'repl-heartbeat-ms', key: 'replHeartbeatMs' },
    help: 'interval of the heartbeats between cluster members',
  }),
  clusterMisses: setting({
    kind: int(2, 100), default: CLUSTER_DEFAULTS.clusterMisses, group: CLUSTER, deprecated: { flag: 'repl-misses', key: 'replMisses' },
    help: 'heartbeats missed before a member counts as gone (by default a dead member is noticed in 0.6 s)',
  }),
  twoNodeFailover: setting({
    kind: bool(), default: CLUSTER_DEFAULTS.twoNodeFailover, group: CLUSTER,
    help: 'in a cluster of two, let the survivor take over alone (a partition can then make two primaries)',
  }),
  readFromBackups: setting({
    kind: bool(), default: CLUSTER_DEFAULTS.readFromBackups, group: CLUSTER, help: 'backups answer find, list, state and watch themselves',
  }),
  restartMember: setting({
    kind: restartSpec, defaultText: 'none: a failed member is not restarted', group: CLUSTER,
    help: 'after a takeover, have the old primary\'s agent start it again; {self} and {sid} in args name the member',
  }),

  dnsListen: setting({
    kind: endpoint(8600), defaultText: 'off: no DNS', group: DNS,
    help: 'HOST:PORT to answer DNS queries on, over UDP and TCP (docs/DNS.md), e.g. 127.0.0.1:8600; port 0 picks a free one, printed at start',
  }),
  dnsDomain: setting({
    kind: text('DNS domain, like dpns. or dpns.example.com.', (v, at) => {
      try {
        return canonicalDomain(v);
      } catch (e) {
        throw new ConfigError(`${at}: ${(e as Error).message}`);
      }
    }),
    default: DNS_DEFAULTS.dnsDomain, group: DNS, help: 'the domain dpns names are answered under: /vods/qs is qs.vods.dpns.; other names are REFUSED',
  }),
  dnsTtl: setting({ kind: int(0, 86_400), default: DNS_DEFAULTS.dnsTtl, group: DNS, help: 'seconds resolvers may cache a DNS answer, a negative one included; 0 caches nothing' }),
  dnsQueriesPerSecond: setting({
    kind: int(1, 1_000_000), default: DNS_DEFAULTS.dnsQueriesPerSecond, group: DNS,
    help: 'DNS queries one source address may send a second (bursts of as many); past it they are dropped',
  }),
  dnsGlobalQueriesPerSecond: setting({
    kind: int(1, 1_000_000), default: DNS_DEFAULTS.dnsGlobalQueriesPerSecond, group: DNS,
    help: 'DNS queries all sources together may send a second (bursts of as many), however many source addresses they forge; past it they are dropped',
  }),
  dnsMaxUdpInFlight: setting({
    kind: int(1, 100_000), default: DNS_DEFAULTS.dnsMaxUdpInFlight, group: DNS,
    help: 'UDP DNS queries being answered at once, over all sources; past it a query is answered SERVFAIL at once',
  }),
  dnsMaxLaunchesInFlight: setting({
    kind: int(1, 10_000), default: DNS_DEFAULTS.dnsMaxLaunchesInFlight, group: DNS,
    help: 'DNS queries (UDP and TCP) waiting at once for a launch they asked for; past it a query that would launch is answered SERVFAIL at once',
  }),
  dnsMaxTcpConnections: setting({ kind: int(1, 100_000), default: DNS_DEFAULTS.dnsMaxTcpConnections, group: DNS, help: 'DNS-over-TCP connections open at once' }),
  dnsTcpIdleMs: setting({ kind: int(100, 600_000), default: DNS_DEFAULTS.dnsTcpIdleMs, group: DNS, help: 'a DNS-over-TCP connection that sends nothing for this long is closed' }),
});

/** The settings' values, as the table types them. */
export type ServerSettings = Values<typeof SERVER_SETTINGS.specs>;
