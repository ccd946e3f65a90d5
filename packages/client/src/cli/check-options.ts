// The health-check options shared by `advertise` (a static entry) and `add`/`edit` (an auto-start
// service): --check tcp|http:PATH, --check-interval, --check-timeout, --check-threshold.
import type { Argv as Yargs } from 'yargs';
import { CHECK_LIMITS, type HealthCheck } from '@dpns/protocol';
import { optInt, optString, type Argv } from './args.js';
import { UsageError } from './usage-error.js';

const { intervalMs, timeoutMs, threshold } = CHECK_LIMITS;

export function checkOptions(y: Yargs): Yargs {
  return y
    .option('check', { type: 'string', describe: 'health check of the advertised address: tcp (a connection is accepted) or http:PATH (GET PATH answers 2xx/3xx)' })
    .option('check-interval', { type: 'string', describe: `ms between probes (${intervalMs.min}-${intervalMs.max}, default ${intervalMs.dflt})` })
    .option('check-timeout', { type: 'string', describe: `ms one probe may take, less than the interval (${timeoutMs.min}-${timeoutMs.max}, default ${timeoutMs.dflt})` })
    .option('check-threshold', { type: 'string', describe: `failed probes in a row that make it unhealthy (${threshold.min}-${threshold.max}, default ${threshold.dflt})` });
}

/** The check given on the command line, defaults filled in; undefined without --check. */
export function checkFromArgs(argv: Argv): HealthCheck | undefined {
  const given = optString(argv, 'check');
  const interval = optInt(argv, 'check-interval', intervalMs.min, intervalMs.max);
  const timeout = optInt(argv, 'check-timeout', timeoutMs.min, timeoutMs.max);
  const count = optInt(argv, 'check-threshold', threshold.min, threshold.max);
  if (given === undefined) {
    if (interval !== undefined || timeout !== undefined || count !== undefined) throw new UsageError('--check-interval, --check-timeout and --check-threshold need --check tcp or --check http:PATH');
    return undefined;
  }
  let check: HealthCheck;
  if (given === 'tcp') check = { kind: 'tcp', intervalMs: intervalMs.dflt, timeoutMs: timeoutMs.dflt, threshold: threshold.dflt };
  else if (given.startsWith('http:')) check = { kind: 'http', path: given.slice('http:'.length), intervalMs: intervalMs.dflt, timeoutMs: timeoutMs.dflt, threshold: threshold.dflt };
  else throw new UsageError(`--check must be tcp or http:PATH (e.g. http:/healthz), got ${JSON.stringify(given)}`);
  if (interval !== undefined) check.intervalMs = interval;
  if (timeout !== undefined) check.timeoutMs = timeout;
  if (count !== undefined) check.threshold = count;
  return check;
}
