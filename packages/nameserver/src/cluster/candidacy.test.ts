import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Candidacy, type CandidacyHost } from './candidacy.js';
import type { VoteRequest } from './peer-messages.js';
import { createLogger } from '../log.js';

function host(mayVoteForSelf: boolean): { h: CandidacyHost; asked: string[]; won: number[] } {
  const asked: string[] = [];
  const won: number[] = [];
  let epoch = 3;
  const h: CandidacyHost = {
    clusterHeartbeatMs: 50,
    quorum: () => 1,
    log: createLogger({ level: 'silent', format: 'json' }),
    isCandidate: () => won.length === 0,
    aheadOfUs: () => 0,
    reachable: () => [{ sid: 1, send: (m: VoteRequest) => asked.push(m.t) }],
    position: () => ({ lastIndex: 0, lastEpoch: 0 }),
    epoch: () => epoch,
    voteForSelf: (e) => {
      if (mayVoteForSelf) epoch = e;
      return Promise.resolve(mayVoteForSelf);
    },
    won: (e) => {
      won.push(e);
      return Promise.resolve();
    },
  };
  return { h, asked, won };
}

test('a candidate that may not vote for itself (it voted for another in that epoch) asks for no votes and does not win', async () => {
  const refused = host(false);
  const c = new Candidacy(refused.h);
  await c.run();
  c.stop();
  assert.deepEqual(refused.asked, ['prevote']);
  assert.deepEqual(refused.won, []);
  const allowed = host(true);
  const c2 = new Candidacy(allowed.h);
  await c2.run();
  c2.stop();
  assert.deepEqual(allowed.asked, ['prevote', 'vote']);
  assert.deepEqual(allowed.won, [4]);
});
