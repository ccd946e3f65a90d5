// The /metrics page: the request counters kept as they happen (ServerMetrics) and the gauges
// read from the server's parts at scrape time. PROTOCOL.md §16 lists every series; the
// conformance test holds the two to each other.
import type { ClientConnections } from './client-connections.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import type { LoopDelay } from './loop-delay.js';
import { renderCounterValue, renderGauge, type ServerMetrics } from './metrics.js';
import type { ModuleManager } from './modules/manager.js';
import type { Registry } from './registry/registry.js';
import type { PendingSockets } from './socket-guard.js';
import type { Store } from './storage/store.js';
import type { WatchHub } from './watch-hub.js';

/** What the page reads; the parts that exist only once the server has started may be absent. */
export interface MetricsSources {
  metrics: ServerMetrics;
  registry: Registry;
  hub: WatchHub;
  loopDelay: LoopDelay;
  pendingSockets: PendingSockets;
  clients: Pick<ClientConnections, 'size' | 'partial' | 'heartbeat'>;
  store(): Store | undefined;
  modules(): ModuleManager | undefined;
  cluster(): ClusterNode | undefined;
}

export function renderMetricsPage(s: MetricsSources): string {
  const kinds = s.registry.countByKind();
  const moduleStates = new Map<string, number>();
  for (const m of s.modules()?.list() ?? []) moduleStates.set(m.state, (moduleStates.get(m.state) ?? 0) + 1);
  const store = s.store();
  const w = s.loopDelay.window();
  return [
    s.metrics.requests.render(),
    s.metrics.duration.render(),
    renderGauge('dpns_registry_entries', 'Entries in the registry, by kind.', [
      { labels: { kind: 'service' }, value: kinds.service }, { labels: { kind: 'alias' }, value: kinds.alias },
    ]),
    renderGauge('dpns_registry_revision', 'Revision of the last applied registry change.', [{ value: s.registry.revision }]),
    renderGauge('dpns_connections', 'Open client connections.', [{ value: s.clients.size }]),
    renderGauge('dpns_unfinished_input_bytes', 'Bytes of client messages still arriving, over all connections.', [{ value: s.clients.partial.bytes }]),
    renderGauge('dpns_http_pending_sockets', 'Accepted sockets that are still plain HTTP (not yet a WebSocket).', [{ value: s.pendingSockets.size }]),
    renderCounterValue('dpns_http_sockets_cut_total', 'Plain HTTP sockets cut because too many were open at once (the oldest goes first).', s.pendingSockets.cut),
    renderGauge('dpns_watches', 'Open watches over all connections.', [{ value: s.hub.size }]),
    renderGauge('dpns_watch_patterns_scanned', 'Distinct watched patterns tried one by one on every change (neither a name nor PREFIX*).', [{ value: s.hub.scannedPatterns }]),
    s.metrics.launches.render(),
    s.metrics.closes.render(),
    s.metrics.limits.render(),
    s.metrics.loginFailures.render(),
    s.metrics.expired.render(),
    renderGauge('dpns_event_loop_delay_seconds', 'How late the event loop ran over the last 10 to 20 s, by quantile (1 = the largest).', [
      { labels: { quantile: '0.5' }, value: w.p50Ms / 1000 }, { labels: { quantile: '0.99' }, value: w.p99Ms / 1000 }, { labels: { quantile: '1' }, value: w.maxMs / 1000 },
    ]),
    renderCounterValue('dpns_heartbeat_late_rounds_total', 'Heartbeat rounds that judged no peer because this server itself was late.', s.clients.heartbeat.lateRounds),
    renderCounterValue('dpns_wal_fsyncs_total', 'fsync calls made by the write-ahead log.', store?.stats.fsyncs ?? 0),
    renderGauge('dpns_storage_writable', 'Whether the write-ahead log takes writes (0 while a disk or descriptor fault makes writes be refused with STORAGE_UNAVAILABLE).', [{
      value: store?.state === 'open' ? 1 : 0,
    }]),
    renderCounterValue('dpns_storage_faults_total', 'Times a write-ahead log write or open failed and writes were refused until a probe write succeeded.', store?.stats.faults ?? 0),
    renderGauge('dpns_modules', 'External modules, by state.', [...moduleStates].map(([state, value]) => ({ labels: { state }, value }))),
    ...clusterMetrics(s.cluster()),
  ].join('');
}

function clusterMetrics(c: ClusterNode | undefined): string[] {
  if (c === undefined) return [];
  return [
    renderGauge('dpns_cluster_role', 'This server\'s role in the cluster (1 for the current one).', (['primary', 'backup', 'candidate'] as const).map((role) => ({
      labels: { role }, value: c.role === role ? 1 : 0,
    }))),
    renderGauge('dpns_cluster_epoch', 'The newest epoch this server knows of.', [{ value: c.epoch }]),
    renderGauge('dpns_cluster_members_connected', 'Members this server hears from, itself included.', [{ value: c.status().filter((m) => m.connected).length }]),
    renderGauge('dpns_replication_lag_records', 'Records each backup is behind this primary.', [...c.lagBySid()].map(([sid, value]) => ({ labels: { sid: String(sid) }, value }))),
    renderCounterValue('dpns_failovers_total', 'Times this server took over from a failed or deposed primary.', c.takeovers),
    renderCounterValue('dpns_replication_dropped_total', 'Backups dropped from the star for not acknowledging in time.', c.dropped),
  ];
}
