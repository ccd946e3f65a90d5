#!/usr/bin/env node
// Planted faults: does the suite notice when a documented promise is broken?
//
// Each patch in e2e/planted-faults/ breaks one claim of docs/PROTOCOL.md or docs/SECURITY.md.
// For each, this script copies the working tree (uncommitted changes included) to a temporary
// directory, applies the patch, builds incrementally (tsc -b, starting from this tree's dist/ and
// .tsbuildinfo), and runs ONLY the tests that guard that claim. Dependencies are installed once,
// from the pnpm store without the network, and moved from one throwaway tree to the next. Those tests must fail. A fault that leaves its guards green, a patch
// that no longer applies or builds, or a guard that is red without any fault, fails the run.
//
//   node scripts/planted-faults.mjs                    every fault, after a baseline run
//   node scripts/planted-faults.mjs heartbeat ticket   the faults whose name contains a word
//   --no-baseline   skip the run of every guard on the unpatched tree
//   --keep          leave the temporary trees (their paths are printed) for a look
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PATCHES = join(ROOT, 'e2e/planted-faults');

/**
 * One fault per claim: the patch that breaks it, the claim in a line (and where it is written),
 * and the tests that guard it, as substrings of compiled test file paths (what run-tests takes).
 */
export const FAULTS = [
  {
    patch: 'dns-backup-launches.patch',
    claim: 'only the primary launches what a DNS query names; a backup answers SERVFAIL without trying (docs/DNS.md, PROTOCOL §19.3)',
    tests: ['e2e/dist/dns-cluster.test'],
  },
  {
    patch: 'dns-udp-untruncated.patch',
    claim: 'a UDP answer larger than the client takes (512 bytes without EDNS) is truncated with TC set (docs/DNS.md)',
    tests: ['e2e/dist/dns.test'],
  },
  {
    patch: 'dns-global-rate-ignored.patch',
    claim: 'DNS queries from all sources together, forged ones included, are held to --dns-global-queries-per-second (docs/DNS.md, SECURITY.md)',
    tests: ['packages/nameserver/dist/dns/global-limits.test', 'packages/nameserver/dist/dns/dns-responder.test', 'e2e/dist/dns-limits.test'],
  },
  {
    patch: 'drop-wal-fdatasync.patch',
    claim: 'an acknowledged write survives power loss: its WAL record is fdatasynced (PROTOCOL §14)',
    tests: ['e2e/dist/fsync-order.test'],
  },
  {
    patch: 'ack-before-fsync.patch',
    claim: 'a write is answered only once its record is fsynced (PROTOCOL §14)',
    // durability.test also catches it, but only when kill -9 lands between an answer and its
    // write: too rare a guard to spend 20 s on here.
    tests: ['e2e/dist/fsync-order.test'],
  },
  {
    patch: 'paused-primary-answers-reads.patch',
    claim: 'a paused and resumed old primary never answers a read from its stale state: reads need the read lease (PROTOCOL §19.2, §19.3)',
    tests: ['packages/cluster-core/dist/read-lease.test', 'packages/cluster-core/dist/core-stream.test', 'e2e/dist/cluster-stale-read.test'],
  },
  {
    patch: 'backup-reads-before-caught-up.patch',
    claim: 'a backup answers reads only once it has caught up with the primary it follows, so its reads are at most about a failure window stale (PROTOCOL §19.3)',
    tests: ['packages/cluster-core/dist/core-stream.test', 'e2e/dist/cluster-linearizable-netns.test'],
  },
  {
    patch: 'lease-from-ack-arrival.patch',
    claim: 'a primary answers reads only while a majority echoed heartbeat rounds it sent within the lease, counted from their send times (PROTOCOL §19.3)',
    tests: ['packages/cluster-core/dist/core-stream.test'],
  },
  {
    patch: 'heartbeat-three-misses.patch',
    claim: 'a silent peer is cut off between one and two heartbeatMs after it was last heard (PROTOCOL §2.6)',
    tests: ['packages/nameserver/dist/heartbeat', 'packages/nameserver/dist/server.test', 'e2e/dist/heartbeat.test'],
  },
  {
    patch: 'agent-accepts-bad-signature.patch',
    claim: 'an agent acts only on a request whose signature verifies (PROTOCOL §17.4 step 3, SECURITY "Launch agents")',
    tests: ['packages/launchd/dist/security.test'],
  },
  {
    patch: 'allowlist-skips-realpath.patch',
    claim: 'programs are compared by real path against the allowlist (SECURITY "Launch agents")',
    tests: ['packages/launchd/dist/allowlist.test'],
  },
  {
    patch: 'ticket-in-clear.patch',
    claim: 'the launch spec and ticket line travel sealed to the agent (SECURITY "Trust roots", "Launch agents")',
    tests: ['e2e/dist/wire-secrets.test', 'packages/launchd/dist/security.test'],
  },
  {
    patch: 'cut-off-primary-acks-late.patch',
    claim: 'the side of a partition without a majority never accepts a write (PROTOCOL §19.2)',
    tests: ['packages/cluster-core/dist/core-stream.test', 'e2e/dist/cluster-partition.test'],
  },
  {
    patch: 'agent-accepts-stale-epoch.patch',
    claim: 'an agent refuses a request of an epoch older than one it has seen (PROTOCOL §17.4 step 9, §19.2)',
    tests: ['packages/launchd/dist/security.test'],
  },
  {
    patch: 'member-votes-stale-epoch.patch',
    claim: 'a member votes only in an epoch at least its own, once per epoch (PROTOCOL §19.2)',
    tests: ['packages/cluster-core/dist/vote-rules.test'],
  },
  {
    patch: 'unhealthy-answered.patch',
    claim: 'an unhealthy service is left out of pattern finds and lb picks, and its exact name answers NOT_RUNNING (PROTOCOL §7.6)',
    tests: ['packages/nameserver/dist/registry/health-rules.test'],
  },
  {
    patch: 'probes-unbounded.patch',
    claim: 'at most 64 health probes are in flight over all entries (PROTOCOL §7.6, SECURITY.md)',
    tests: ['packages/nameserver/dist/health/checker.test'],
  },
  {
    patch: 'backup-probes.patch',
    claim: 'only the primary probes health checks; backups see the verdicts through the log (PROTOCOL §7.6, SECURITY.md)',
    tests: ['e2e/dist/health-checks-backup.test'],
  },
  {
    patch: 'snapshot-copies-unchecked.patch',
    claim: 'a snapshot made from the one before does not copy a file that fails its CRC-32; the next is written whole (PROTOCOL §14, Restart)',
    tests: ['packages/nameserver/dist/registry/snapshot-merge.test', 'packages/nameserver/dist/registry/merge-thread.test', 'packages/nameserver/dist/server.test'],
  },
  {
    patch: 'snapshot-keeps-changed-lines.patch',
    claim: 'a snapshot made from the one before is byte for byte the one written whole: changed lines replaced, removed ones gone (PROTOCOL §14, Restart)',
    tests: ['packages/nameserver/dist/registry/snapshot-merge.test', 'packages/nameserver/dist/registry/merge-thread.test'],
  },
  {
    patch: 'name-sort-deep-in-one-step.patch',
    claim: "the server's work over names clients chose goes in bounded steps whatever the names; names split one at a time are merge sorted in steps (docs/SECURITY.md, Hostile clients)",
    tests: ['packages/nameserver/dist/registry/name-sort.test'],
  },
  {
    patch: 'stored-snapshot-at-the-log-end.patch',
    claim: "a backup sent the primary's stored snapshot gets every record after that snapshot's index, not only those after the log's end (PROTOCOL §19.7)",
    tests: ['e2e/dist/cluster-stored-snapshot.test'],
  },
  {
    patch: 'snapshot-bytes-to-an-older-member.patch',
    claim: 'a snapshot goes as frames of bytes only to a member that said in its handshake it takes them; to an older member, as JSON text (PROTOCOL §19.7)',
    tests: ['packages/nameserver/dist/cluster/peer-transport.test'],
  },
  {
    patch: 'catch-up-priority-kept-low.patch',
    claim: "a backup's threads run at a lower priority only while it catches up, and all of them get their priority back (CLUSTER.md, install)",
    tests: ['packages/nameserver/dist/cluster/catch-up-priority.test'],
  },
  {
    patch: 'code-cache-folder-trusted-blindly.patch',
    claim: "the release binary reads and writes its code cache only in a folder its user owns and no other may write (SECURITY.md)",
    tests: ['packages/node-kit/dist/code-cache.test'],
  },
  {
    patch: 'snapshot-size-taken-as-a-promise.patch',
    claim: "the size a snapshot's first chunk says is a hint: bytes past it are kept and joined, not dropped (PROTOCOL §19.7)",
    tests: ['packages/nameserver/dist/cluster/peer-transport.test'],
  },
  {
    patch: 'snapshot-keeps-first-change.patch',
    claim: 'a name changed more than once between snapshots is written with its last change, not its first (PROTOCOL §14, Restart)',
    tests: ['packages/nameserver/dist/registry/changed-entries.test', 'packages/nameserver/dist/registry/snapshot-merge.test'],
  },
  {
    patch: 'read-ahead-unchecked.patch',
    claim: 'a snapshot read before the data directory\'s lock is taken is used only if the same file is still there, unchanged, once it is held (PROTOCOL §14, Restart)',
    tests: ['packages/nameserver/dist/storage/whole-file.test'],
  },
  {
    patch: 'snapshot-used-unchecked.patch',
    claim: 'a large snapshot, checked on a thread of its own while the log is read, is fallen back from when found bad (PROTOCOL §14, Restart)',
    tests: ['packages/nameserver/dist/storage/recovery.test'],
  },
];

