import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { deriveClusterKey, memberListId, PeerLink, type ClusterKey } from './peer-link.js';

/** An acceptor for member 0 (or `self`: 'joining', one that does not know its SID) of a cluster holding `key`; links it accepts are handed to `onLink`. */
async function acceptor(key: ClusterKey, onLink: (l: PeerLink) => void, onRefused: (why: string) => void = () => undefined, self: number | 'joining' = 0): Promise<{ url: string; http: Server; close: () => Promise<void> }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws, req) => {
    PeerLink.accept(ws, req, key, LIST, self === 'joining' ? undefined : self, 2000).then(onLink, (e: unknown) => onRefused((e as Error).message));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`, http,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** Polls `get` until it gives something. */
async function until<T>(get: () => T | undefined): Promise<T> {
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const key = (): ClusterKey => deriveClusterKey(randomBytes(32));
const LIST = memberListId(['a:1', 'b:1', 'c:1']);

test('members holding the same key link up, and sealed messages flow both ways in order', async () => {
  const k = key();
  const got: unknown[] = [];
  let accepted: PeerLink | undefined;
  const a = await acceptor(k, (l) => {
    accepted = l;
    l.onMessage = (m) => {
      got.push(m);
      l.send({ echo: m });
    };
  });
  try {
    const link = await PeerLink.dial(a.url, k, LIST, 1, 0, 2000);
    const echoes: unknown[] = [];
    link.onMessage = (m) => echoes.push(m);
    for (let i = 0; i < 50; i++) link.send({ n: i });
    while (echoes.length < 50) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => ({ n: i })));
    assert.deepEqual(echoes[49], { echo: { n: 49 } });
    assert.equal(accepted?.peerSid, 1);
    link.close('done');
  } finally {
    await a.close();
  }
});

test('a dialer without the cluster key is refused, and one that dials a stranger refuses it', async () => {
  const refused: string[] = [];
  const a = await acceptor(key(), () => assert.fail('a link was accepted without the key'), (why) => refused.push(why));
  try {
    await assert.rejects(PeerLink.dial(a.url, key(), LIST, 1, 0, 2000), /could not prove it holds the cluster key/);
  } finally {
    await a.close();
  }
});

test('a dialer claiming no SID, or our own, is refused', async () => {
  const k = key();
  const refused: string[] = [];
  const a = await acceptor(k, () => assert.fail('accepted'), (why) => refused.push(why));
  try {
    await assert.rejects(PeerLink.dial(a.url, k, LIST, 0, 0, 1000));
    await assert.rejects(PeerLink.dial(a.url, k, LIST, -1, 0, 1000));
    while (refused.length < 2) await new Promise((r) => setTimeout(r, 5));
    assert.match(refused.join('\n'), /not another member/);
  } finally {
    await a.close();
  }
});

test('the dialer checks who answers: a member at the wrong place in the list is refused', async () => {
  const k = key();
  const a = await acceptor(k, () => undefined);
  try {
    await assert.rejects(PeerLink.dial(a.url, k, LIST, 1, 2, 2000), /another --cluster list \(it says it is SID 0/);
  } finally {
    await a.close();
  }
});

test('members given different --cluster lists refuse each other and say why', async () => {
  const k = key();
  const refused: string[] = [];
  const a = await acceptor(k, () => assert.fail('accepted'), (why) => refused.push(why));
  try {
    await assert.rejects(PeerLink.dial(a.url, k, memberListId(['a:1', 'c:1', 'b:1']), 1, 0, 2000), /another --cluster list/);
    while (refused.length < 1) await new Promise((r) => setTimeout(r, 5));
    assert.match(refused[0] ?? '', /another --cluster list/);
  } finally {
    await a.close();
  }
});

test('a forged, replayed or tampered frame cuts the link before anything is delivered', async () => {
  const k = key();
  for (const attack of ['forged', 'replayed', 'tampered'] as const) {
    const delivered: unknown[] = [];
    let closedWhy: string | undefined;
    const frames: Buffer[] = [];
    const a = await acceptor(k, (l) => {
      l.onMessage = (m) => delivered.push(m);
      l.onClose = (why) => {
        closedWhy = why;
      };
    });
    try {
      const link = await PeerLink.dial(a.url, k, LIST, 1, 0, 2000);
      // What an attacker on the wire sees: the sealed bytes the dialer sends.
      const send = link.ws.send.bind(link.ws) as (data: Buffer) => void;
      (link.ws as unknown as { send: (data: Buffer) => void }).send = (data: Buffer) => {
        frames.push(Buffer.from(data));
        send(data);
      };
      link.send({ n: 0 });
      while (delivered.length < 1) await new Promise((r) => setTimeout(r, 5));
      const first = frames[0] as Buffer;
      if (attack === 'forged') link.ws.send(randomBytes(first.length));
      else if (attack === 'replayed') link.ws.send(first);
      else {
        const bad = Buffer.from(first);
        bad[0] = (bad[0] as number) ^ 1;
        link.ws.send(bad);
      }
      link.send({ n: 1 });
      const t0 = Date.now();
      while (closedWhy === undefined && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
      assert.match(closedWhy ?? 'still open', /seal check/, attack);
      assert.deepEqual(delivered, [{ n: 0 }], `${attack}: nothing after the bad frame was delivered`);
    } finally {
      await a.close();
    }
  }
});

test('frames of bytes reach a member that took them in its handshake, in order with the others; one that did not is sent none', async () => {
  const k = key();
  const got: [unknown, Buffer | undefined][] = [];
  let accepted: PeerLink | undefined;
  const a = await acceptor(k, (l) => {
    accepted = l;
    l.onMessage = (m, bytes) => got.push([m, bytes]);
  });
  try {
    const link = await PeerLink.dial(a.url, k, LIST, 1, 0, 2000);
    assert.equal(link.peerTakesBytes, true);
    const chunk = randomBytes(200 * 1024);
    link.send({ n: 0 });
    link.sendBytes({ t: 'snap', n: 1 }, chunk);
    link.sendBytes({ t: 'snap', n: 2 }, Buffer.alloc(0));
    link.send({ n: 3 });
    while (got.length < 4) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got.map(([m]) => m), [{ n: 0 }, { t: 'snap', n: 1 }, { t: 'snap', n: 2 }, { n: 3 }]);
    assert.deepEqual(got.map(([, b]) => b?.length), [undefined, chunk.length, 0, undefined]);
    assert.ok(chunk.equals(got[1]?.[1] as Buffer));
    assert.equal(accepted?.peerTakesBytes, true);
    link.close('done');
  } finally {
    await a.close();
  }
  // A dialer of a version before frames of bytes: its peer-auth says nothing of them.
  accepted = undefined;
  const b = await acceptor(k, (l) => {
    accepted = l;
  });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    const d = typeof data === 'string' && data.includes('"peer-auth"') ? data.replace(',"bytes":true', '') : data;
    return (send as (...args: unknown[]) => void).call(this, d, ...rest);
  } as typeof send;
  try {
    const link = await PeerLink.dial(b.url, k, LIST, 1, 0, 2000);
    WebSocket.prototype.send = send;
    const old = await until(() => accepted);
    assert.equal(old.peerTakesBytes, false);
    assert.equal(link.peerTakesBytes, true, 'the acceptor, of this version, said it takes them');
    assert.throws(() => old.sendBytes({ t: 'snap' }, Buffer.alloc(1)), /does not take frames of bytes/);
    link.close('done');
  } finally {
    WebSocket.prototype.send = send;
    await b.close();
  }
});

test('a frame of bytes whose header does not fit in it, or is not JSON, cuts the link', async () => {
  const k = key();
  for (const [plain, why] of [
    [Buffer.from([0]), /header does not fit/],
    [Buffer.from([0, 0, 0, 0, 99, 0x7b, 0x7d]), /header does not fit/],
    [Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), Buffer.from('{x...')]), /not JSON/],
  ] as const) {
    const delivered: unknown[] = [];
    let closedWhy: string | undefined;
    const a = await acceptor(k, (l) => {
      l.onMessage = (m) => delivered.push(m);
      l.onClose = (w) => {
        closedWhy = w;
      };
    });
    try {
      const link = await PeerLink.dial(a.url, k, LIST, 1, 0, 2000);
      link.send({ n: 0 });
      await until(() => delivered[0]);
      // Sealed as a member would seal it: only the plaintext is wrong.
      const c = (link as unknown as { cipher(): { update(b: Buffer): Buffer; final(): Buffer; getAuthTag(): Buffer } }).cipher();
      link.ws.send(Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]));
      link.send({ n: 1 });
      const t0 = Date.now();
      while (closedWhy === undefined && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
      assert.match(closedWhy ?? 'still open', why);
      assert.deepEqual(delivered, [{ n: 0 }], 'nothing after the bad frame');
    } finally {
      await a.close();
    }
  }
});

test('a joining server that does not know its SID takes the one it is dialed as; a member added later (SID past the list) is accepted', async () => {
  const k = key();
  const links: PeerLink[] = [];
  const a = await acceptor(k, (l) => links.push(l), (why) => assert.fail(why), 'joining');
  try {
    const link = await PeerLink.dial(a.url, k, LIST, 5, 3, 2000);
    while (links.length < 1) await new Promise((r) => setTimeout(r, 5));
    assert.equal(links[0]?.selfSid, 3);
    assert.equal(links[0]?.peerSid, 5);
    assert.equal(link.selfSid, 5);
    link.close('done');
  } finally {
    await a.close();
  }
});
