import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { compileGlob, isDpnsError } from '@dpns/protocol';
import { WatchHub, type WatchSink } from './watch-hub.js';

class Sink implements WatchSink {
  readonly got: { ids: string[]; name: string }[] = [];
  /** Bytes the hub says it holds for this sink (WatchSink.held). */
  backlog = 0;
  open = true;
  /** The frames of each write the sink made: one unless corked. */
  readonly writes: number[] = [];
  private corked: number | undefined;
  sendJoined(head: string, tail: Uint8Array): void {
    assert.ok(this.open, 'nothing is sent to a sink that has ended');
    const m = JSON.parse(head + Buffer.from(tail).toString()) as { params: { watchIds: string[]; name: string } };
    this.got.push({ ids: m.params.watchIds, name: m.params.name });
    if (this.corked === undefined) this.writes.push(1);
    else this.corked++;
  }
  cork(): void {
    assert.equal(this.corked, undefined, 'corked once at a time');
    this.corked = 0;
  }
  uncork(): void {
    assert.notEqual(this.corked, undefined, 'uncorked only when corked');
    this.writes.push(this.corked as number);
    this.corked = undefined;
  }
  held(delta: number): void {
    this.backlog += delta;
  }
}

const put = (name: string) => ({ type: 'put' as const, name, entry: undefined });

test('names, PREFIX* and other patterns each reach exactly the watches they match', async () => {
  const hub = new WatchHub();
  const patterns = ['/a/b', '/a/*', '*', '/a*', '/a/*/c', '/a/?', '/a\\*x*', '/[ab]/*', '/zz', '/a/b*'];
  const names = ['/a/b', '/a/b/c', '/a/x', '/ab', '/b/q', '/a*x', '/a*xy', '/zz', '/c'];
  const sink = new Sink();
  const idOf = new Map<string, string>();
  for (const p of patterns) idOf.set(hub.add(p, sink), p);
  for (const name of names) hub.publish([put(name)], 1);
  await turn();
  for (const name of names) {
    const frame = sink.got.find((g) => g.name === name);
    const want = patterns.filter((p) => compileGlob(p).match(name)).sort();
    const got = (frame?.ids ?? []).map((id) => idOf.get(id) as string).sort();
    assert.deepEqual(got, want, name);
  }
  assert.equal(hub.scannedPatterns, 4, '/a/*/c, /a/?, /a\\*x* and /[ab]/* are scanned; the rest are indexed');
});

test('random patterns and names: the indexes agree with matching every pattern', async () => {
  let seed = 3;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const piece = () => ['/a', '/b', '/ab', '*', '?', '/', 'a', 'b'][rnd(8)] as string;
  const hub = new WatchHub({ perConnection: 1000, total: 1000 });
  const sink = new Sink();
  const idOf = new Map<string, string>();
  const patterns = new Set<string>();
  for (let i = 0; i < 300; i++) patterns.add(`/${Array.from({ length: 1 + rnd(4) }, piece).join('')}`);
  for (const p of patterns) idOf.set(hub.add(p, sink), p);
  const names = new Set<string>();
  for (let i = 0; i < 300; i++) names.add(`/${Array.from({ length: 1 + rnd(4) }, () => ['a', 'b', 'ab'][rnd(3)]).join('/')}`);
  for (const name of names) hub.publish([put(name)], 1);
  for (let i = 0; i < 20; i++) await turn();
  for (const name of names) {
    const want = [...patterns].filter((p) => compileGlob(p).match(name)).sort();
    const got = (sink.got.find((g) => g.name === name)?.ids ?? []).map((id) => idOf.get(id) as string).sort();
    assert.deepEqual(got, want, name);
  }
});

test('scanned patterns are capped per connection and in total; names and PREFIX* are not', () => {
  const hub = new WatchHub({ perConnection: 3, total: 5 });
  const a = new Sink();
  const b = new Sink();
  for (let i = 0; i < 3; i++) hub.add(`/s/${i}/?`, a);
  hub.add('/s/0/?', a); // the same pattern again: no new scanned pattern
  assert.throws(() => hub.add('/s/3/?', a), (e: unknown) => isDpnsError(e, 'LIMIT_EXCEEDED') && e.details?.what === 'scannedPatternsPerConnection');
  for (let i = 0; i < 100; i++) hub.add(`/p/${i}/*`, a);
  for (let i = 0; i < 100; i++) hub.add(`/n/${i}`, a);
  hub.add('/s/10/?', b);
  hub.add('/s/11/?', b);
  assert.throws(() => hub.add('/s/12/?', b), (e: unknown) => isDpnsError(e, 'LIMIT_EXCEEDED') && e.details?.what === 'scannedPatterns');
  assert.equal(hub.scannedPatterns, 5);
});

