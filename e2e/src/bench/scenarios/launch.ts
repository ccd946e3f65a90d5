// The launch scenario: from `launchService` to the example service advertised and
// answering on the address returned, and the same from a DNS SRV query, against the same
// program started by hand. The three are interleaved one for one (each round in another order),
// so other work on the machine lands on all; only the launch itself is timed, never the kill
// that follows it.
import { readFileSync } from 'node:fs';
import type { ServiceView } from '@dpns/protocol';
import { startByHand } from '../by-hand.js';
import type { BenchContext } from '../context.js';
import { Histogram } from '../histogram.js';
import { isAborting, killProcessGroups, trackProcessGroup, untrackProcessGroup } from '../lifecycle.js';
import { startLaunchRig, type LaunchRig } from '../launch-rig.js';
import { reachEcho } from '../reach.js';
import type { RpcConn } from '../rpc-conn.js';
import { status } from '../report.js';
import { querySrv } from '../dns-query.js';

const NAME = '/bench/echo';
/** NAME as DNS asks for it. */
const DNS_NAME = 'echo.bench.dpns';
/** Untimed rounds first: the first launch loads code in the agent and the name server that later ones find warm. */
const WARMUP = 2;
/** A launch path that fails this often is broken, not noisy. */
const MAX_ERRORS = 5;

/** What one launch through dpns took, in milliseconds from the `launchService` request. */
interface DpnsLaunch {
  answerMs: number;
  reachableMs: number;
}

export async function runLaunch(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  status(`launch: starting a name server and a dpns-launchd; ${cfg.launches} launches through dpns and ${cfg.launches} by hand (+${WARMUP} untimed each)`);
  const rig = await startLaunchRig(cfg, NAME);
  try {
    const dpns = new Histogram();
    const answer = new Histogram();
    const hand = new Histogram();
    const handListening = new Histogram();
    const dns = new Histogram();
    const dnsAnswer = new Histogram();
    let errors = 0;
    let firstError: string | undefined;
    let dnsErrors = 0;
    let firstDnsError: string | undefined;
    for (let i = 0; i < WARMUP + cfg.launches && !isAborting(); i++) {
      const timed = i >= WARMUP;
      const viaDpns = async (): Promise<void> => {
        try {
          const r = await launchOnce(rig, i);
          if (timed) {
            dpns.record(r.reachableMs);
            answer.record(r.answerMs);
          }
        } catch (e) {
          firstError ??= (e as Error).message;
          if (++errors >= MAX_ERRORS) throw new Error(`launch: ${errors} launches failed; the first: ${firstError}`);
        } finally {
          // On Ctrl-C the clean-up hooks kill the launched process groups; the name server may be gone already.
          if (!isAborting()) await stopLaunched(rig);
        }
      };
      const viaDns = async (): Promise<void> => {
        try {
          const r = await dnsLaunchOnce(rig, i);
          if (timed) {
            dns.record(r.reachableMs);
            dnsAnswer.record(r.answerMs);
          }
        } catch (e) {
          firstDnsError ??= (e as Error).message;
          if (++dnsErrors >= MAX_ERRORS) throw new Error(`launch: ${dnsErrors} launches by DNS query failed; the first: ${firstDnsError}`);
        } finally {
          if (!isAborting()) await stopLaunched(rig);
        }
      };
      const byHand = async (): Promise<void> => {
        const r = await startByHand(i);
        if (timed) {
          hand.record(r.reachableMs);
          handListening.record(r.listeningMs);
        }
      };
      const arms = [byHand, viaDpns, viaDns];
      for (let k = 0; k < arms.length; k++) await (arms[(i + k) % arms.length] as () => Promise<void>)();
    }
    const shape = `${cfg.launches} starts, one at a time`;
    ctx.add({
      key: 'launch.hand', label: 'start by hand → reachable', system: 'by hand', shape,
      p50Ms: hand.quantile(0.5), p99Ms: hand.quantile(0.99), errors: 0,
      note: `listening line p50 ${handListening.quantile(0.5).toFixed(1)} ms`,
    });
    ctx.add({
      key: 'launch', label: 'launch → advertised + reachable', system: 'dpns', shape,
      p50Ms: dpns.quantile(0.5), p99Ms: dpns.quantile(0.99), errors, peakRssMB: rig.server.memory().peakMB,
      note: `launchService answered p50 ${answer.quantile(0.5).toFixed(1)} ms` + (firstError === undefined ? '' : `; ${firstError}`),
    });
    ctx.add({
      key: 'launch.dns', label: 'DNS SRV query → launched, answered + reachable', system: 'dpns', shape,
      p50Ms: dns.quantile(0.5), p99Ms: dns.quantile(0.99), errors: dnsErrors, peakRssMB: rig.server.memory().peakMB,
      note: `DNS answered p50 ${dnsAnswer.quantile(0.5).toFixed(1)} ms` + (firstDnsError === undefined ? '' : `; ${firstDnsError}`),
    });
  } finally {
    await stopLaunched(rig).catch(() => undefined);
    // Whatever a failed round left behind goes now, not at the end of the whole run.
    killProcessGroups();
    await rig.stop();
  }
}

