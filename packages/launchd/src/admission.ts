// Whether a request may be acted on: signed by a trusted name server key, signed correctly,
// fresh (timestamp in the window, nonce unseen, meant for this very connection), meant for this
// agent (its identity, one of this host's names) and from the current primary (epoch). The checks run in that order, so the cheapest refusal wins and
// nothing from an untrusted sender is parsed beyond the frame.
import type { EpochStore } from './epoch.js';
import type { ReplayCache } from './replay.js';
import { AgentError, parseAgentRequestBody, parseAgentRequestFrame, verifyAgentRequest, type AgentRequestBody } from './wire.js';

export interface AdmissionOptions {
  trustedKeys: readonly string[];
  windowMs: number;
  replay: ReplayCache;
  epochs: EpochStore;
  /** This agent's hex identity: a request naming another is refused. */
  identity: string;
  /** Whether a host name is one of this host's: a request naming another host is refused. */
  isOwnHost: (name: string) => boolean;
  now?: () => number;
}

export class Admission {
  private readonly trusted: ReadonlySet<string>;
  private readonly now: () => number;

  constructor(private readonly opts: AdmissionOptions) {
    this.trusted = new Set(opts.trustedKeys);
    this.now = opts.now ?? Date.now;
  }

  /** The request in `text`, received on the connection whose hello sent `boxKey`; or an AgentError. */
  async admit(text: string, boxKey: string): Promise<AgentRequestBody> {
    const frame = parseAgentRequestFrame(text);
    if (!this.trusted.has(frame.key)) {
      throw new AgentError('UNKNOWN_KEY', `the request is signed by key ${frame.key}, which is not in this agent's trustedKeys; add the name server's public launch key to the agent's config`);
    }
    if (!verifyAgentRequest(frame)) {
      throw new AgentError('BAD_SIGNATURE', 'the request\'s signature does not match its body and key; it was altered on the way or signed with another key');
    }
    const body = parseAgentRequestBody(frame.body);
    const now = this.now();
    const skew = body.ts - now;
    if (Math.abs(skew) > this.opts.windowMs) {
      throw new AgentError('STALE', `the request was signed ${Math.abs(skew)} ms ${skew < 0 ? 'ago' : 'in the future'} by this agent's clock, outside the ±${this.opts.windowMs} ms window; if it is not a replay, synchronise the hosts' clocks (NTP)`);
    }
    if (body.boxKey !== boxKey) {
      throw new AgentError('REPLAYED', 'the request names another connection\'s key: it was captured and replayed, or sent on the wrong connection');
    }
    if (body.agent !== this.opts.identity) {
      throw new AgentError('WRONG_TARGET', `the request is meant for the agent with identity ${body.agent}, not this one (${this.opts.identity}); it was relayed to the wrong agent`);
    }
    if (!this.opts.isOwnHost(body.target)) {
      throw new AgentError('WRONG_TARGET', `the request is meant for host ${JSON.stringify(body.target)}, which is not a name of this host; if the name servers dial it by that name, add it to "hostNames" in the agent's config`);
    }
    if (!this.opts.replay.admit(body.nonce, body.ts, now)) {
      throw new AgentError('REPLAYED', `nonce ${body.nonce.slice(0, 16)}… was already used: a request is accepted once`);
    }
    await this.opts.epochs.admit(body.epoch);
    return body;
  }
}
