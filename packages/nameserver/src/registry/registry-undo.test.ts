// Taking back records that never reached the disk: restore() after beforeImage() leaves the
// registry exactly as it was, whatever the records did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, type EntryView } from '@dpns/protocol';
import { Registry, type RegistrySnapshot, type Undo } from './registry.js';
import type { LogRecord, Op } from './ops.js';

function service(name: string, port: number, state: 'running' | 'lost' = 'running'): EntryView {
  return { kind: 'service', name, host: 'h', port, state, since: port, advertiser: { kind: 'session', conn: 1 } } as EntryView;
}

function alias(name: string, target: string): EntryView {
  return { kind: 'alias', name, target, since: 0 } as EntryView;
}

// Everything a reader or a later snapshot could see, in an order that does not depend on history.
function picture(reg: Registry): unknown {
  const s: RegistrySnapshot = reg.snapshot();
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : 1);
  return {
    revision: s.revision, epoch: s.epoch,
    entries: [...s.entries].sort(byName),
    names: [...reg.select(compileGlob('*'))].map((e) => e.name),
    tickets: [...(s.tickets ?? [])].sort(),
    requests: new Map(s.requests), agents: new Map(s.agents?.map((a) => [a.host, a])), joins: new Map(s.joins?.map((j) => [j.id, j])),
    strays: [...reg.strays()].sort(),
    aliases: ['/a0', '/a1', '/a2', '/s0', '/s1'].map((n) => reg.aliasesTo(n)),
  };
}

// A small deterministic generator, so a failure can be replayed.
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function randomOp(r: () => number): Op {
  const name = ['/s0', '/s1', '/s2', '/a0', '/a1', '/a2'][Math.floor(r() * 6)] as string;
  switch (Math.floor(r() * 7)) {
    case 0: return { t: 'put', e: service(name, Math.floor(r() * 100)) };
    case 1: return { t: 'put', e: service(name, Math.floor(r() * 100), 'lost') };
    case 2: return { t: 'put', e: alias(name, ['/s0', '/s1', '/a0'][Math.floor(r() * 3)] as string) };
    case 3: return { t: 'del', n: name };
    case 4: return { t: 'tickets', n: name, v: r() < 0.3 ? null : { launchId: 'l', service: `s${Math.floor(r() * 9)}`, nameserver: 'n' } };
    case 5: {
      const host = `h${Math.floor(r() * 3)}`;
      return { t: 'agent', h: host, v: r() < 0.3 ? null : { host, key: `k${Math.floor(r() * 9)}`, at: 1, how: 'trust' } };
    }
    default: {
      const id = `j${Math.floor(r() * 3)}`;
      return { t: 'join', id, v: r() < 0.3 ? null : { id, key: `k${Math.floor(r() * 9)}`, expires: 9 } };
    }
  }
}

test('records applied then restored newest first leave the registry as it was, over 500 random histories', () => {
  for (let seed = 1; seed <= 500; seed++) {
    const r = rng(seed);
    const reg = new Registry();
    let index = 0;
    const record = (): LogRecord => ({
      ops: Array.from({ length: 1 + Math.floor(r() * 4) }, () => randomOp(r)),
      ep: 1 + Math.floor(r() * 3),
      ...(r() < 0.5 ? { rid: `rid${Math.floor(r() * 5)}` } : {}),
    });
    // A durable history first, then a few records that will be taken back.
    for (let k = 0; k < 10; k++) reg.applyRecord(record(), ++index);
    const before = picture(reg);
    const undos: Undo[] = [];
    for (let k = 0; k < 1 + Math.floor(r() * 4); k++) {
      const rec = record();
      undos.push(reg.beforeImage(rec));
      reg.applyRecord(rec, ++index);
    }
    for (const u of undos.reverse()) reg.restore(u);
    assert.deepEqual(picture(reg), before, `seed ${seed}`);
  }
});
