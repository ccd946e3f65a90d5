// The benchmark's command line: which scenarios, how long, how big.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../harness/paths.js';

/** Every scenario, in the order they run and print. */
export const SCENARIOS = ['echo', 'find', 'module', 'advertise', 'list', 'rss', 'watch', 'launch', 'etcd', 'failover', 'failover-cut', 'read-backups', 'abuse', 'catchup'] as const;
/** Scenarios run only when --only names them: filling their registries takes minutes. */
const ON_REQUEST: readonly ScenarioName[] = ['catchup'];
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchConfig {
  only: ReadonlySet<ScenarioName>;
  quick: boolean;
  durationMs: number;
  warmupMs: number;
  /** Connections and requests in flight for the throughput shapes. */
  connections: number;
  inFlight: number;
  /** Services registered before `find` runs. */
  findServices: number;
  /** Names registered for `list` and `rss`: groups × per group. */
  listGroups: number;
  listPerGroup: number;
  /** Watch shape: connections × watches per connection, and the writer's pace. */
  watchConnections: number;
  watchesPerConnection: number;
  watchWritesPerSec: number;
  /** The same number of watches spread thin: connections × watches per connection. */
  watchManyConnections: number;
  watchesPerManyConnection: number;
  /** Timed launches of the example service through dpns, and as many starts by hand. */
  launches: number;
  json: boolean;
  /** When set, every name server runs with `node --cpu-prof` and writes its profile here. */
  profileDir: string | undefined;
  /** Another built checkout's name server (--baseline): find and advertise also run against it, in the same run. */
  baselineBin: string | undefined;
  /** --growth: the registry sizes to grow one server to and measure at, smallest first (none when not asked for). */
  growthSizes: readonly number[];
  /** Where --growth writes its chart (SVG). */
  growthChart: string | undefined;
  /** --growth-rest: how long the server sits idle after each fill before its RSS at rest is read. */
  growthRestMs: number;
  /** --catchup-size: the names the primary holds when a new backup catches up (scenario catchup). */
  catchupSize: number;
}

const USAGE = `usage: node e2e/dist/bench/main.js [options]

  --only LIST       comma-separated scenarios: ${SCENARIOS.join(',')}
                    (all but ${ON_REQUEST.join(', ')} when not given)
  --duration SEC    measured seconds per shape (default 5; 1 with --quick)
  --warmup SEC      warm-up seconds before each shape (default 1; 0.3 with --quick)
  --quick           a short run with smaller registries, to check that everything works
  --json            also print the result rows as one JSON document on stdout
  --profile DIR     run each name server under node --cpu-prof, profiles written to DIR
                    (open them in Chrome DevTools or speedscope)
  --baseline DIR    a built checkout of another commit (git worktree add DIR REV; pnpm
                    install and pnpm build there): find and advertise also measure its name
                    server, alternating with this one's, and print this / baseline
  --growth          grow one server to each size and measure writes/s, find p99, RSS,
                    data-dir size and kill -9 → answering at each (slow: about 17 minutes
                    to 1M names); writes and finds alternate slices with a second server
                    holding the first size; alone unless --only is also given
  --growth-sizes L  comma-separated sizes for --growth (default 10000,100000,1000000;
                    2000,20000 with --quick)
  --growth-chart F  where --growth writes its SVG chart (default docs/growth.svg)
  --growth-rest SEC idle seconds after each fill before RSS at rest is read (default 150:
                    V8 gives a burst's garbage back only after a quiet spell; 5 with --quick)
  --catchup-size N  names in the primary when a new backup catches up (scenario catchup;
                    default 1000000, 20000 with --quick; filling 1M takes several minutes)
  -h, --help        this text

The etcd rows (scenario etcd, and beside failover and failover-cut) need \`etcd\` on the
PATH (apt-get install etcd-server); failover-cut and the capped half of read-backups need root.
`;

