// The launch operation: the sealed spec opened, then allowlist, environment policy, user, working
// directory, ticket; then spawn, record in the ledger, reply. Every check that can refuse runs before anything is started.
//
// The reply is sent as soon as the child runs and the ledger holds it; the agent does not wait to
// see whether the service comes up (the name server's start-up timeout covers that, and waiting
// here would add its length to every launch). If the child has already exited by the time the
// reply is built, the launch is reported as SPAWN_FAILED with its exit status instead.
import { stat } from 'node:fs/promises';
import type { Allowlist } from './allowlist.js';
import { checkLaunchEnv } from './env-policy.js';
import type { Ledger } from './ledger.js';
import type { Logger } from './log.js';
import { procStat } from './proc.js';
import { chooseRunAs, type RunAsPolicy } from './run-as.js';
import { spawnDetached, type ExitInfo } from './spawn.js';
import { AgentError, openLaunch, type AgentLaunchReply, type AgentLedgerEntry, type AgentSealedLaunchOp } from './wire.js';

/** A child that exits this soon after its launch is worth a warning in the log. */
const EARLY_EXIT_MS = 100;

export interface LaunchContext {
  allowlist: Allowlist;
  ledger: Ledger;
  policy: RunAsPolicy;
  logsDir: string;
  log: Logger;
  /** The secret half of this connection's boxKey, to open the sealed spec. */
  boxSecretKey: Uint8Array;
  /** The host the request was meant for (its `target`, which admission checked is this one's). */
  host: string;
}

export async function launch(sealed: AgentSealedLaunchOp, ctx: LaunchContext): Promise<AgentLaunchReply> {
  const op = openLaunch(sealed, ctx.boxSecretKey);
  const { path: program, env: permittedEnv } = await ctx.allowlist.resolveProgram(op.program);
  checkLaunchEnv(op.env, permittedEnv, program);
  const runAs = await chooseRunAs(op.user, ctx.policy);
  const cwd = op.cwd ?? '/';
  await assertDirectory(cwd);
  const { ticketLine } = op;
  if (ticketLine.includes('\n')) {
    throw new AgentError('BAD_REQUEST', 'the ticket line holds a newline; the service reads exactly one line, so send it as compact JSON');
  }
  if (ctx.ledger.find(op.launchId) !== undefined) {
    throw new AgentError('BAD_REQUEST', `launch id ${op.launchId} is already in this agent's ledger; use a fresh launch id for every launch`);
  }

  const child = await spawnDetached({
    service: op.service, program, args: op.args, env: op.env, cwd, runAs, servers: op.servers, host: ctx.host, ticketLine, logsDir: ctx.logsDir,
  });
  const launchedAt = Date.now();
  const log = ctx.log.child({ service: op.service, launchId: op.launchId, pid: child.pid });
  // Start time is fixed at fork, so it can be read even before the exec has happened.
  const st = await procStat(child.pid);
  if (st === undefined) {
    const exit = await child.exited;
    throw new AgentError('SPAWN_FAILED', `${program} exited at once (${describeExit(exit)}); its output is in ${child.logPath} on this host`);
  }
  const entry: AgentLedgerEntry = {
    launchId: op.launchId, service: op.service, pid: child.pid, pgid: child.pid, startTime: st.startTime, program, user: runAs.name, launchedAt,
  };
  await ctx.ledger.add(entry);
  void child.exited.then(async (exit) => {
    const ranMs = Date.now() - launchedAt;
    if (ranMs < EARLY_EXIT_MS) log.warn('service exited right after its launch', { ...exit, ranMs, logPath: child.logPath });
    else log.info('service exited', { ...exit, ranMs });
    await ctx.ledger.remove(op.launchId);
  }).catch((err: unknown) => log.error('cannot update the ledger after a service exited', { err }));

  const exit = child.exitInfo();
  if (exit !== undefined) {
    throw new AgentError('SPAWN_FAILED', `${program} exited at once (${describeExit(exit)}); its output is in ${child.logPath} on this host`);
  }
  log.info('launched', { program, user: runAs.name, startTime: st.startTime, logPath: child.logPath });
  return { type: 'reply', ok: true, pid: child.pid, startTime: st.startTime };
}

function describeExit(exit: ExitInfo): string {
  return exit.signal === undefined ? `exit code ${exit.exitCode}` : `killed by ${exit.signal}`;
}

async function assertDirectory(cwd: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(cwd)).isDirectory();
  } catch {
    throw new AgentError('NOT_FOUND', `working directory ${JSON.stringify(cwd)} does not exist on this host`);
  }
  if (!isDir) throw new AgentError('NOT_FOUND', `working directory ${JSON.stringify(cwd)} is not a directory`);
}