test('removing watches frees their patterns for the caps', () => {
  const hub = new WatchHub({ perConnection: 2, total: 2 });
  const a = new Sink();
  const w1 = hub.add('/x/?', a);
  const w2 = hub.add('/x/?', a);
  hub.add('/y/?', a);
  assert.throws(() => hub.add('/z/?', a));
  assert.ok(hub.remove(w1, a));
  assert.throws(() => hub.add('/z/?', a), 'one watch still uses /x/?');
  assert.ok(hub.remove(w2, a));
  hub.add('/z/?', a);
  assert.equal(hub.scannedPatterns, 2);
});

test('what the hub holds for a sink is counted on it as it is queued, and given back as it is sent', async () => {
  const hub = new WatchHub();
  const sink = new Sink();
  hub.add('/*', sink);
  hub.publish(Array.from({ length: 100 }, (_, i) => put(`/n${i}`)), 1);
  // Nothing is sent in the turn that published: the whole fan-out is held, and counted.
  assert.equal(sink.got.length, 0);
  assert.ok(sink.backlog > 100 * 50, `${sink.backlog} bytes held for 100 events`);
  while (sink.got.length < 100) await turn();
  assert.equal(sink.backlog, 0, 'every byte given back once sent');
  assert.deepEqual(sink.got.map((g) => g.name), Array.from({ length: 100 }, (_, i) => `/n${i}`), 'in order');
});

test('the hub tells what it holds for all sinks together as each change is queued, and it falls as events go out or are dropped', async () => {
  const hub = new WatchHub();
  const a = new Sink();
  const b = new Sink();
  hub.add('/*', a);
  hub.add('/x/*', b);
  const told: number[] = [];
  hub.onHeld = (total) => told.push(total);
  hub.publish([put('/x/1')], 1);
  hub.publish([put('/y/1'), put('/x/2')], 2);
  // Told at once, in the turn that published: no event has gone out yet.
  assert.equal(told.length, 2);
  assert.equal(told[0], a.backlog / 3 + b.backlog / 2, 'after the first change: one event for each sink');
  assert.equal(told[1], a.backlog + b.backlog, 'after the second: every byte held for either sink');
  assert.equal(hub.heldBytes, told[1]);
  a.open = false;
  while (b.got.length < 2) await turn();
  await turn();
  assert.equal(hub.heldBytes, 0, 'sent to b, dropped for a');
  assert.equal(a.backlog + b.backlog, 0);
});

test('a sink that ends is sent nothing more; what was held for it is dropped and given back, and the others still get every event', async () => {
  const hub = new WatchHub();
  const cut = new Sink();
  const kept = new Sink();
  hub.add('/*', cut);
  hub.add('/*', kept);
  hub.publish(Array.from({ length: 5_000 }, (_, i) => put(`/n${i}`)), 1);
  await turn();
  // Cut as a slow consumer mid-fan-out (Connection.held does so past its limit).
  cut.open = false;
  const sentBefore = cut.got.length;
  hub.publish([put('/after')], 2);
  while (kept.got.length < 5_001) await turn();
  assert.equal(cut.got.length, sentBefore, 'nothing sent after it ended');
  assert.equal(cut.backlog, 0, 'its held events were dropped and given back');
  assert.equal(kept.backlog, 0);
  assert.equal(kept.got.at(-1)?.name, '/after');
});

test("a connection's frames list exactly its watches of the moment, as they are added and removed", async () => {
  const hub = new WatchHub();
  const sink = new Sink();
  const other = new Sink();
  const w1 = hub.add('/*', sink);
  const w2 = hub.add('/*', sink);
  hub.add('/*', other);
  const round = async (name: string): Promise<string[]> => {
    hub.publish([put(name)], 1);
    while (sink.got.at(-1)?.name !== name) await turn();
    return sink.got.at(-1)?.ids ?? [];
  };
  assert.deepEqual(await round('/a'), [w1, w2]);
  assert.ok(hub.remove(w1, sink));
  assert.deepEqual(await round('/b'), [w2], 'the removed watch is no longer listed');
  const w3 = hub.add('/*', sink);
  assert.deepEqual(await round('/c'), [w2, w3], 'the added one is');
  const w4 = hub.add('/c*', sink);
  assert.deepEqual((await round('/c1')).sort(), [w2, w3, w4].sort(), 'two matching patterns: one frame with both');
  assert.deepEqual(await round('/d'), [w2, w3]);
  assert.ok(hub.remove(w2, sink) && hub.remove(w3, sink) && hub.remove(w4, sink));
  hub.publish([put('/e')], 1);
  while (other.got.at(-1)?.name !== '/e') await turn();
  assert.equal(sink.got.at(-1)?.name, '/d', 'nothing once it watches nothing');
});

