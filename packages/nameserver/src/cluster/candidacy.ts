// Standing for election: when to stand (members earlier in SID order that are still heard stand
// first), the prevote round that keeps a member cut off from the others from driving epochs up,
// the vote itself, and the retries. The node decides who it follows; this only tries to win.
import type { Logger } from '../log.js';
import type { LogPosition, VoteAnswer, VoteRequest } from './peer-messages.js';

export interface CandidacyHost {
  readonly clusterHeartbeatMs: number;
  /** Servers, this one included, whose grant wins now. */
  quorum(): number;
  readonly log: Logger;
  /** Still looking for a primary (not stopped, not following one, not primary). */
  isCandidate(): boolean;
  /** Members earlier in SID order that are still heard (the lost primary not counted). */
  aheadOfUs(): number;
  /** The members that can be asked now. */
  reachable(): { sid: number; send(m: VoteRequest): void }[];
  position(): LogPosition;
  epoch(): number;
  /**
   * Persists this server's own vote in `epoch` (one at a time with the other election-state
   * changes); false when it may not: since the prevote it voted in `epoch` for another candidate,
   * or moved past it, and a second vote in one epoch could elect two primaries.
   */
  voteForSelf(epoch: number): Promise<boolean>;
  /** Won `epoch`: take over. */
  won(epoch: number): Promise<void>;
}

interface Ballot {
  type: 'prevote' | 'vote';
  epoch: number;
  granted: Set<number>;
  answered: Set<number>;
  done: () => void;
}

export class Candidacy {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private attempts = 0;
  private ballot: Ballot | undefined;
  private stopped = false;

  constructor(private readonly h: CandidacyHost) {}

  /** Stands after `delayMs`, unless a stand is already planned or under way. */
  schedule(delayMs: number): void {
    if (this.stopped || this.timer !== undefined || this.running || !this.h.isCandidate()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.h.isCandidate() || this.running) return;
      const wait = this.h.aheadOfUs() * 2 * this.h.clusterHeartbeatMs;
      if (wait > 0 && this.attempts === 0) {
        this.attempts++;
        return this.schedule(wait);
      }
      this.run().catch((err: unknown) => this.h.log.error('election failed', { err }));
    }, delayMs);
    this.timer.unref();
  }

  /** The primary was lost: stand from the start (waiting our turn in SID order). */
  restart(): void {
    this.cancel();
    this.schedule(0);
  }

  /** A primary was found: nothing to stand for. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.attempts = 0;
  }

  /** A member with an older log asked for our vote while we waited our turn: it cannot win, we might. */
  standNow(): void {
    if (this.running || this.attempts !== 0 || this.timer === undefined || !this.h.isCandidate()) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.attempts = 1;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  /** One stand: prevote, then vote; retried while still a candidate. */
  async run(): Promise<void> {
    this.running = true;
    try {
      const epoch = this.h.epoch() + 1;
      const pos = this.h.position();
      if (await this.ask('prevote', epoch, pos)) {
        if (!this.h.isCandidate() || this.stopped) return;
        if (!(await this.h.voteForSelf(epoch))) return;
        if (this.h.isCandidate() && this.h.epoch() === epoch && (await this.ask('vote', epoch, pos))) await this.h.won(epoch);
      }
    } finally {
      this.running = false;
      this.attempts++;
      if (this.h.isCandidate()) {
        const hb = this.h.clusterHeartbeatMs;
        // The first retries come quickly: the usual refusal is a member that has not yet noticed
        // the primary's death, which it does within milliseconds when the process died.
        this.schedule(this.attempts <= 3 ? 5 + Math.random() * 25 : hb / 2 + Math.random() * hb);
      }
    }
  }

  /** An answer to our prevote or vote. */
  onAnswer(from: number, m: VoteAnswer): void {
    const b = this.ballot;
    if (b === undefined || m.epoch !== b.epoch || m.t !== `${b.type}-ans`) return;
    b.answered.add(from);
    if (m.granted) b.granted.add(from);
    else this.h.log.debug('vote refused', { by: from, type: b.type, epoch: b.epoch, reason: m.reason });
    b.done();
  }

  /** Asks every reachable member; true once a majority (this server included) granted. */
  private ask(type: 'prevote' | 'vote', epoch: number, pos: LogPosition): Promise<boolean> {
    return new Promise((resolve) => {
      const ballot: Ballot = { type, epoch, granted: new Set(), answered: new Set(), done: () => undefined };
      const reachable = this.h.reachable();
      const finish = (): void => {
        clearTimeout(timer);
        if (this.ballot === ballot) this.ballot = undefined;
        resolve(ballot.granted.size + 1 >= this.h.quorum());
      };
      ballot.done = () => {
        if (ballot.granted.size + 1 >= this.h.quorum() || ballot.answered.size >= reachable.length) finish();
      };
      const timer = setTimeout(finish, this.h.clusterHeartbeatMs * 2);
      this.ballot = ballot;
      const req: VoteRequest = { t: type, epoch, ...pos };
      for (const p of reachable) p.send(req);
      ballot.done();
    });
  }
}
