// The kill operation: only a process in the ledger whose start time still matches is signalled,
// so a stale or forged pid reaches nothing. SIGTERM goes to the whole process group (the service
// and whatever it started); after the grace period, SIGKILL.
import type { Ledger } from './ledger.js';
import type { Logger } from './log.js';
import { processIdentity, waitUntilGone } from './proc.js';
import { AgentError, type AgentKillOp, type AgentKillReply } from './wire.js';

/** How long to wait for the group leader to vanish after SIGKILL (it can sit in uninterruptible I/O). */
const AFTER_SIGKILL_MS = 5000;

export interface KillContext {
  ledger: Ledger;
  /** Grace period when the request names none. */
  defaultGraceMs: number;
  log: Logger;
}

export async function kill(op: AgentKillOp, ctx: KillContext): Promise<AgentKillReply> {
  const entry = ctx.ledger.find(op.launchId);
  if (entry === undefined || entry.pid !== op.pid || entry.service !== op.service) {
    const gone = ctx.ledger.recentlyGone(op.launchId);
    if (entry === undefined && gone !== undefined && gone.pid === op.pid && gone.service === op.service) return alreadyGone();
    throw new AgentError('NOT_LAUNCHED', `pid ${op.pid} is not in this agent's ledger as launch ${op.launchId} of ${op.service}; an agent only signals processes it launched, so nothing was signalled`);
  }
  const log = ctx.log.child({ service: entry.service, launchId: entry.launchId, pid: entry.pid });
  const identity = await processIdentity(entry.pid, entry.startTime);
  if (identity === 'gone') {
    await ctx.ledger.remove(entry.launchId);
    return alreadyGone();
  }
  if (identity === 'recycled') {
    await ctx.ledger.remove(entry.launchId);
    throw new AgentError('NOT_LAUNCHED', `pid ${entry.pid} now belongs to another process (its start time changed): the launched process is gone and nothing was signalled`);
  }

  const graceMs = op.graceMs ?? ctx.defaultGraceMs;
  if (!signalGroup(entry.pgid, 'SIGTERM')) {
    await ctx.ledger.remove(entry.launchId);
    return alreadyGone();
  }
  if (await waitUntilGone(entry.pid, entry.startTime, graceMs)) {
    await ctx.ledger.remove(entry.launchId);
    log.info('killed', { signal: 'SIGTERM' });
    return { type: 'reply', ok: true, killed: true, signal: 'SIGTERM', alreadyGone: false };
  }
  // Checked again: between the grace period and now the pid may have been freed and reused.
  if ((await processIdentity(entry.pid, entry.startTime)) === 'alive') signalGroup(entry.pgid, 'SIGKILL');
  const killed = await waitUntilGone(entry.pid, entry.startTime, AFTER_SIGKILL_MS);
  if (killed) await ctx.ledger.remove(entry.launchId);
  log.info(killed ? 'killed' : 'still running after SIGKILL', { signal: 'SIGKILL', graceMs });
  return { type: 'reply', ok: true, killed, signal: 'SIGKILL', alreadyGone: false };
}

function alreadyGone(): AgentKillReply {
  return { type: 'reply', ok: true, killed: false, alreadyGone: true };
}

/** Signals the process group; false when no process is left in it. */
function signalGroup(pgid: number, signal: 'SIGTERM' | 'SIGKILL'): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
