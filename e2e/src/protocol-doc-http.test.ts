// PROTOCOL.md's plain-HTTP examples held to the real server, as protocol-doc.test.ts holds its
// JSON ones: every ``` block that shows an HTTP response is answered by a request made for its
// section (a block no request is made for fails the test), §16's table of metrics is the
// exact set of `dpns_*` series the server exports, with the documented types and labels, and
// /openrpc.json is docs/openrpc.json.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { connect } from 'node:net';
import { PROTOCOL_MD, sectionOf } from './harness/doc-examples.js';
import { REPO_ROOT } from './harness/paths.js';
import { messageMatches, shapeDiff, VOLATILE_EVERYWHERE } from './harness/shape-match.js';
import { DpnsClient } from '@dpns/client';
import { startServerProcess, teardown, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
before(async () => {
  ns = await startServerProcess({ args: ['--log-level', 'warn'] });
});
after(() => teardown());

const markdown = readFileSync(PROTOCOL_MD, 'utf8');

interface HttpBlock {
  readonly section: string;
  readonly line: number;
  readonly status: string;
  readonly headers: readonly [string, string][];
  readonly body: string;
}

/** The unlabelled ``` blocks whose first line is an HTTP/1.1 status line. */
function httpBlocks(): HttpBlock[] {
  const out: HttpBlock[] = [];
  let heading = '';
  // Every fence is followed, labelled or not: a ```json block's closing line must not open one.
  let fence: { start: number; body: string[]; label: string } | undefined;
  markdown.split('\n').forEach((raw, i) => {
    const t = raw.trim();
    if (fence === undefined) {
      const h = /^#{2,4} (.*)$/.exec(raw);
      if (h !== null) heading = h[1] ?? '';
      else if (t.startsWith('```')) fence = { start: i + 2, body: [], label: t.slice(3) };
      return;
    }
    if (t !== '```') {
      fence.body.push(t);
      return;
    }
    const [first = '', ...rest] = fence.body;
    if (fence.label === '' && first.startsWith('HTTP/1.1 ')) {
      const blank = rest.indexOf('');
      const headerLines = blank < 0 ? rest : rest.slice(0, blank);
      out.push({
        section: sectionOf(heading), line: fence.start, status: first,
        headers: headerLines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        body: blank < 0 ? '' : rest.slice(blank + 1).join('\n'),
      });
    }
    fence = undefined;
  });
  return out;
}

interface RawResponse {
  readonly status: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** Sends `head` (without the final blank line) on a raw socket and reads the whole response. */
function rawRequest(head: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: ns.port });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no complete answer in 10 s to ${head.split('\r\n')[0]}; got ${JSON.stringify(got)}`));
    }, 10_000);
    const finish = () => {
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const [status = '', ...lines] = got.slice(0, end).split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const));
      let body = got.slice(end + 4);
      const length = headers.get('content-length');
      if (length !== undefined && Buffer.byteLength(body) < Number(length)) return false;
      if (headers.get('transfer-encoding') === 'chunked') {
        const chunks = unchunk(body);
        if (chunks === undefined) return false;
        body = chunks;
      }
      clearTimeout(timer);
      s.destroy();
      resolve({ status, headers, body });
      return true;
    };
    s.setEncoding('utf8');
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('data', (d: string) => { got += d; finish(); });
    s.on('end', () => { if (!finish()) { clearTimeout(timer); reject(new Error(`connection ended mid-answer: ${JSON.stringify(got)}`)); } });
    s.write(`${head}\r\nHost: 127.0.0.1:${ns.port}\r\nConnection: close\r\n\r\n`);
  });
}

/** A chunked body's content, or undefined until its last chunk has arrived. */
function unchunk(raw: string): string | undefined {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(raw.slice(at, eol), 16);
    if (size === 0) return out;
    if (raw.length < eol + 2 + size + 2) return undefined;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** The request each section's example answers. */
const REQUESTS: Record<string, (block: HttpBlock) => string> = {
  // §2.1: a WebSocket upgrade from a foreign origin, the one the example's message names.
  '2.1': (b) => {
    const origin = /origin "([^"]+)"/.exec(b.body)?.[1];
    assert.ok(origin !== undefined, `PROTOCOL.md:${b.line}: the 403 example names no origin`);
    return `GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: ${origin}`;
  },
  '16': () => 'GET /healthz HTTP/1.1',
};

test('every HTTP response shown in PROTOCOL.md is what the server answers', { timeout: 60_000 }, async () => {
  const blocks = httpBlocks();
  assert.ok(blocks.length >= 2, `expected the §2.1 and §16 HTTP examples, found ${blocks.length}`);
  const problems: string[] = [];
  for (const b of blocks) {
    const request = REQUESTS[b.section];
    if (request === undefined) {
      problems.push(`PROTOCOL.md:${b.line}: an HTTP example in §${b.section} that no request in this test answers; add one to REQUESTS`);
      continue;
    }
    const got = await rawRequest(request(b));
    if (got.status !== b.status) problems.push(`PROTOCOL.md:${b.line}: status ${JSON.stringify(got.status)}, the doc shows ${JSON.stringify(b.status)}`);
    for (const [name, value] of b.headers) {
      const v = got.headers.get(name);
      if (v?.toLowerCase() !== value.toLowerCase()) problems.push(`PROTOCOL.md:${b.line}: header ${name}: ${v ?? '(absent)'}, the doc shows ${value}`);
    }
    if ((b.headers.find(([n]) => n === 'content-type')?.[1] ?? '').startsWith('application/json')) {
      const doc = JSON.parse(b.body) as Record<string, unknown>;
      // The example's primary is another deployment's address; this server names itself.
      if (typeof doc.primary === 'string') doc.primary = ns.url.replace(/\/$/, '');
      const volatile = new Set([...VOLATILE_EVERYWHERE, 'entries', 'epoch']);
      for (const d of shapeDiff(doc, JSON.parse(got.body), { volatile })) problems.push(`PROTOCOL.md:${b.line}: ${d}`);
    } else if (!messageMatches(b.body.trim(), got.body.trim())) {
      problems.push(`PROTOCOL.md:${b.line}: body ${JSON.stringify(got.body)}, the doc shows ${JSON.stringify(b.body)}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('any other path: 426 with the body §16 quotes', { timeout: 30_000 }, async () => {
  const quoted = /Upgrade Required`[^\n]*\n[\s\S]*?with the body\s+`([^`]+)`/.exec(markdown);
  assert.ok(quoted !== null, 'PROTOCOL.md §16 no longer quotes the 426 answer');
  const got = await rawRequest('GET /no/such/path HTTP/1.1');
  assert.equal(got.status, 'HTTP/1.1 426 Upgrade Required');
  assert.equal(got.headers.get('upgrade'), 'websocket');
  assert.match(got.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(got.body.trim(), quoted[1]);
});

interface DocMetric {
  readonly type: string;
  readonly labels: readonly string[];
}

/** §16's table of metrics: name → type and label names. */
function documentedMetrics(): Map<string, DocMetric> {
  const out = new Map<string, DocMetric>();
  for (const m of markdown.matchAll(/^\s*\| `(dpns_[a-z0-9_]+)` \| (\w+) \|([^|]*)\|/gm)) {
    const labels = [...(m[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((l) => l[1] ?? '');
    out.set(m[1] ?? '', { type: m[2] ?? '', labels });
  }
  return out;
}

/** Why `promtool` cannot run here (Debian's `prometheus` package has it), or undefined. */
function promtoolUnavailable(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'promtool is not installed (apt-get install prometheus)';
}

/** Requests of a few kinds, answered ok and refused, so the labelled series have samples. */
async function someTraffic(): Promise<void> {
  const c = new DpnsClient({ servers: [ns.server], requestTimeoutMs: 15_000 });
  try {
    await c.advertise('/doc-http/svc', '127.0.0.1', 1);
    await c.findServices('/doc-http/svc');
    await c.findServices('/doc-http/none').catch(() => undefined);
  } finally {
    await c.close();
  }
}

test('/metrics passes promtool check metrics', { skip: promtoolUnavailable(), timeout: 30_000 }, async () => {
  await someTraffic();
  const text = await (await fetch(`http://${ns.server}/metrics`)).text();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  // prom-client's process and Node.js metrics are there beside ours (PROTOCOL.md §16).
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});

test('/metrics exports exactly the series §16 lists, with their types and labels', { timeout: 30_000 }, async () => {
  await someTraffic();
  const doc = documentedMetrics();
  assert.ok(doc.size > 20, `the §16 table parsed to ${doc.size} metrics`);
  const res = await fetch(`http://${ns.server}/metrics`);
  assert.equal(res.status, 200);
  const contentType = /Prometheus text format[^(]*\(`content-type: ([^`]+)`\)/.exec(markdown)?.[1];
  assert.ok(contentType !== undefined, 'PROTOCOL.md §16 no longer names the content type of /metrics');
  assert.equal(res.headers.get('content-type'), contentType);
  const text = await res.text();
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
  const problems: string[] = [];
  for (const [name, type] of types) {
    if (!name.startsWith('dpns_')) continue;
    const d = doc.get(name);
    if (d === undefined) problems.push(`${name} (${type}) is exported but not in PROTOCOL.md §16`);
    else if (d.type !== type) problems.push(`${name}: exported as a ${type}, §16 says ${d.type}`);
  }
  for (const name of doc.keys()) if (!types.has(name)) problems.push(`${name} is in PROTOCOL.md §16 but not exported`);
  // Each sample's label names are the documented ones (a histogram's buckets add `le`).
  for (const m of text.matchAll(/^(dpns_[a-z0-9_]+?)(_bucket|_sum|_count)?(?:\{([^}]*)\})? \S+$/gm)) {
    const base = types.has(m[1] ?? '') ? m[1] ?? '' : `${m[1] ?? ''}${m[2] ?? ''}`;
    const d = doc.get(base);
    if (d === undefined) continue;
    const names = [...(m[3] ?? '').matchAll(/([a-z_]+)="/g)].map((l) => l[1] ?? '').filter((l) => l !== 'le').sort();
    if (names.join(',') !== [...d.labels].sort().join(',')) problems.push(`${m[0]}: labels ${names.join(',') || '(none)'}, §16 says ${d.labels.join(',') || '(none)'}`);
  }
  assert.deepEqual([...new Set(problems)], []);
});

test('/openrpc.json is docs/openrpc.json, the method table as OpenRPC', { timeout: 30_000 }, async () => {
  assert.match(markdown, /\*\*`\/openrpc\.json`\*\* \(`GET` or `HEAD`\)/, 'PROTOCOL.md §16 no longer lists /openrpc.json');
  const res = await fetch(`http://${ns.server}/openrpc.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(await res.text(), readFileSync(resolve(REPO_ROOT, 'docs/openrpc.json'), 'utf8'));
  const head = await fetch(`http://${ns.server}/openrpc.json`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  const post = await fetch(`http://${ns.server}/openrpc.json`, { method: 'POST' });
  assert.equal(post.status, 426, 'no path changes state: other methods get the 426 of any other path');
});
