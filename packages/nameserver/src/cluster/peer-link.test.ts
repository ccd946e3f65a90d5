import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
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
