// Scenario: failover. A three-server dpns cluster on loopback (sync replication) while a few
// writers write as fast as they can; `kill -9` of the primary; the time from the kill to the
// first write a surviving server acknowledges, over several rounds (the killed server restarted
// and rejoined between rounds). Then the safety figures: acknowledged writes missing from the new
// primary (must be 0 in sync mode) and writes applied twice (a register.add retried with its
// requestId that came back ALREADY_EXISTS). The writers are the harness's RawWriter, so the
// figure is the servers' failover, not a client library's backoff; a second set of rounds uses
// @dpns/client writers, whose figure is what an application sees, and a third set with each write
// one `dpns --verbose add` process (a shell script's view: what a kill adds to the network phase
// of a command it catches, against the same on a healthy cluster). Beside it, the same rounds
// against a three-member etcd cluster with the same kind of writer, twice: with dpns's detection
// window as etcd's election timeout, and with etcd's defaults (failure-detection.ts).
import { startCluster, type TestCluster } from '../../harness/index.js';
import type { BenchContext } from '../context.js';
import { etcdVersion } from '../etcd-process.js';
import { startEtcdCluster, type EtcdCluster } from '../etcd-cluster.js';
import { performance } from 'node:perf_hooks';
import {
  addedByKills, ATTEMPT_TIMEOUT_MS, cliWriters, clientWriters, dpnsWriters, etcdWriters, failoverRow, healthyCommands, median, ROUNDS, rounds, CLI_ROUNDS, CLI_WRITERS, WRITERS, type Side, type Writers,
} from '../failover-rounds.js';
import { DPNS_HEARTBEAT_MS, DPNS_MISSES, DPNS_TIMING_ARGS, DPNS_WINDOW_MS, ETCD_VARIANTS, type EtcdVariant } from '../failure-detection.js';
import { isAborting, onCleanup, trackChild } from '../lifecycle.js';
import { fmtMs, status, type Row } from '../report.js';

const LABEL = 'failover: kill -9 leader → first write';
/**
 * How long before its exit a `dpns add` on a healthy cluster is in its network phase: traced on
 * this machine, its first socket opens 45–65 ms before it exits.
 */
const NETWORK_BEFORE_EXIT_MS = 30;

function dpnsSide(c: TestCluster, writers: Writers = dpnsWriters(c)): Side {
  return {
    write: writers.write,
    async takeDownLeader(killing) {
      const p = await c.primary();
      killing();
      await c.kill9(p.sid);
      return p.sid;
    },
    async present(prefix) {
      const p = await c.primary();
      const a = await c.call(p.sid, 'listServices', { pattern: `${prefix}/*` });
      if (!a.ok) throw new Error(`listServices on the new primary: ${a.code} ${a.message}`);
      return { names: new Set((a.result as { names: string[] }).names), leader: p.sid };
    },
    async recover(i) {
      await c.restart(i);
      const p = await c.primary();
      await c.waitStatus(p.sid, (s) => s.servers.every((r) => r.connected && r.lag === 0 && r.epoch === p.epoch && r.role === (r.self ? 'primary' : 'backup')), 20_000);
    },
    close: writers.close,
  };
}

function etcdSide(e: EtcdCluster): Side {
  const writers = etcdWriters(e.urls);
  return {
    write: writers.write,
    async takeDownLeader(killing) {
      const i = await e.leader();
      killing();
      await e.kill9(i);
      return i;
    },
    async present(prefix) {
      const i = await e.leader();
      return { names: await e.keys(e.urls[i] as string, `${prefix}/`), leader: i };
    },
    async recover(i) {
      await e.restart(i);
      await e.leader();
    },
    close: writers.close,
  };
}

