// Scenario: failover-cut. The host of the primary is cut off rather than its process killed: three
// dpns servers (sync replication), each in its own network namespace on a private test bridge
// (198.18.0.0/15, see e2e/src/harness/netns.ts), and writers in the root namespace given all three
// URLs. The primary's link is set down; the figure is the time from the cut to the first write a
// survivor acknowledged that was sent after the cut, over several rounds. Unlike a kill, nothing
// closes a connection: the survivors learn of the loss only from missed heartbeats, and the
// writers only from their own timeouts. Each round then heals the link and waits until the old
// primary is a backup again at lag 0. Safety figures as in `failover`: acknowledged names missing
// from the new primary, writes applied twice. Beside it the same rounds against a three-member
// etcd cluster in the same three namespaces, its leader's link cut: once with dpns's detection
// window as etcd's election timeout, once with etcd's defaults (failure-detection.ts). Needs root and `ip`;
// otherwise it says so and skips. The namespaces and every process are removed however it ends.
import { performance } from 'node:perf_hooks';
import { createTestNet, netnsUnavailable, startCluster, type TestCluster, type TestHost, type TestNet } from '../../harness/index.js';
import type { BenchContext } from '../context.js';
import { etcdVersion } from '../etcd-process.js';
import { startEtcdCluster, type EtcdCluster } from '../etcd-cluster.js';
import { ATTEMPT_TIMEOUT_MS, dpnsWriters, etcdWriters, failoverRow, median, ROUNDS, rounds, WRITERS, type Side } from '../failover-rounds.js';
import { DPNS_HEARTBEAT_MS, DPNS_MISSES, DPNS_TIMING_ARGS, DPNS_WINDOW_MS, ETCD_VARIANTS } from '../failure-detection.js';
import { isAborting, onCleanup, trackChild } from '../lifecycle.js';
import { fmtMs, status, type Row } from '../report.js';

const LABEL = 'failover: host cut off → first write';
const SCENARIO = 'failover-cut';
/** The target for a host cut off, on the dpns median. */
const TARGET_MS = 1000;
/** How long a healed member may take to rejoin. */
const REJOIN_TIMEOUT_MS = 20_000;

function hostOf(net: TestNet, i: number): TestHost {
  const h = net.hosts[i];
  if (h === undefined) throw new Error(`${SCENARIO}: no test host ${i}`);
  return h;
}

function othersThan(i: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => k).filter((k) => k !== i);
}

/** Every member connected, at lag 0, in the primary's epoch, as the primary itself sees it. */
async function settled(c: TestCluster, among: readonly number[]): Promise<void> {
  const p = await c.primary({ among, timeoutMs: REJOIN_TIMEOUT_MS });
  await c.waitStatus(p.sid, (s) => s.servers.every((r) => r.connected && r.lag === 0 && r.epoch === p.epoch && r.role === (r.self ? 'primary' : 'backup')), REJOIN_TIMEOUT_MS);
}

/**
 * When a new leader was first seen after each cut (ms after it), next to the first write: the
 * difference is the writers' own pacing (their timeouts against the silent old leader).
 */
class Takeovers {
  readonly ms: number[] = [];
  private watching: Promise<void> = Promise.resolve();

  /** Starts watching for the leader that `seen` resolves with; a failure only leaves a gap. */
  watch(cutAt: number, seen: Promise<unknown>): void {
    this.watching = seen.then(() => {
      this.ms.push(performance.now() - cutAt);
    }, () => undefined);
  }

  /** Waits for the current watch to end (so none outlives its round). */
  settle(): Promise<void> {
    return this.watching;
  }

  note(): string {
    return this.ms.length === 0 ? '' : `; new leader seen ${fmtMs(median(this.ms))} ms median after the cut (${this.ms.map((t) => fmtMs(t)).join(', ')})`;
  }
}

function dpnsSide(c: TestCluster, net: TestNet, takeovers: Takeovers): Side {
  const writers = dpnsWriters(c);
  const n = c.members.length;
  return {
    write: writers.write,
    async takeDownLeader(cutting) {
      const p = await c.primary();
      cutting();
      const cutAt = performance.now();
      net.setLink(hostOf(net, p.sid), false);
      takeovers.watch(cutAt, c.primary({ among: othersThan(p.sid, n), minEpoch: p.epoch + 1, timeoutMs: 10_000 }));
      return p.sid;
    },
    async present(prefix, down) {
      await takeovers.settle();
      // The cut-off member cannot answer from here: ask only the others.
      const p = await c.primary({ among: othersThan(down, n), timeoutMs: 10_000 });
      const a = await c.call(p.sid, 'listServices', { pattern: `${prefix}/*` });
      if (!a.ok) throw new Error(`listServices on the new primary: ${a.code} ${a.message}`);
      return { names: new Set((a.result as { names: string[] }).names), leader: p.sid };
    },
    async recover(i) {
      net.setLink(hostOf(net, i), true);
      const p = await c.primary({ among: othersThan(i, n), timeoutMs: REJOIN_TIMEOUT_MS });
      await c.waitStatus(i, (s) => {
        const me = s.servers.find((x) => x.self);
        return me?.role === 'backup' && s.primary === p.sid && s.epoch === p.epoch && me.lag === 0;
      }, REJOIN_TIMEOUT_MS);
      await settled(c, othersThan(i, n));
    },
    close: writers.close,
  };
}

