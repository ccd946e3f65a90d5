// The gauges of /metrics, read from the server's parts when Prometheus scrapes, beside the
// counters kept as things happen (metrics.ts). PROTOCOL.md §16 lists every series; the
// conformance test holds the two to each other.
import { Counter, Gauge } from 'prom-client';
import type { ClientConnections } from './client-connections.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import type { HealthChecker } from './health/checker.js';
import type { LoopDelay } from './loop-delay.js';
import type { ServerMetrics } from './metrics.js';
import type { ModuleManager } from './modules/manager.js';
import type { Registry } from './registry/registry.js';
import type { PendingSockets } from './socket-guard.js';
import type { Store } from './storage/store.js';
import type { WatchHub } from './watch-hub.js';

/** What the gauges read; the parts that exist only once the server has started may be absent. */
export interface MetricsSources {
  registry: Registry;
  hub: WatchHub;
  loopDelay: LoopDelay;
  pendingSockets: PendingSockets;
  clients: Pick<ClientConnections, 'size' | 'partial' | 'heartbeat'>;
  store(): Store | undefined;
  modules(): ModuleManager | undefined;
  cluster(): ClusterNode | undefined;
  health(): HealthChecker | undefined;
}

/** Adds the scrape-time series to `m.registry`. */
export function registerServerGauges(m: ServerMetrics, s: MetricsSources): void {
  const registers = [m.registry];
  const gauge = (name: string, help: string, read: () => number) => new Gauge({
    name, help, registers, collect() {
      this.set(read());
    },
  });
  /** A counter whose total is kept elsewhere (the store's fsync count), read at scrape time. */
  const total = (name: string, help: string, read: () => number) => new Counter({
    name, help, registers, collect() {
      this.reset();
      this.inc(read());
    },
  });
  new Gauge({
    name: 'dpns_registry_entries', help: 'Entries in the registry, by kind.', labelNames: ['kind'] as const, registers, collect() {
      const kinds = s.registry.countByKind();
      this.set({ kind: 'service' }, kinds.service);
      this.set({ kind: 'alias' }, kinds.alias);
    },
  });
  gauge('dpns_services_unhealthy', 'Services that are advertised but fail their health check (state unhealthy).', () => s.registry.unhealthyCount);
  gauge('dpns_health_checked_entries', 'Entries this server probes now (only the primary probes).', () => s.health()?.size ?? 0);
  gauge('dpns_registry_revision', 'Revision of the last applied registry change.', () => s.registry.revision);
  gauge('dpns_connections', 'Open client connections.', () => s.clients.size);
  gauge('dpns_unfinished_input_bytes', 'Bytes of client messages still arriving, over all connections.', () => s.clients.partial.bytes);
  gauge('dpns_http_pending_sockets', 'Accepted sockets that are still plain HTTP (not yet a WebSocket).', () => s.pendingSockets.size);
  total('dpns_http_sockets_cut_total', 'Plain HTTP sockets cut because too many were open at once (the oldest goes first).', () => s.pendingSockets.cut);
  gauge('dpns_watches', 'Open watches over all connections.', () => s.hub.size);
  gauge('dpns_watch_patterns_scanned', 'Distinct watched patterns tried one by one on every change (neither a name nor PREFIX*).', () => s.hub.scannedPatterns);
  // Three gauges, not one with a `quantile` label: that label belongs to summaries (promtool
  // flags it), and the names follow prom-client's own nodejs_eventloop_lag_p50_seconds.
  gauge('dpns_event_loop_delay_p50_seconds', 'How late the event loop ran over the last 10 to 20 s: the median.', () => s.loopDelay.window().p50Ms / 1000);
  gauge('dpns_event_loop_delay_p99_seconds', 'How late the event loop ran over the last 10 to 20 s: the 99th percentile.', () => s.loopDelay.window().p99Ms / 1000);
  gauge('dpns_event_loop_delay_max_seconds', 'How late the event loop ran over the last 10 to 20 s: the largest delay.', () => s.loopDelay.window().maxMs / 1000);
  total('dpns_heartbeat_late_rounds_total', 'Heartbeat rounds that judged no peer because this server itself was late.', () => s.clients.heartbeat.lateRounds);
  total('dpns_wal_fsyncs_total', 'fsync calls made by the write-ahead log.', () => s.store()?.stats.fsyncs ?? 0);
  gauge('dpns_storage_writable', 'Whether the write-ahead log takes writes (0 while a disk or descriptor fault makes writes be refused with STORAGE_UNAVAILABLE).', () => s.store()?.state === 'open' ? 1 : 0);
  total('dpns_storage_faults_total', 'Times a write-ahead log write or open failed and writes were refused until a probe write succeeded.', () => s.store()?.stats.faults ?? 0);
  new Gauge({
    name: 'dpns_modules', help: 'External modules, by state.', labelNames: ['state'] as const, registers, collect() {
      this.reset();
      const states = new Map<string, number>();
      for (const mod of s.modules()?.list() ?? []) states.set(mod.state, (states.get(mod.state) ?? 0) + 1);
      for (const [state, n] of states) this.set({ state }, n);
    },
  });
  // The cluster's series: a stand-alone server is a cluster of one, so they are always there.
  new Gauge({
    name: 'dpns_cluster_role', help: 'This server\'s role in the cluster (1 for the current one).', labelNames: ['role'] as const, registers, collect() {
      const role = s.cluster()?.role;
      for (const r of ['primary', 'backup', 'candidate'] as const) this.set({ role: r }, role === r ? 1 : 0);
    },
  });
  gauge('dpns_cluster_epoch', 'The newest epoch this server knows of.', () => s.cluster()?.epoch ?? 0);
  gauge('dpns_cluster_members_connected', 'Members this server hears from, itself included.', () => s.cluster()?.status().filter((mem) => mem.connected).length ?? 0);
  new Gauge({
    name: 'dpns_replication_lag_records', help: 'Records each backup is behind this primary.', labelNames: ['sid'] as const, registers, collect() {
      this.reset();
      for (const [sid, lag] of s.cluster()?.lagBySid() ?? []) this.set({ sid: String(sid) }, lag);
    },
  });
  total('dpns_failovers_total', 'Times this server took over from a failed or deposed primary.', () => s.cluster()?.takeovers ?? 0);
  total('dpns_replication_dropped_total', 'Backups dropped from the star for not acknowledging in time.', () => s.cluster()?.dropped ?? 0);
}