export async function runFailover(ctx: BenchContext): Promise<void> {
  const shape = `${WRITERS} writers, ${ATTEMPT_TIMEOUT_MS} ms attempts`;
  status(`failover: a 3-server dpns cluster (sync, heartbeat ${DPNS_HEARTBEAT_MS} ms × ${DPNS_MISSES}), ${WRITERS} raw writers, ${ROUNDS} rounds of kill -9 of the primary`);
  const cluster = await startCluster({ n: 3, replication: 'sync', extraArgs: ['--log-level', 'warn', ...DPNS_TIMING_ARGS], onProcess: (p) => trackChild(p.proc) });
  const forget = onCleanup(() => cluster.close());
  const dpns = dpnsSide(cluster);
  let dpnsRow: Row | undefined;
  try {
    await cluster.primary();
    dpnsRow = ctx.add(failoverRow('failover', LABEL, 'dpns', `3 servers sync, window ${DPNS_WINDOW_MS} ms, ${shape}`, await rounds(dpns, 'failover', 'dpns', 'kill -9'), ''));
    // The same rounds as an application sees them: writers on @dpns/client, whose reconnecting
    // and resending are part of the figure.
    dpns.close();
    const viaClient = dpnsSide(cluster, clientWriters(cluster));
    try {
      ctx.add(failoverRow('failover.client', `${LABEL} (client library)`, 'dpns', `3 servers sync, window ${DPNS_WINDOW_MS} ms, ${WRITERS} @dpns/client writers`,
        await rounds(viaClient, 'failover', 'dpns via @dpns/client', 'kill -9'), ''));
    } finally {
      viaClient.close();
    }
    // And as a shell script sees them: each write one `dpns add` process. Its start-up dwarfs a
    // failover, so the figure is what a kill added to the commands it caught: the network phase
    // (`dpns --verbose`: first dial to done) of the slowest, less a healthy command's. A command
    // spends all but its last few tens of milliseconds starting node and loading its modules,
    // which a kill does not touch; so the kill comes when a median command is in its network
    // phase (NETWORK_BEFORE_EXIT_MS before it would exit).
    const healthy = await healthyCommands(cluster, `/bench/failover/cli-alone-${Math.random().toString(36).slice(2, 8)}`, NETWORK_BEFORE_EXIT_MS);
    if (!Number.isFinite(healthy.caughtNetwork)) throw new Error(`failover: no healthy \`dpns add\` was in its network phase ${fmtMs(healthy.killAfter)} ms after it started, in ${healthy.groups} groups`);
    const cli = cliWriters(cluster);
    const kills: number[] = [];
    const cliSide = dpnsSide(cluster, cli);
    const viaCli: Side = { ...cliSide, takeDownLeader: (killing) => cliSide.takeDownLeader(() => {
      // Wall-clock, as the commands' --verbose lines are.
      kills.push(performance.timeOrigin + performance.now());
      killing();
    }) };
    const res = await rounds(viaCli, 'failover', 'dpns via the dpns command', 'kill -9', healthy.killAfter, CLI_WRITERS, CLI_ROUNDS);
    const added = addedByKills(cli.spans, kills, healthy.caughtNetwork);
    const measured = added.filter(Number.isFinite);
    const row = failoverRow('failover.cli', '', 'dpns', '', res, '');
    ctx.add({
      ...row, label: 'failover: kill -9 leader → added to a `dpns add` running through it', shape: `3 servers sync, ${CLI_WRITERS} writers each running \`dpns add\` in a loop`,
      p50Ms: median(measured), maxMs: Math.max(...measured),
      note: `max ${fmtMs(Math.max(...measured))} ms over ${measured.length} of ${added.length} rounds (${added.map((a) => (Number.isFinite(a) ? fmtMs(a) : 'none caught')).join(', ')}): ` +
        `the network phase (dpns --verbose: first dial to done) of the slowest command each kill caught, less the same at the same moment on the healthy cluster ` +
        `(${fmtMs(healthy.caughtNetwork)} ms, median of the ${healthy.caughtIn} of ${healthy.groups} groups of ${CLI_WRITERS} that had one caught); each kill ` +
        `${fmtMs(healthy.killAfter)} ms after the commands started (a median command's time, ${fmtMs(healthy.single)} ms, less ${NETWORK_BEFORE_EXIT_MS} ms); ` +
        `kill → first command started after it acknowledged: ${row.note ?? ''}`,
    });
  } finally {
    dpns.close();
    forget();
    await cluster.close();
  }

  if (etcdVersion() === undefined) {
    status('failover: etcd not on the PATH, its side skipped (apt-get install etcd-server)');
    return;
  }
  for (const variant of ETCD_VARIANTS) {
    if (isAborting()) return;
    await etcdRounds(ctx, variant, shape, dpnsRow);
  }
}

/** The rounds against a fresh three-member etcd cluster with `variant`'s timing, and their row. */
async function etcdRounds(ctx: BenchContext, variant: EtcdVariant, shape: string, dpnsRow: Row): Promise<void> {
  status(`failover: a 3-member etcd ${etcdVersion() ?? ''} cluster (${variant.describe}), the same rounds`);
  const etcd = await startEtcdCluster(3, { timing: variant.timing });
  const side = etcdSide(etcd);
  try {
    const res = await rounds(side, 'failover', `etcd (${variant.name})`, 'kill -9');
    const ratio = dpnsRow.p50Ms !== undefined && dpnsRow.p50Ms > 0 ? median(res.map((r) => r.failoverMs)) / dpnsRow.p50Ms : Number.NaN;
    const r = ctx.add(failoverRow(`failover.etcd${variant.keySuffix}`, LABEL, 'etcd', `3 members, ${variant.name}, ${shape}`, res, `; etcd median / dpns median: ${ratio.toFixed(1)}×`));
    status(`failover: dpns median ${fmtMs(dpnsRow.p50Ms)} ms vs etcd (${variant.name}) ${fmtMs(r.p50Ms)} ms (${ratio.toFixed(1)}×); target < 100 ms median for dpns: ${(dpnsRow.p50Ms ?? Infinity) < 100 ? 'MET' : 'MISS'}`);
  } finally {
    side.close();
    await etcd.stop();
  }
}
