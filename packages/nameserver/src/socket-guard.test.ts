import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { AddressCounts, capTotalBuffered, PartialBytes, PendingSockets } from './socket-guard.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

test('past the cap, the oldest socket that is still plain HTTP is cut; upgraded ones are not counted', () => {
  const p = new PendingSockets(3);
  const s = Array.from({ length: 5 }, () => new FakeSocket());
  p.accepted(s[0] as unknown as Socket);
  p.accepted(s[1] as unknown as Socket);
  p.upgraded(s[1] as unknown as Socket);
  p.accepted(s[2] as unknown as Socket);
  p.accepted(s[3] as unknown as Socket);
  assert.equal(p.size, 3);
  p.accepted(s[4] as unknown as Socket);
  assert.deepEqual(s.map((x) => x.destroyed), [true, false, false, false, false]);
  assert.equal(p.cut, 1);
  assert.equal(p.size, 3);
});

test('connections per address', () => {
  const a = new AddressCounts(2);
  assert.ok(a.take('10.0.0.1'));
  assert.ok(a.take('10.0.0.1'));
  assert.ok(!a.take('10.0.0.1'));
  assert.ok(a.take('10.0.0.2'));
  a.release('10.0.0.1');
  assert.ok(a.take('10.0.0.1'));
});

test('the largest output queues are cut until the total fits', () => {
  const cut: string[] = [];
  const c = (name: string, n: number) => ({ open: true, bufferedBytes: () => n, cutForMemory: () => cut.push(name) });
  assert.equal(capTotalBuffered([c('a', 10), c('b', 50), c('c', 30)], 100), 0);
  assert.equal(capTotalBuffered([c('a', 10), c('b', 50), c('c', 30), c('d', 40)], 60), 2);
  assert.deepEqual(cut, ['b', 'd']);
});

test('a connection already being ended is neither counted again nor cut again', () => {
  const cut: string[] = [];
  const conns = ['a', 'b', 'c'].map((name, k) => {
    const c = { open: true, bufferedBytes: () => [10, 50, 30][k] as number, cutForMemory: () => { cut.push(name); c.open = false; } };
    return c;
  });
  assert.equal(capTotalBuffered(conns, 60), 1);
  assert.deepEqual(cut, ['b']);
  // The next sweep comes before b has closed (its 50 bytes still queued): 40 of 60, nothing to cut.
  assert.equal(capTotalBuffered(conns, 60), 0);
  assert.deepEqual(cut, ['b']);
  // Over the limit without b: the largest open one is cut, not b again.
  assert.equal(capTotalBuffered(conns, 35), 1);
  assert.deepEqual(cut, ['b', 'c']);
});

test('unfinished input is counted per connection until its message completes; over the cap the largest is named', () => {
  const p = new PartialBytes<string>(100);
  assert.equal(p.received('a', 40), undefined);
  assert.equal(p.received('b', 50), undefined);
  p.done('a');
  assert.equal(p.bytes, 50);
  assert.equal(p.received('c', 45), undefined);
  assert.equal(p.received('c', 10), 'c', 'c holds 55 of 105');
  p.done('c');
  assert.equal(p.bytes, 50);
});
