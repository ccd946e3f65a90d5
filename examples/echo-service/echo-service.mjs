#!/usr/bin/env node
// The dpns example service: a TCP echo server that dpns-launchd starts on demand.
//
// It listens on an ephemeral port, then becomes the service it was launched as: it reads the
// ticket line the launch agent wrote to its stdin, advertises HOST:PORT with the ticket's proof,
// and stays advertised until SIGTERM (dpns kill / dpns reset), when it unadvertises and exits 0.
//
// Besides echoing, it shows the service half of `dpns auth`: a connection whose first line is
//   DPNS-AUTH <pairId> <clientChallenge>
// gets   CHALLENGE <serviceChallenge> <serviceProof>   (or DENIED <why>), the client answers
//   PROOF <clientProof>
// and gets OK (then echo as usual) or DENIED. Any other first bytes are simply echoed back.
//
// Options: --host ADDR (listen address, default 0.0.0.0), --port N (default 0: any free port),
// --standalone (no dpns: just listen and print the address, to time the bare start-up).
// The advertised host is $DPNS_ADVERTISE_HOST, else --host when it is not a wildcard, else $DPNS_HOST
// (the host the launch agent was reached at, which a service with several hosts cannot know in
// advance), else os.hostname().
//
// It imports '@dpns/client', which resolves from anywhere inside the dpns repository (the
// workspace root's node_modules links it); build it first with `pnpm build`.
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { DpnsService } from '@dpns/client';

const AUTH = Buffer.from('DPNS-AUTH ');
const MAX_LINE = 1024;

function fail(message, code = 1) {
  process.stderr.write(`echo-service: ${message}\n`);
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    options: { host: { type: 'string', default: '0.0.0.0' }, port: { type: 'string', default: '0' }, standalone: { type: 'boolean', default: false } },
    strict: true,
  }).values;
} catch (err) {
  fail(`${err.message}\nusage: echo-service.mjs [--host ADDR] [--port N] [--standalone]`, 2);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer from 0 to 65535, got ${JSON.stringify(args.port)}`, 2);

const wildcard = args.host === '0.0.0.0' || args.host === '::';
const advertiseHost = process.env.DPNS_ADVERTISE_HOST || (wildcard ? process.env.DPNS_HOST || hostname() : args.host);

/** @type {import('@dpns/client').DpnsService | undefined} */
let svc;
const sockets = new Set();
const server = createServer(onConnection);
server.on('error', (err) => fail(`cannot listen on ${args.host}:${port}: ${err.message}`));
await new Promise((resolve) => server.listen(port, args.host, resolve));
const bound = server.address().port;

if (args.standalone) {
  process.stdout.write(`echo-service listening on ${advertiseHost}:${bound}\n`);
} else {
  try {
    svc = await DpnsService.fromStdin({ host: advertiseHost, port: bound, log: (line) => process.stderr.write(`echo-service: ${line}\n`) });
  } catch (err) {
    fail(`${err.code ?? 'ERROR'}: ${err.message}`);
  }
  process.stdout.write(`echo-service ${svc.name} advertised at ${advertiseHost}:${bound}\n`);
}

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`echo-service: ${signal}, unadvertising and exiting\n`);
  try {
    await svc?.close();
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
    process.exit(0);
  }
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));

/** Echoes, unless the first bytes are "DPNS-AUTH ", which start the pair handshake. */
function onConnection(sock) {
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => sock.destroy());
  let head = Buffer.alloc(0);
  const decide = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const n = Math.min(head.length, AUTH.length);
    const maybeAuth = head.subarray(0, n).equals(AUTH.subarray(0, n));
    if (maybeAuth && head.length < AUTH.length) return;
    sock.off('data', decide);
    // A peer that stalls mid-handshake is dropped; one that misbehaves never takes the service down.
    if (maybeAuth) {
      sock.setTimeout(30_000, () => sock.destroy());
      handshake(sock, head).then(() => sock.setTimeout(0), () => sock.destroy());
    }
    else echo(sock, head);
  };
  sock.on('data', decide);
}

function echo(sock, first) {
  if (first.length > 0) sock.write(first);
  sock.pipe(sock);
}

/** The service side of a pair handshake; see the top of this file. */
async function handshake(sock, first) {
  const lines = lineReader(sock, first);
  const deny = (why) => sock.end(`DENIED ${why}\n`);
  const [, pairId, clientChallenge] = (await lines.next()).split(' ');
  if (svc === undefined) return deny('not running under dpns');
  if (pairId === undefined || !/^[0-9a-f]{32,256}$/.test(clientChallenge ?? '')) return deny('expected DPNS-AUTH <pairId> <challenge, hex>');
  if (!(await svc.waitForPair(pairId, 5000))) return deny('unknown pair');
  const serviceChallenge = randomBytes(32).toString('hex');
  sock.write(`CHALLENGE ${serviceChallenge} ${svc.prove(pairId, clientChallenge)}\n`);
  const [word, proof] = (await lines.next()).split(' ');
  if (word !== 'PROOF' || proof === undefined || !svc.verifyClient(pairId, serviceChallenge, proof)) return deny('wrong proof');
  sock.write('OK\n');
  echo(sock, lines.rest());
}

/** Reads "\n"-terminated lines of at most MAX_LINE bytes; `rest()` hands back what follows. */
function lineReader(sock, first) {
  let buf = first;
  let waiter;
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length > MAX_LINE && buf.indexOf(0x0a) === -1) sock.destroy();
    waiter?.();
  };
  sock.on('data', onData);
  sock.once('close', () => waiter?.());
  return {
    async next() {
      for (;;) {
        const nl = buf.indexOf(0x0a);
        if (nl !== -1) {
          const line = buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
          buf = buf.subarray(nl + 1);
          return line;
        }
        if (sock.destroyed) return '';
        await new Promise((resolve) => (waiter = resolve));
        waiter = undefined;
      }
    },
    rest() {
      sock.off('data', onData);
      return buf;
    },
  };
}