/** Parses argv; prints usage and exits 2 on a bad flag. */
export function parseBenchArgs(argv: string[]): BenchConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        profile: { type: 'string' },
        baseline: { type: 'string' },
        growth: { type: 'boolean', default: false },
        'growth-sizes': { type: 'string' },
        'growth-chart': { type: 'string' },
        'growth-rest': { type: 'string' },
        'catchup-size': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const growth = values.growth ?? false;
  const only = new Set<ScenarioName>();
  // --growth alone runs only the growth scenario: it takes long enough by itself.
  const onlyList = values.only ?? (growth ? '' : SCENARIOS.filter((x) => !ON_REQUEST.includes(x)).join(','));
  for (const s of onlyList.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(SCENARIOS as readonly string[]).includes(s)) usage(`--only: unknown scenario "${s}" (known: ${SCENARIOS.join(', ')})`);
    only.add(s as ScenarioName);
  }
  if (only.size === 0 && !growth) usage('--only: no scenario given');
  return {
    only,
    quick,
    durationMs: seconds(values.duration, quick ? 1 : 5, '--duration'),
    warmupMs: seconds(values.warmup, quick ? 0.3 : 1, '--warmup'),
    connections: 8,
    inFlight: 64,
    findServices: quick ? 1_000 : 10_000,
    listGroups: quick ? 100 : 1_000,
    listPerGroup: 100,
    watchConnections: quick ? 4 : 20,
    watchesPerConnection: quick ? 250 : 500,
    watchWritesPerSec: 50,
    watchManyConnections: quick ? 100 : 1_000,
    watchesPerManyConnection: 10,
    launches: quick ? 10 : 50,
    json: values.json ?? false,
    profileDir: values.profile === undefined ? undefined : resolve(values.profile),
    baselineBin: values.baseline === undefined ? undefined : baselineBin(values.baseline),
    growthSizes: growth ? sizes(values['growth-sizes'] ?? (quick ? '2000,20000' : '10000,100000,1000000')) : [],
    growthChart: growth ? resolve(values['growth-chart'] ?? join(REPO_ROOT, 'docs', 'growth.svg')) : undefined,
    growthRestMs: seconds(values['growth-rest'], quick ? 5 : 150, '--growth-rest'),
    catchupSize: catchupSize(values['catchup-size'], quick),
  };
}

function catchupSize(v: string | undefined, quick: boolean): number {
  if (v === undefined) return quick ? 20_000 : 1_000_000;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1000 || n > 10_000_000) usage(`--catchup-size: expected an integer from 1000 to 10,000,000, got "${v}"`);
  return n;
}

function baselineBin(dir: string): string {
  const bin = join(resolve(dir), 'packages', 'nameserver', 'bin', 'dpns-nameserver.js');
  if (!existsSync(bin) || !existsSync(join(resolve(dir), 'packages', 'nameserver', 'dist', 'main.js'))) {
    usage(`--baseline: no built name server in ${dir} (expected ${bin} and its dist/; run pnpm install and pnpm build there)`);
  }
  return bin;
}

function sizes(v: string): number[] {
  const out = v.split(',').map((x) => Number(x.trim()));
  if (out.length === 0 || out.some((n) => !Number.isSafeInteger(n) || n < 100 || n > 10_000_000)) {
    usage(`--growth-sizes: expected comma-separated integers from 100 to 10,000,000, got "${v}"`);
  }
  if (out.some((n, k) => k > 0 && n <= (out[k - 1] ?? 0))) usage(`--growth-sizes: sizes must grow, got "${v}"`);
  return out;
}

function seconds(v: string | undefined, dflt: number, flag: string): number {
  if (v === undefined) return dflt * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) usage(`${flag}: expected seconds above 0 and at most 3600, got "${v}"`);
  return n * 1000;
}

function usage(why: string): never {
  process.stderr.write(`${why}\n\n${USAGE}`);
  process.exit(2);
}
