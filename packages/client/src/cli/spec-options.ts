// The launch-spec options shared by `add` and `edit`: --host or --hosts, --program, --arg..., --env K=V...,
// --cwd, --user, --start-timeout, --restart, --idle-stop, and the health check's (check-options.ts).
import type { Argv as Yargs } from 'yargs';
import { HOSTS_LIMITS, SPEC_LIMITS, durationText, type LaunchSpec } from '@dpns/protocol';
import { duration, envPairs, optInt, optString, stringList, type Argv } from './args.js';
import { UsageError } from './usage-error.js';
import { checkFromArgs, checkOptions } from './check-options.js';

export function specOptions(y: Yargs, required: boolean): Yargs {
  return checkOptions(y)
    .option('host', { type: 'string', describe: `host whose launch agent starts the program${required ? ' (this or --hosts is required)' : ''}` })
    .option('hosts', {
      type: 'string',
      describe: `instead of --host: up to ${HOSTS_LIMITS.count} host names or patterns, comma-separated (h1,h2 or 'media-*'; * any run of characters, ? one); each launch goes to the least loaded reachable host with a trusted agent, the next if it fails`,
    })
    .conflicts('host', 'hosts')
    .option('program', { type: 'string', demandOption: required, describe: 'absolute path, or a name the agent\'s allowlist maps to one' })
    .option('arg', { type: 'string', describe: 'an argument (repeatable, in order; --arg=-v for one starting with -)' })
    .option('env', { type: 'string', describe: 'an environment variable KEY=VALUE (repeatable)' })
    .option('cwd', { type: 'string', describe: 'absolute working directory' })
    .option('user', { type: 'string', describe: 'user to run as (when the agent runs as root)' })
    .option('restart', { choices: ['no', 'on-failure'], describe: 'on-failure: launch it again, with back-off, when its process dies' })
    .option('idle-stop', {
      type: 'string',
      describe: `scale to zero: stop it after this long without a find, DNS query or authentication while its load is 0 (${durationText(SPEC_LIMITS.idleStopMs.min)} to 30d, e.g. 10m); the next lookup starts it again`,
    })
    .option('start-timeout', {
      type: 'string',
      describe: `ms the program has to advertise itself (${SPEC_LIMITS.startTimeoutMs.min}-${SPEC_LIMITS.startTimeoutMs.max})`,
    });
}

/** The spec fields given on the command line (only those; defaults are the server's). */
export function specFromArgs(argv: Argv): Partial<LaunchSpec> {
  const spec: Partial<LaunchSpec> = {};
  const host = optString(argv, 'host');
  const program = optString(argv, 'program');
  const args = stringList(argv, 'arg');
  const env = stringList(argv, 'env');
  const cwd = optString(argv, 'cwd');
  const user = optString(argv, 'user');
  const { min, max } = SPEC_LIMITS.startTimeoutMs;
  const startTimeoutMs = optInt(argv, 'start-timeout', min, max);
  if (host !== undefined) spec.host = host;
  const hosts = optString(argv, 'hosts');
  if (hosts !== undefined) spec.hosts = hosts.split(',').map((h) => h.trim()).filter((h) => h !== '');
  if (program !== undefined) spec.program = program;
  if (args !== undefined) spec.args = args;
  if (env !== undefined) spec.env = envPairs(env);
  if (cwd !== undefined) spec.cwd = cwd;
  if (user !== undefined) spec.user = user;
  if (startTimeoutMs !== undefined) spec.startTimeoutMs = startTimeoutMs;
  const restart = optString(argv, 'restart');
  if (restart === 'no' || restart === 'on-failure') spec.restart = restart;
  const idle = optString(argv, 'idle-stop');
  if (idle !== undefined) spec.idleStopMs = idleStop(idle);
  const check = checkFromArgs(argv);
  if (check !== undefined) spec.check = check;
  return spec;
}

/** --idle-stop's duration, in the protocol's bounds. */
function idleStop(text: string): number {
  const ms = duration(text, 'idle-stop');
  const { min, max } = SPEC_LIMITS.idleStopMs;
  if (ms < min || ms > max) throw new UsageError(`--idle-stop must be from ${durationText(min)} to 30d, got ${JSON.stringify(text)}`);
  return ms;
}