/** One timed launch: `launchService`, then a TCP connect and one echoed line to the address it answered. */
async function launchOnce(rig: LaunchRig, seq: number): Promise<DpnsLaunch> {
  // A fresh client connection for each launch, opened before the clock starts: the name server
  // allows one connection 20 launches at once and 60 a minute, and 52 launches take about 15 s.
  const [conn] = await rig.server.connect(1, false);
  if (conn === undefined) throw new Error('no client connection');
  try {
    return await timedLaunch(conn, seq);
  } finally {
    await conn.close();
  }
}

async function timedLaunch(conn: RpcConn, seq: number): Promise<DpnsLaunch> {
  const t0 = performance.now();
  const res = await conn.call('launchService', { name: NAME });
  const answerMs = performance.now() - t0;
  if ('error' in res) throw new Error(`launchService: ${res.error.data?.code ?? res.error.code} ${res.error.message}`);
  const { service, launched } = res.result as { service: { host: string; port: number }; launched: boolean };
  // A service left running by an earlier round would be answered without a launch, and timed as one.
  if (!launched) throw new Error(`launchService answered without launching: ${NAME} was still running`);
  await reachEcho(service.host, service.port, `dpns ${seq}`);
  return { answerMs, reachableMs: performance.now() - t0 };
}

/**
 * One timed launch by DNS: an SRV query for the stopped service, then a TCP connect and one
 * echoed line to the port and address it answered. Each round asks from its own loopback
 * address (dns-query.ts).
 */
async function dnsLaunchOnce(rig: LaunchRig, seq: number): Promise<DpnsLaunch> {
  const port = rig.server.dnsPort;
  if (port === undefined) throw new Error('the name server printed no DNS port');
  const source = `127.1.${Math.floor(seq / 250) % 250}.${1 + (seq % 250)}`;
  const t0 = performance.now();
  const a = await querySrv(port, DNS_NAME, source);
  const answerMs = performance.now() - t0;
  await reachEcho(a.address ?? '', a.port, `dns ${seq}`);
  return { answerMs, reachableMs: performance.now() - t0 };
}

/** The service's entry as the name server shows it. */
async function entry(rig: LaunchRig): Promise<ServiceView> {
  const { entries } = await rig.admin.ok<{ entries: ServiceView[] }>('serviceState', { pattern: NAME });
  const e = entries.find((x) => x.name === NAME);
  if (e === undefined) throw new Error(`${NAME} is not in the registry`);
  return e;
}

/**
 * Kills whatever the launch left running, as admin through `killService`, and waits until the
 * name server says `stopped` (it does once the agent has reported the process gone) and
 * /proc agrees. Not timed.
 */
async function stopLaunched(rig: LaunchRig): Promise<void> {
  let e = await entry(rig);
  if (e.pid !== undefined) trackProcessGroup(e.pid);
  const pid = e.pid;
  if (pid === undefined && e.state !== 'starting') return;
  if (pid !== undefined) await rig.admin.ok('killService', { name: NAME });
  const deadline = performance.now() + 15_000;
  while (e.state !== 'stopped' && e.state !== 'failed' && e.state !== 'registered') {
    if (performance.now() > deadline) throw new Error(`${NAME} still ${e.state} 15 s after killService`);
    await new Promise((r) => setTimeout(r, 10));
    e = await entry(rig);
  }
  if (pid === undefined) return;
  while (processRuns(pid)) {
    if (performance.now() > deadline) throw new Error(`pid ${pid} of ${NAME} still runs 15 s after killService`);
    await new Promise((r) => setTimeout(r, 10));
  }
  untrackProcessGroup(pid);
}

/** Whether `pid` is a live process (a zombie has exited and is only waiting for its parent). */
function processRuns(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state letter follows the command name, which is in parentheses and may itself hold ") ".
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}