function etcdSide(e: EtcdCluster, net: TestNet, takeovers: Takeovers): Side {
  const writers = etcdWriters(e.urls);
  const n = e.urls.length;
  return {
    write: writers.write,
    async takeDownLeader(cutting) {
      const i = await e.leader();
      cutting();
      const cutAt = performance.now();
      net.setLink(hostOf(net, i), false);
      // The survivors agree on a leader among themselves only once they have elected one.
      takeovers.watch(cutAt, e.leader(10_000, othersThan(i, n)));
      return i;
    },
    async present(prefix, down) {
      await takeovers.settle();
      const i = await e.leader(10_000, othersThan(down, n));
      return { names: await e.keys(e.urls[i] as string, `${prefix}/`), leader: i };
    },
    async recover(i) {
      net.setLink(hostOf(net, i), true);
      // etcd 3.4 runs without pre-vote by default: the cut-off member kept raising its term, and on
      // its return it may depose the leader. Done once the same leader is named by all three twice,
      // an election timeout apart.
      const deadline = performance.now() + REJOIN_TIMEOUT_MS;
      for (let was = await e.leader(REJOIN_TIMEOUT_MS); ;) {
        await new Promise((r) => setTimeout(r, 1_200));
        const now = await e.leader(REJOIN_TIMEOUT_MS);
        if (now === was) break;
        if (performance.now() > deadline) throw new Error(`etcd: no stable leader within ${REJOIN_TIMEOUT_MS} ms after healing member ${i}`);
        was = now;
      }
    },
    close: writers.close,
  };
}

export async function runFailoverCut(ctx: BenchContext): Promise<void> {
  const why = netnsUnavailable();
  if (why !== undefined) {
    status(`${SCENARIO}: skipped: ${why}`);
    return;
  }
  const shape = `${WRITERS} writers, ${ATTEMPT_TIMEOUT_MS} ms attempts`;
  const net = createTestNet(3);
  let cluster: TestCluster | undefined;
  let etcd: EtcdCluster | undefined;
  // Processes first, then the namespaces they live in; safe to call twice.
  const teardown = async (): Promise<void> => {
    await cluster?.close();
    await etcd?.stop();
    net.down();
  };
  const forget = onCleanup(teardown);
  try {
    status(`${SCENARIO}: 3 namespaces on a test bridge (${net.hosts.map((h) => h.addr).join(', ')}); a 3-server dpns cluster (sync, heartbeat ${DPNS_HEARTBEAT_MS} ms × ${DPNS_MISSES}), ` +
      `${WRITERS} raw writers in the root namespace, ${ROUNDS} rounds of cutting the primary's link`);
    cluster = await startCluster({ n: 3, hosts: net.hosts, replication: 'sync', extraArgs: ['--log-level', 'warn', ...DPNS_TIMING_ARGS], onProcess: (p) => trackChild(p.proc) });
    await settled(cluster, [0, 1, 2]);
    const dpnsTakeovers = new Takeovers();
    const dpns = dpnsSide(cluster, net, dpnsTakeovers);
    let dpnsRow: Row;
    try {
      dpnsRow = ctx.add(failoverRow(SCENARIO, LABEL, 'dpns', `3 servers sync in 3 netns, window ${DPNS_WINDOW_MS} ms, ${shape}`, await rounds(dpns, SCENARIO, 'dpns', 'cut off'), dpnsTakeovers.note()));
    } finally {
      dpns.close();
      await cluster.close();
    }
    const dpnsMedian = dpnsRow.p50Ms ?? Number.NaN;
    const verdict = `host cut off → first write < ${TARGET_MS / 1000} s median for dpns: ${dpnsMedian < TARGET_MS ? 'MET' : 'NOT MET'} (${fmtMs(dpnsMedian)} ms)`;

    if (etcdVersion() === undefined) {
      status(`${SCENARIO}: etcd not on the PATH, its side skipped (apt-get install etcd-server)`);
      status(`${SCENARIO}: ${verdict}`);
      return;
    }
    for (const variant of ETCD_VARIANTS) {
      if (isAborting()) break;
      status(`${SCENARIO}: a 3-member etcd ${etcdVersion() ?? ''} cluster in the same namespaces (${variant.describe}), the same rounds`);
      etcd = await startEtcdCluster(3, { hosts: net.hosts.map((h) => ({ addr: h.addr, wrap: net.exec(h) })), timing: variant.timing });
      await etcd.leader();
      const etcdTakeovers = new Takeovers();
      const side = etcdSide(etcd, net, etcdTakeovers);
      try {
        const res = await rounds(side, SCENARIO, `etcd (${variant.name})`, 'cut off');
        const ratio = dpnsMedian > 0 ? median(res.map((r) => r.failoverMs)) / dpnsMedian : Number.NaN;
        const r = ctx.add(failoverRow(`${SCENARIO}.etcd${variant.keySuffix}`, LABEL, 'etcd', `3 members in 3 netns, ${variant.name}, ${shape}`, res,
          `${etcdTakeovers.note()}; etcd median / dpns median: ${ratio.toFixed(1)}×`));
        status(`${SCENARIO}: dpns median ${fmtMs(dpnsMedian)} ms vs etcd (${variant.name}) ${fmtMs(r.p50Ms)} ms (${ratio.toFixed(1)}×)`);
      } finally {
        side.close();
        await etcd.stop();
        etcd = undefined;
      }
    }
    status(`${SCENARIO}: ${verdict}`);
  } finally {
    forget();
    await teardown();
  }
}
