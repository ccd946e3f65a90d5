// When a member grants a prevote or a vote: the rules that make one primary per epoch, holding
// every committed record (once the server's cluster/vote-rules.ts).
import type { LogPosition, VoteRequest } from './messages.js';

/** A log at least as new as ours: the epoch of its last record first, then its length. */
export function logAtLeastAsNew(theirs: LogPosition, ours: LogPosition): boolean {
  return theirs.lastEpoch > ours.lastEpoch || (theirs.lastEpoch === ours.lastEpoch && theirs.lastIndex >= ours.lastIndex);
}

export interface VoterState {
  log: LogPosition;
  epoch: number;
  votedFor: number | undefined;
  /** We are a primary with a majority, or a backup still hearing its primary (or honouring one). */
  hearsPrimary: boolean;
  primarySid: number | undefined;
  /** Whether the candidate is a voter in our configuration (undefined: yes). */
  candidateVotes?: boolean;
}

export type VoteRule = 'member' | 'log' | 'primary' | 'epoch' | 'voted';

/**
 * Why `from`'s request is refused, or undefined to grant it. The membership rule comes first,
 * then the log rule: a candidate refused for it cannot win. `skipLogCheck` is the planted bug 'vote-without-log-check'.
 */
export function voteRefusal(req: VoteRequest, from: number, me: VoterState, skipLogCheck = false): { rule: VoteRule; reason: string } | undefined {
  // First: a member outside our configuration, and behind us, is one removed that has not heard
  // of it (or never was a voter): refused before the log rule, so that it moves nobody's epoch.
  // One whose log is at least as new as ours may know of a change we have not yet stored (its own
  // addition): it is judged by the other rules, or a lagging voter could keep the cluster from
  // ever electing a primary (found by the simulator).
  if (me.candidateVotes === false && !logAtLeastAsNew(req, me.log)) return { rule: 'member', reason: `SID ${from} is not a voter in our configuration, and its log is behind ours` };
  if (!skipLogCheck && !logAtLeastAsNew(req, me.log)) {
    return { rule: 'log', reason: `its log (${req.lastIndex}@${req.lastEpoch}) is behind ours (${me.log.lastIndex}@${me.log.lastEpoch})` };
  }
  if (me.hearsPrimary) return { rule: 'primary', reason: `we still hear the primary (SID ${String(me.primarySid)})` };
  if (req.t === 'prevote') {
    return req.epoch > me.epoch ? undefined : { rule: 'epoch', reason: `epoch ${req.epoch} is not newer than ours (${me.epoch})` };
  }
  if (req.epoch < me.epoch) return { rule: 'epoch', reason: `epoch ${req.epoch} is older than ours (${me.epoch})` };
  if (req.epoch === me.epoch && me.votedFor !== undefined && me.votedFor !== from) return { rule: 'voted', reason: `we already voted in epoch ${me.epoch}` };
  return undefined;
}

/**
 * The epoch a member takes up from a request it refuses for its log, or undefined. The requester
 * has reached that epoch (a prevote asks for the one after its own). A member that stayed behind it
 * would refuse the requester's prevotes on the epoch rule while the requester's log loses it every
 * vote: with a third member down, neither could ever win (found by the simulator; Raft takes up any
 * newer term it sees for the same reason). Not while it hears a primary: prevotes exist so that a
 * member cut off from the others cannot unsettle a working primary.
 */
export function epochLearned(req: VoteRequest, me: VoterState): number | undefined {
  if (me.hearsPrimary || logAtLeastAsNew(req, me.log)) return undefined;
  const reached = req.t === 'vote' ? req.epoch : req.epoch - 1;
  return reached > me.epoch ? reached : undefined;
}