/** Past this, a fault's test run is stopped and counted as an error. */
const RUN_TIMEOUT_MS = 20 * 60_000;

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const baseline = !args.includes('--no-baseline');
const only = args.filter((a) => !a.startsWith('--'));
const chosen = FAULTS.filter((f) => only.length === 0 || only.some((o) => f.patch.includes(o)));
if (chosen.length === 0) {
  console.error(`planted-faults: no fault matches ${only.join(', ')}; known: ${FAULTS.map((f) => f.patch).join(', ')}`);
  process.exit(2);
}
for (const f of chosen) {
  if (!existsSync(join(PATCHES, f.patch))) {
    console.error(`planted-faults: ${f.patch} is listed but missing from e2e/planted-faults/`);
    process.exit(2);
  }
}
const unlisted = readdirSync(PATCHES).filter((n) => n.endsWith('.patch') && !FAULTS.some((f) => f.patch === n));
if (unlisted.length > 0) {
  console.error(`planted-faults: patches without guarding tests listed in this script: ${unlisted.join(', ')}`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'dpns-faults-'));
// Outside the work tree, so that the logs of a failed run outlive it.
const logDir = mkdtempSync(join(tmpdir(), 'dpns-faults-logs-'));
/** Where the installed node_modules folders wait between one tree and the next. */
const depsHome = join(work, 'deps');
let depsParked = false;
const started = Date.now();
const rows = [];
let ok = true;

