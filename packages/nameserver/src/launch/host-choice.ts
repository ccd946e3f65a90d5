// Where a service with several hosts (spec.hosts) is launched: the hosts with a trusted agent
// that its names and patterns take in, ordered by the load their agents report, tried in turn
// within one launch's time. The rules are pure; launcher.ts feeds them the agents' answers.
import { hostsTakenIn } from '@dpns/protocol';

/** Bounds of one launch's choice, so a pattern that takes in many hosts costs a few requests. */
export const HOST_CHOICE_LIMITS = {
  /** Hosts whose load is asked, in parallel, per launch. */
  queried: 16,
  /** Hosts a launch is sent to, one after another, before it fails. */
  tried: 3,
  /**
   * How long a load query may take (capped by the agent timeout): a host slower than this is
   * tried last. A dead agent answers at once (connection refused); this bounds one that is cut off
   * or hung, while an agent's first request on a busy host (a cold process) still fits.
   */
  loadTimeoutMs: 2000,
} as const;

/** What one agent said when asked its load. */
export type LoadAnswer =
  | { host: string; figure: number }
  /** It answered, but with a refusal (an agent that does not know `load`): reachable, load unknown. */
  | { host: string; refused: string }
  /** No answer: connection refused, timed out, or a malformed frame. */
  | { host: string; unreachable: string };

/**
 * The hosts to ask: those of `known` (hosts with a trusted agent) that `entries` take in. When
 * there are more than `limit`, a random `limit` of them, so a wide pattern spreads its launches
 * instead of always asking the same few.
 */
export function candidateHosts(entries: readonly string[], known: readonly string[], limit: number = HOST_CHOICE_LIMITS.queried, random: () => number = Math.random): string[] {
  const all = hostsTakenIn(entries, known);
  if (all.length <= limit) return all;
  // A partial Fisher-Yates shuffle: the first `limit` places are a uniform sample.
  for (let i = 0; i < limit; i++) {
    const j = i + Math.floor(random() * (all.length - i));
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  return all.slice(0, limit);
}

/**
 * The order to try hosts in: those that reported a load, least loaded first (ties by name, so
 * the order is the same on every run); then those that refused to say; then those that did not
 * answer at all, which are most likely down.
 */
export function orderByLoad(answers: readonly LoadAnswer[]): string[] {
  const byName = (a: LoadAnswer, b: LoadAnswer): number => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
  const loaded = answers.filter((a): a is { host: string; figure: number } => 'figure' in a).sort((a, b) => a.figure - b.figure || byName(a, b));
  const refused = answers.filter((a) => 'refused' in a).sort(byName);
  const silent = answers.filter((a) => 'unreachable' in a).sort(byName);
  return [...loaded, ...refused, ...silent].map((a) => a.host);
}

/** One host's failed attempt, as the final error lists it. */
export interface HostFailure {
  host: string;
  /** The stable cause (AGENT_UNREACHABLE, AGENT_NOT_ALLOWED, EXITED_EARLY, …). */
  cause: string;
  message: string;
}

/** Thrown by an attempt that should not be followed by another host (the time is up, or a kill overtook it). */
export class FinalFailure extends Error {
  override readonly name = 'FinalFailure';
  constructor(readonly failure: HostFailure) {
    super(failure.message);
  }
}

/**
 * Runs `attempt` on each host of `order` in turn until one succeeds: at most `tried` hosts, and
 * none once `deadline` has passed. An attempt reports a failure by throwing a HostFailure-shaped
 * FinalFailure (stop here) or any other error carrying a HostFailure (`failureOf`; go on).
 * Resolves with the first success, or rejects with every failure, in order.
 */
export async function tryInTurn<T>(
  order: readonly string[],
  attempt: (host: string, remainingMs: number) => Promise<T>,
  o: { tried: number; deadline: number; now: () => number; failureOf: (host: string, e: unknown) => HostFailure },
): Promise<{ host: string; value: T; failures: HostFailure[] } | { failures: HostFailure[] }> {
  const failures: HostFailure[] = [];
  for (const host of order.slice(0, o.tried)) {
    const remainingMs = o.deadline - o.now();
    if (remainingMs <= 0) break;
    try {
      return { host, value: await attempt(host, remainingMs), failures };
    } catch (e) {
      if (e instanceof FinalFailure) {
        failures.push(e.failure);
        break;
      }
      failures.push(o.failureOf(host, e));
    }
  }
  return { failures };
}
