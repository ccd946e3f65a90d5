// Standing for election (once the server's candidacy.ts): when to stand (members earlier in
// SID order that are still heard stand first), the prevote round that keeps a member cut off from
// the others from driving epochs up, the vote itself, and the retries. The core decides whom it
// follows; this only tries to win. Its timers are deadlines the core wakes up for.
import type { Effect } from './effects.js';
import type { LogPosition, VoteAnswer } from './messages.js';
import type { Prng } from './prng.js';

export interface CandidacyHost {
  readonly heartbeatMs: number;
  /** Members, this one included, whose grant wins now. */
  quorum(): number;
  /** Whether this member's own vote counts (not while it stands outside its newest configuration). */
  selfCounts(): boolean;
  /** Still looking for a primary (not following one, not primary, not waiting out a primary it let go of). */
  isCandidate(now: number): boolean;
  /** Members earlier in SID order that are still heard (the lost primary not counted). */
  aheadOfUs(now: number): number;
  /** The members that can be asked now. */
  reachable(): number[];
  position(): LogPosition;
  epoch(): number;
  /** Persist this member's own vote in `epoch`; the core calls `selfVoted` once it is on disk. */
  voteForSelf(epoch: number, out: Effect[]): void;
  /** Won `epoch`: take over; the core calls `finished` once it has. */
  won(epoch: number, now: number, out: Effect[]): void;
}

interface Ballot {
  readonly type: 'prevote' | 'vote';
  readonly epoch: number;
  readonly pos: LogPosition;
  readonly granted: Set<number>;
  readonly answered: Set<number>;
  readonly reachable: number;
  readonly deadline: number;
}

type Phase = 'idle' | 'prevote' | 'self-vote' | 'vote' | 'winning';

export class Candidacy {
  /** When the planned stand starts. */
  private standAt: number | undefined;
  private phase: Phase = 'idle';
  private attempts = 0;
  /** The planned stand is the wait for members earlier in SID order to stand first. */
  private waitingTurn = false;
  private ballot: Ballot | undefined;

  constructor(private readonly h: CandidacyHost, private readonly rng: Prng) {}

  /** The earliest time this wants to be woken at. */
  deadline(): number | undefined {
    const b = this.ballot?.deadline;
    if (b === undefined) return this.standAt;
    return this.standAt === undefined ? b : Math.min(b, this.standAt);
  }

  /** Stands after `delayMs`, unless a stand is already planned or under way. */
  schedule(delayMs: number, now: number): void {
    if (this.standAt !== undefined || this.phase !== 'idle' || !this.h.isCandidate(now)) return;
    this.standAt = now + delayMs;
  }

  /** The primary was lost: stand from the start (waiting our turn in SID order). */
  restart(now: number): void {
    this.cancel();
    this.schedule(0, now);
  }

  /** A primary was found: nothing to stand for. */
  cancel(): void {
    this.standAt = undefined;
    this.attempts = 0;
    this.waitingTurn = false;
  }

  /** A member with an older log asked for our vote while we waited our turn: it cannot win, we might. */
  standNow(now: number): void {
    if (this.phase !== 'idle' || !this.waitingTurn || this.standAt === undefined || !this.h.isCandidate(now)) return;
    this.standAt = undefined;
    this.waitingTurn = false;
    this.schedule(0, now);
  }

  /** Time has passed: a planned stand may start, a ballot may run out. */
  wake(now: number, out: Effect[]): void {
    if (this.ballot !== undefined && now >= this.ballot.deadline) this.finishBallot(now, out);
    if (this.standAt === undefined || now < this.standAt) return;
    this.standAt = undefined;
    this.waitingTurn = false;
    if (!this.h.isCandidate(now) || this.phase !== 'idle') return;
    const wait = this.h.aheadOfUs(now) * 2 * this.h.heartbeatMs;
    if (wait > 0 && this.attempts === 0) {
      this.attempts++;
      this.schedule(wait, now);
      this.waitingTurn = true;
      return;
    }
    this.phase = 'prevote';
    this.ask('prevote', this.h.epoch() + 1, this.h.position(), now, out);
  }

  /** An answer to our prevote or vote. */
  onAnswer(from: number, m: VoteAnswer, now: number, out: Effect[]): void {
    const b = this.ballot;
    if (b === undefined || m.epoch !== b.epoch || m.t !== `${b.type}-ans`) return;
    b.answered.add(from);
    if (m.granted) b.granted.add(from);
    this.checkBallot(now, out);
  }

  /** Our own vote in `epoch` is on disk. */
  selfVoted(epoch: number, now: number, out: Effect[]): void {
    if (this.phase !== 'self-vote') return;
    const b = this.lastPos;
    if (this.h.isCandidate(now) && this.h.epoch() === epoch && b !== undefined) {
      this.phase = 'vote';
      this.ask('vote', epoch, b, now, out);
    } else this.end(now);
  }

  /** Our own vote could not be cast (we voted for another in that epoch, or moved past it): this stand is over. */
  selfVoteRefused(now: number): void {
    if (this.phase === 'self-vote') this.end(now);
  }

  /** The stand that won is over (this member took over, or found it could not). */
  finished(now: number): void {
    if (this.phase === 'winning') this.end(now);
  }

  private lastPos: LogPosition | undefined;

  private ask(type: 'prevote' | 'vote', epoch: number, pos: LogPosition, now: number, out: Effect[]): void {
    const reachable = this.h.reachable();
    this.lastPos = pos;
    this.ballot = { type, epoch, pos, granted: new Set(), answered: new Set(), reachable: reachable.length, deadline: now + this.h.heartbeatMs * 2 };
    for (const sid of reachable) out.push({ kind: 'send', to: sid, m: { t: type, epoch, ...pos } });
    this.checkBallot(now, out);
  }

  private checkBallot(now: number, out: Effect[]): void {
    const b = this.ballot;
    if (b === undefined) return;
    if (this.votes(b) >= this.h.quorum() || b.answered.size >= b.reachable) this.finishBallot(now, out);
  }

  private finishBallot(now: number, out: Effect[]): void {
    const b = this.ballot;
    if (b === undefined) return;
    this.ballot = undefined;
    const won = this.votes(b) >= this.h.quorum();
    if (!won) return this.end(now);
    if (b.type === 'prevote') {
      if (!this.h.isCandidate(now)) return this.end(now);
      this.phase = 'self-vote';
      this.h.voteForSelf(b.epoch, out);
      return;
    }
    this.phase = 'winning';
    this.h.won(b.epoch, now, out);
  }

  private votes(b: Ballot): number {
    return b.granted.size + (this.h.selfCounts() ? 1 : 0);
  }

  private end(now: number): void {
    this.phase = 'idle';
    this.attempts++;
    if (this.h.isCandidate(now)) {
      const hb = this.h.heartbeatMs;
      // The first retries come quickly: the usual refusal is a member that has not yet noticed the
      // primary's death, which it does within milliseconds of us when the primary's process died.
      // A prevote moves no epoch, so asking again soon costs only messages.
      const delay = this.attempts <= 2 ? 2 + this.rng.next() * 6 : this.attempts === 3 ? 5 + this.rng.next() * 25 : hb / 2 + this.rng.next() * hb;
      this.schedule(delay, now);
    }
  }
}