test('the fan-out sends nothing while a write waits for its disk, and goes on once the write is answered', async () => {
  const hub = new WatchHub(undefined, 60_000);
  const sink = new Sink();
  hub.add('/*', sink);
  const release = hub.writeStarted();
  hub.publish(Array.from({ length: 100 }, (_, i) => put(`/n${i}`)), 1);
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(sink.got.length, 0, 'held while the write waits');
  release();
  release(); // a second call changes nothing
  while (sink.got.length < 100) await turn();
  assert.deepEqual(sink.got.map((g) => g.name), Array.from({ length: 100 }, (_, i) => `/n${i}`), 'every event, in order');
  // With the write answered, nothing holds the next change back.
  hub.publish([put('/later')], 2);
  while (sink.got.length < 101) await turn();
});

test('a write that is never answered holds the fan-out back for the bound only, and then for at most a quarter of the time', async () => {
  const yieldMs = 40;
  const hub = new WatchHub(undefined, yieldMs);
  const sink = new Sink();
  hub.add('/*', sink);
  hub.writeStarted(); // never released
  const started = performance.now();
  hub.publish([put('/first')], 1);
  while (sink.got.length < 1) await turn();
  const firstAfter = performance.now() - started;
  assert.ok(firstAfter >= yieldMs - 5, `held for the bound (${firstAfter.toFixed(1)} ms)`);
  // Now it owes the fan-out three times the yield: a change published at once goes out without one.
  hub.publish([put('/second')], 2);
  const again = performance.now();
  while (sink.got.length < 2) await turn();
  assert.ok(performance.now() - again < yieldMs, 'sent without yielding again');
  // Long after that, a held write makes it yield again.
  await new Promise((r) => setTimeout(r, 4 * yieldMs));
  hub.publish([put('/third')], 3);
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(sink.got.length, 2, 'yielding again once its three-quarters are spent');
  while (sink.got.length < 3) await turn();
});

test('a connection holding thousands of watches of one pattern removes them in any order, and its frames list the rest in the order they were made', async () => {
  const hub = new WatchHub();
  const sink = new Sink();
  const ids = Array.from({ length: 5_000 }, () => hub.add('/*', sink));
  const keep = [ids[17], ids[2_500], ids[4_999]] as string[];
  let seed = 7;
  const doomed = ids.filter((id) => !keep.includes(id));
  for (let i = doomed.length - 1; i > 0; i--) {
    const j = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % (i + 1);
    [doomed[i], doomed[j]] = [doomed[j] as string, doomed[i] as string];
  }
  for (const id of doomed) assert.ok(hub.remove(id, sink));
  assert.equal(hub.size, 3);
  hub.publish([put('/x')], 1);
  while (sink.got.length < 1) await turn();
  assert.deepEqual(sink.got[0]?.ids, keep);
});

test("changes that queue up for a connection go out to it in one write, in order", async () => {
  const hub = new WatchHub(undefined, 60_000);
  // More connections than a slice sends to: each still gets its five frames in one write.
  const sinks = Array.from({ length: 40 }, () => new Sink());
  for (const sink of sinks) hub.add('/*', sink);
  const release = hub.writeStarted();
  for (let r = 1; r <= 5; r++) hub.publish([put(`/n${r}`)], r);
  release();
  while (sinks.some((s) => s.got.length < 5)) await turn();
  for (const sink of sinks) {
    assert.deepEqual(sink.got.map((g) => g.name), ['/n1', '/n2', '/n3', '/n4', '/n5']);
    assert.deepEqual(sink.writes, [5], 'five frames, one write');
  }
  hub.publish([put('/n6')], 6);
  while (sinks.some((s) => s.got.length < 6)) await turn();
  assert.deepEqual(sinks[0]?.writes, [5, 1], 'a frame alone is written without corking');
});

test("one connection's long backlog does not hold up the others, and reaches it whole and in order", async () => {
  const hub = new WatchHub();
  const busy = new Sink();
  const quiet = new Sink();
  hub.add('/busy/*', busy);
  hub.add('/quiet/*', quiet);
  const n = 10_000;
  for (let i = 0; i < n; i++) hub.publish([put(`/busy/${i}`)], i + 1);
  hub.publish([put('/quiet/x')], n + 1);
  await turn();
  assert.equal(quiet.got.length, 1, 'the quiet connection is sent its frame in the first turn');
  assert.ok(busy.got.length < n, `the busy one is not sent all of its backlog in one turn (${busy.got.length})`);
  while (busy.got.length < n) await turn();
  assert.deepEqual(busy.got.map((g) => g.name), Array.from({ length: n }, (_, i) => `/busy/${i}`), 'every frame, in order');
  assert.ok(Math.max(...busy.writes) <= 64, 'at most 64 frames a write');
  assert.equal(busy.backlog, 0);
  assert.equal(hub.heldBytes, 0);
});