try {
  if (baseline) {
    const guards = [...new Set(chosen.flatMap((f) => f.tests))];
    const t0 = Date.now();
    const tree = prepare('baseline', undefined);
    const built = seconds(t0);
    const r = runTests(tree, guards, 'baseline');
    console.log(`baseline: ${r.summary} (${seconds(t0)} s: ${built} s to copy and build)`);
    if (!r.green) {
      console.error(r.failed.length > 0
        ? `planted-faults: guards fail WITHOUT any fault, so a red run below would prove nothing; see ${r.log}`
        : `planted-faults: the guards did not all run and pass without a fault (${r.summary}); a skipped guard checks nothing (run as root with .ci/run's packages); see ${r.log}`);
      for (const name of r.failed) console.error(`  ✖ ${name}`);
      ok = false;
    }
    release(tree);
  }
  for (const f of chosen) {
    const t0 = Date.now();
    const name = f.patch.replace(/\.patch$/, '');
    let row;
    try {
      const tree = prepare(name, join(PATCHES, f.patch));
      const built = seconds(t0);
      const missing = f.tests.filter((t) => !hasTests(tree, t));
      const present = f.tests.filter((t) => !missing.includes(t));
      const r = present.length === 0 ? undefined : runTests(tree, present, name);
      const result = r === undefined ? 'GREEN (no guard exists)' : r.red ? 'red' : `GREEN${r.skipped > 0 ? ` (${r.skipped} skipped)` : ''}`;
      row = { fault: name, tests: f.tests.map((t) => (missing.includes(t) ? `${short(t)} (missing)` : short(t))).join(', '), result, s: seconds(t0), built, failed: r?.failed ?? [], log: r?.log };
      release(tree);
    } catch (err) {
      row = { fault: name, tests: f.tests.map(short).join(', '), result: `ERROR: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`, s: seconds(t0), failed: [] };
    }
    if (row.result !== 'red') ok = false;
    rows.push(row);
    console.log(`${row.fault}: ${row.result} (${row.s} s${row.built === undefined ? '' : `: ${row.built} s to copy, patch and build`})${row.failed.length > 0 ? `\n${row.failed.map((n) => `    ✖ ${n}`).join('\n')}` : ''}`);
  }
} finally {
  printTable();
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept: ${work}`);
}
if (ok && !keep) rmSync(logDir, { recursive: true, force: true });
else console.log(`test logs: ${logDir}`);
console.log(`\nplanted-faults: ${rows.filter((r) => r.result === 'red').length} of ${rows.length} faults caught, ${seconds(started)} s in all`);
if (!ok) {
  console.error('planted-faults: FAILED — a fault the suite does not catch is a claim nothing checks');
  process.exit(1);
}

/**
 * A copy of the working tree with its build outputs (timestamps kept, so tsc -b rebuilds only
 * what the patch touches) and its dependencies, the patch applied, built.
 */
function prepare(name, patch) {
  const tree = join(work, name);
  if (existsSync(tree)) throw new Error(`${tree} exists already`);
  const files = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter(Boolean);
  for (const rel of files) {
    const from = join(ROOT, rel);
    if (!existsSync(from)) continue; // deleted in the working tree
    cpSync(from, join(tree, rel), { preserveTimestamps: true, verbatimSymlinks: true });
  }
  for (const rel of buildOutputs()) cpSync(join(ROOT, rel), join(tree, rel), { recursive: true, preserveTimestamps: true });
  if (depsParked) {
    // pnpm's links are relative, so the folders work in any tree of the same layout.
    for (const rel of depDirs(tree)) renameSync(join(depsHome, rel), join(tree, rel));
    depsParked = false;
  } else {
    run(tree, ...pnpmCommand(['install', '--offline', '--frozen-lockfile']), `${name}: pnpm install`);
  }
  if (patch !== undefined) run(tree, 'git', ['apply', '--whitespace=nowarn', patch], `${name}: git apply`);
  run(tree, process.execPath, [join(tree, 'node_modules/typescript/bin/tsc'), '-b'], `${name}: tsc -b`);
  if (!existsSync(join(tree, 'packages/web/dist/app.js'))) run(tree, process.execPath, ['packages/web/scripts/bundle.mjs'], `${name}: bundle`);
  return tree;
}

/** Done with a tree: its dependencies are parked for the next one, the rest removed (unless --keep). */
function release(tree) {
  if (keep) return;
  for (const rel of depDirs(tree)) {
    mkdirSync(dirname(join(depsHome, rel)), { recursive: true });
    renameSync(join(tree, rel), join(depsHome, rel));
  }
  depsParked = true;
  rmSync(tree, { recursive: true, force: true });
}

/** The node_modules folders of the workspace (pnpm-workspace.yaml: packages/*, e2e), relative. */
function depDirs(tree) {
  const pkgs = readdirSync(join(tree, 'packages')).map((p) => join('packages', p, 'node_modules'));
  return ['node_modules', 'e2e/node_modules', ...pkgs].filter((rel) => existsSync(join(tree, rel)) || existsSync(join(depsHome, rel)));
}

/** dist/ folders and .tsbuildinfo files of this tree, relative to it. */
function buildOutputs() {
  const out = [];
  for (const dir of ['packages', 'e2e']) {
    const base = join(ROOT, dir);
    const pkgs = dir === 'e2e' ? [''] : readdirSync(base).filter((n) => statSync(join(base, n)).isDirectory());
    for (const p of pkgs) {
      for (const leaf of ['dist', 'tsconfig.tsbuildinfo']) {
        const rel = join(dir, p, leaf);
        if (existsSync(join(ROOT, rel))) out.push(rel);
      }
    }
  }
  return out;
}

function hasTests(tree, substring) {
  const found = [];
  const walk = (dir) => {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.test.js') && p.slice(tree.length + 1).includes(substring)) found.push(p);
    }
  };
  // The folders run-tests.mjs searches: each package's dist/ and e2e/dist/.
  for (const pkg of readdirSync(join(tree, 'packages'))) walk(join(tree, 'packages', pkg, 'dist'));
  walk(join(tree, 'e2e/dist'));
  return found.length > 0;
}

/** Runs the guards in `tree`; red when at least one test failed (a skip alone is not red). */
function runTests(tree, substrings, name) {
  const log = join(logDir, `${name}.log`);
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', ...substrings], {
    cwd: tree, encoding: 'utf8', timeout: RUN_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, DPNS_TEST_ALLOW_SKIP: '0' },
  });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  writeFileSync(log, text);
  if (r.error !== undefined) throw new Error(`${name}: the tests did not finish: ${r.error.message} (log: ${log})`);
  const count = (what) => Number(new RegExp(`^ℹ ${what} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const fail = count('fail') + count('cancelled');
  const pass = count('pass');
  const skipped = count('skipped');
  const failingAt = text.indexOf('✖ failing tests:');
  const failed = failingAt < 0 ? [] : [...new Set(text.slice(failingAt).split('\n').filter((l) => /^✖ /.test(l) && !/failing tests:/.test(l)).map((l) => l.slice(2).replace(/ \([\d.]+ms\)$/, '')))];
  if (pass + fail + skipped === 0) throw new Error(`${name}: no test ran (exit ${r.status}; log: ${log})`);
  return { red: fail > 0, green: fail === 0 && r.status === 0, failed, skipped, log, summary: `${pass} passed, ${fail} failed, ${skipped} skipped` };
}

/**
 * pnpm itself: CI runs this script as `npx -y pnpm@10 run planted-faults`, which puts no `pnpm` on
 * the PATH but names its own entry point in npm_execpath.
 */
function pnpmCommand(argv) {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) return /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath, ...argv]] : [execPath, argv];
  return ['pnpm', argv];
}

function run(cwd, cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || r.error?.message || '').trim().slice(-2000)}`);
}

function git(argv) {
  const r = spawnSync('git', argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function seconds(t0) {
  return Math.round((Date.now() - t0) / 1000);
}

function short(t) {
  return t.replace(/^(packages\/[^/]+|e2e)\/dist\//, (_, p) => `${p.replace(/^packages\//, '')}:`);
}

function printTable() {
  if (rows.length === 0) return;
  const head = ['fault', 'guarding tests', 'result', 'seconds'];
  const body = rows.map((r) => [r.fault, r.tests, r.result, String(r.s)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`\n${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${body.map(line).join('\n')}`);
}
