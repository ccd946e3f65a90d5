// Building cores for tests, and reading their effects.
import { ClusterCore } from './core.js';
import type { CoreConfig } from './config.js';
import type { Effect } from './effects.js';
import type { PeerMessage } from './messages.js';

export const HB = 100;
export const WINDOW = 400;

export function config(self: number, members: number, over: Partial<CoreConfig> = {}): CoreConfig {
  return { self, members, replication: 'sync', heartbeatMs: HB, misses: 4, twoNodeFailover: false, readFromBackups: false, tailCapacity: 1000, seed: 1, ...over };
}

export function core(self: number, members: number, over: Partial<CoreConfig> = {}, epoch = 0, votedFor?: number): ClusterCore {
  return new ClusterCore({ cfg: config(self, members, over), epoch, votedFor, records: [] });
}

/** The frames sent to `to` (any member when undefined) among `effects`. */
export function sent(effects: readonly Effect[], to?: number): PeerMessage[] {
  return effects.flatMap((e) => (e.kind === 'send' && (to === undefined || e.to === to) ? [e.m] : []));
}

export function ofKind<K extends Effect['kind']>(effects: readonly Effect[], kind: K): Extract<Effect, { kind: K }>[] {
  return effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);
}

/**
 * Member `self` of `members`, started, its links to `links` up at time 1, that heard primary 0's
 * beat of epoch 1 (its log ending at `head`) at time `at` and has that epoch on disk: a backup
 * following member 0.
 */
export function backupOf(self: number, members: number, o: { head: number; links: number[]; at?: number; over?: Partial<CoreConfig> }): ClusterCore {
  const c = core(self, members, o.over);
  c.step({ kind: 'start' }, 0);
  for (const peer of o.links) c.step({ kind: 'link-up', peer }, 1);
  const at = o.at ?? 2;
  c.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'primary', epoch: 1, lastIndex: o.head, lastEpoch: 1, primary: 0 } }, at);
  c.step({ kind: 'persisted' }, at);
  return c;
}

/**
 * Member 0 of three, both peers linked, past its prevote (member 1's grant) with its own vote for
 * epoch 1 on disk: it is asking for votes. Returns the core and the time.
 */
export function votingOfThree(over: Partial<CoreConfig> = {}): { c: ClusterCore; t: number } {
  const c = core(0, 3, over);
  c.step({ kind: 'start' }, 0);
  c.step({ kind: 'link-up', peer: 1 }, 1);
  c.step({ kind: 'link-up', peer: 2 }, 1);
  const t = WINDOW + 10;
  c.step({ kind: 'wake' }, t);
  c.step({ kind: 'message', from: 1, m: { t: 'prevote-ans', epoch: 1, granted: true } }, t);
  c.step({ kind: 'persisted' }, t);
  return { c, t };
}

/**
 * Member 0 of three, elected primary of epoch 1 at time 1000 with member 1's votes, both peers
 * linked and following. Returns the core and the time.
 */
export function primaryOfThree(over: Partial<CoreConfig> = {}): { c: ClusterCore; t: number } {
  const { c, t: at } = votingOfThree(over);
  let t = at;
  c.step({ kind: 'message', from: 1, m: { t: 'vote-ans', epoch: 1, granted: true } }, t);
  if (c.role !== 'primary') throw new Error(`expected a primary, got ${c.role}`);
  t += 1;
  c.step({ kind: 'message', from: 1, m: { t: 'follow', epoch: 1, lastIndex: 0, lastEpoch: 0 } }, t);
  c.step({ kind: 'message', from: 2, m: { t: 'follow', epoch: 1, lastIndex: 0, lastEpoch: 0 } }, t);
  return { c, t };
}
