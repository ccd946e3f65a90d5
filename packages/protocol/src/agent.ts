// The launch agent's wire protocol: what a name server and a dpns-launchd agent say to each
// other over one WebSocket per operation, and the signing and sealing that make it safe.
//
//   agent → NS   hello    {boxKey fresh per connection, identity, sig}
//   NS → agent   request  {key, body (a JSON string), sig over body}
//   agent → NS   reply    then the agent closes the connection
//
// The body names the connection's boxKey, so a captured request is useless on any other
// connection; its nonce and timestamp stop a replay on the same agent. It also names the host the
// name server dialed and the agent identity it trusts there, so a request relayed to another
// agent is refused (WRONG_TARGET). A launch's whole spec (program, args, env, cwd, user, service,
// ticket line) is sealed to that boxKey, so none of it crosses the wire in the clear.
import nacl from 'tweetnacl';
import { fromHex as hexBytes, fromUtf8, toHex, utf8 } from './bytes.js';
import { ed25519KeyPairFromSeed, ed25519Sign, ed25519Verify } from './ed25519.js';
import { box as naclBox, boxKeyPair, boxOpen } from './x25519.js';
import { DpnsError, isDpnsError } from './errors.js';
import { nameProblem } from './names.js';
import { randomHex } from './random.js';
import { bad, int, object, onlyKeys, specField, str, type Obj } from './validate.js';

/** The agent's default port. */
export const AGENT_PORT = 7701;
/** The `agent` field of every hello. */
export const AGENT_NAME = 'dpns-launchd' as const;
/** The largest frame either side accepts. */
export const AGENT_MAX_FRAME_BYTES = 256 * 1024;
/** A connection that sends nothing for this long is closed by the agent. */
export const AGENT_IDLE_MS = 10_000;
/** Default half-width of the window a request's `ts` must fall in. */
export const AGENT_WINDOW_MS = 30_000;

const HELLO_CONTEXT = 'dpns-agent-hello\n';
const REQUEST_CONTEXT = 'dpns-agent-request\n';

/** Why an agent refused a request. Stable: the name server branches on these. */
export const AgentErrorCodes = {
  /** The frame or body is malformed. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The request is signed by a key the agent does not trust. */
  UNKNOWN_KEY: 'UNKNOWN_KEY',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  /** `ts` is outside the agent's window. */
  STALE: 'STALE',
  /** The nonce was seen before, or the body names another connection's boxKey. */
  REPLAYED: 'REPLAYED',
  /** `epoch` is lower than the highest the agent has seen. */
  STALE_EPOCH: 'STALE_EPOCH',
  /** The program or the user is not allowed by the agent's config. */
  NOT_ALLOWED: 'NOT_ALLOWED',
  NOT_FOUND: 'NOT_FOUND',
  NOT_EXECUTABLE: 'NOT_EXECUTABLE',
  /** The OS refused to start the program, or it exited before the reply. */
  SPAWN_FAILED: 'SPAWN_FAILED',
  /** A kill names a process the agent did not launch (or whose pid was recycled). */
  NOT_LAUNCHED: 'NOT_LAUNCHED',
  /** The request names another host or another agent identity: it was meant for another agent. */
  WRONG_TARGET: 'WRONG_TARGET',
  INTERNAL: 'INTERNAL',
} as const;
export type AgentErrorCode = keyof typeof AgentErrorCodes;

/** A refusal with its wire code; the agent turns it into an error reply. */
export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly code: AgentErrorCode;

  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isAgentError(e: unknown, code?: AgentErrorCode): e is AgentError {
  return e instanceof AgentError && (code === undefined || e.code === code);
}

// ---- keys ----

/** An Ed25519 key pair: the name server's request key, or the agent's identity. */
export interface SigningKey {
  /** Hex, 32 bytes. */
  publicKey: string;
  /** tweetnacl's 64-byte secret key. */
  secretKey: Uint8Array;
}

export function newSigningKey(): SigningKey {
  return signingKeyFromSeed(nacl.randomBytes(nacl.sign.seedLength));
}

/** The key pair for a stored 32-byte seed. */
export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  const kp = ed25519KeyPairFromSeed(seed);
  return { publicKey: toHex(kp.publicKey), secretKey: kp.secretKey };
}

/** An X25519 key pair for nacl.box; the agent makes one per connection. */
export interface BoxKeyPair {
  publicKey: string;
  secretKey: Uint8Array;
}

export function newBoxKeyPair(): BoxKeyPair {
  const kp = boxKeyPair();
  return { publicKey: toHex(kp.publicKey), secretKey: kp.secretKey };
}

// ---- frames ----

/** Agent → NS, the first frame on every connection. */
export interface AgentHello {
  type: 'hello';
  agent: typeof AGENT_NAME;
  version: string;
  host: string;
  /** Hex X25519 public key, fresh for this connection: the request must name it, the ticket is sealed to it. */
  boxKey: string;
  /** Hex Ed25519 public key of the agent, stable across restarts, so a name server may pin it. */
  identity: string;
  /** Hex Ed25519 signature by `identity` over 'dpns-agent-hello\n' + boxKey. */
  sig: string;
}

/** NS → agent: the one request of a connection. */
export interface AgentRequestFrame {
  type: 'request';
  /** Hex Ed25519 public key of the name server; must be in the agent's trustedKeys. */
  key: string;
  /** The JSON text of an AgentRequestBody; signed as text so both ends verify the same bytes. */
  body: string;
  /** Hex Ed25519 signature by `key` over 'dpns-agent-request\n' + body. */
  sig: string;
}

/** A secret (a launch's spec), sealed with nacl.box to the hello's boxKey by an ephemeral NS key. */
export interface SealedSecret {
  /** Hex X25519 ephemeral public key of the sender. */
  from: string;
  /** Hex, 24 bytes. */
  nonce: string;
  /** Hex nacl.box of the UTF-8 JSON text. */
  box: string;
}

/**
 * Start `program` for `service`; the child reads `ticketLine` on stdin. This is what the agent
 * opens from a launch's `sealed` field; on the wire only `op`, `launchId` and the box travel.
 */
export interface AgentLaunchOp {
  op: 'launch';
  service: string;
  /** Hex, 16 bytes: names this launch in the ledger and in a later kill. */
  launchId: string;
  program: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  user?: string;
  /** Name server endpoints (host:port) for the child, also in its DPNS_SERVERS. */
  servers: string[];
  /** The JSON text of the child's TicketLine, without the newline. */
  ticketLine: string;
}

/** A launch as it crosses the wire: the AgentLaunchOp without `op` and `launchId`, sealed. */
export interface AgentSealedLaunchOp {
  op: 'launch';
  launchId: string;
  sealed: SealedSecret;
}

/** Stop a process this agent launched: SIGTERM to its group, SIGKILL after graceMs. */
export interface AgentKillOp {
  op: 'kill';
  service: string;
  launchId: string;
  pid: number;
  /** How long to wait after SIGTERM before SIGKILL; the agent's killGraceMs when absent. */
  graceMs?: number;
}

/** List the ledger, so a restarted name server can reconcile. */
export interface AgentStatusOp {
  op: 'status';
}

/**
 * How busy the agent's host is, so a name server can launch a service with several hosts on the
 * least loaded one (PROTOCOL.md §10.6). Signed and admitted like every other request.
 */
export interface AgentLoadOp {
  op: 'load';
}

/** An operation as the request body carries it. */
export type AgentOperation = AgentSealedLaunchOp | AgentKillOp | AgentStatusOp | AgentLoadOp;
export type AgentOpName = AgentOperation['op'];

/** What every body carries besides its operation. */
export interface AgentRequestEnvelope {
  /** Hex, 32 random bytes; never accepted twice within the window. */
  nonce: string;
  /** Epoch milliseconds when the name server signed it. */
  ts: number;
  /** The name server's primary epoch; an agent refuses one lower than it has seen. */
  epoch: number;
  /** The boxKey of the hello on this connection. */
  boxKey: string;
  /** The host name or address the name server dialed: the agent refuses a request for another host. */
  target: string;
  /** Hex Ed25519 identity the name server trusts for `target`: the agent refuses one that is not its own. */
  agent: string;
}

export type AgentRequestBody = AgentOperation & AgentRequestEnvelope;

/** One process the agent launched and still tracks. */
export interface AgentLedgerEntry {
  launchId: string;
  service: string;
  pid: number;
  /** The process group (the child leads its own). */
  pgid: number;
  /** Field 22 of /proc/<pid>/stat: with the pid, identifies the process across pid reuse. */
  startTime: string;
  /** The real path that was executed. */
  program: string;
  user: string;
  /** Epoch milliseconds. */
  launchedAt: number;
}

export interface AgentLaunchReply {
  type: 'reply';
  ok: true;
  pid: number;
  startTime: string;
}

export interface AgentKillReply {
  type: 'reply';
  ok: true;
  /** True when this request's signal ended the process. */
  killed: boolean;
  /** The last signal sent; absent when none was. */
  signal?: 'SIGTERM' | 'SIGKILL';
  /** The process had already exited before the request. */
  alreadyGone: boolean;
}

export interface AgentStatusReply {
  type: 'reply';
  ok: true;
  entries: AgentLedgerEntry[];
}

export interface AgentLoadReply {
  type: 'reply';
  ok: true;
  /** The host's one-minute load average (os.loadavg()[0]). */
  loadavg: number;
  /** The CPUs the agent may use (os.availableParallelism()). */
  cpus: number;
  /** Processes the agent launched that still run (its ledger, pruned of the dead). */
  children: number;
}

/**
 * The figure hosts are ordered by, lower first: the load average per CPU, plus one for each
 * service the agent runs. A launched service counts as a busy CPU's share even while it idles, so
 * services spread over the hosts instead of piling onto the one that is idle right now.
 */
export function loadFigure(r: Pick<AgentLoadReply, 'loadavg' | 'cpus' | 'children'>): number {
  return r.loadavg / Math.max(1, r.cpus) + r.children;
}

export interface AgentErrorReply {
  type: 'reply';
  ok: false;
  code: AgentErrorCode;
  /** One sentence a person can act on. */
  message: string;
}

/** The success reply of each operation. */
export interface AgentReplies {
  launch: AgentLaunchReply;
  kill: AgentKillReply;
  status: AgentStatusReply;
  load: AgentLoadReply;
}
export type AgentReplyFor<O extends AgentOpName> = AgentReplies[O] | AgentErrorReply;
export type AgentReply = AgentReplyFor<AgentOpName>;

/** The JSON object the launched child reads on stdin, one line. */
export interface TicketLine {
  service: string;
  /** Hex, 32 bytes: the service's half of the pair. */
  ticket: string;
  /** Hex, 32 bytes: the name server's half, so the service can check the name server. */
  nameserverTicket: string;
  servers: string[];
}

// ---- the agent's side ----

/** The hello an agent sends, signed by its identity. */
export function signAgentHello(identity: SigningKey, boxKey: string, host: string, version: string): AgentHello {
  const sig = toHex(ed25519Sign(utf8(HELLO_CONTEXT + boxKey), identity.secretKey));
  return { type: 'hello', agent: AGENT_NAME, version, host, boxKey, identity: identity.publicKey, sig };
}

/** Narrows a request frame's text; throws AgentError BAD_REQUEST naming the field. */
export function parseAgentRequestFrame(text: string): AgentRequestFrame {
  return asBadRequest(() => {
    const o = object(parseJson(text, 'request'), 'request');
    onlyKeys(o, ['type', 'key', 'body', 'sig'], 'request');
    if (o.type !== 'request') throw bad('request.type', '"request"', o.type);
    return {
      type: 'request',
      key: hex(o, 'key', 'request', 32),
      body: str(o, 'body', 'request', { max: AGENT_MAX_FRAME_BYTES }),
      sig: hex(o, 'sig', 'request', 64),
    };
  });
}

/** True when `frame.sig` is `frame.key`'s signature over the body. Says nothing of trust. */
export function verifyAgentRequest(frame: AgentRequestFrame): boolean {
  const sig = hexBytes(frame.sig);
  const key = hexBytes(frame.key);
  return sig !== undefined && key !== undefined && ed25519Verify(utf8(REQUEST_CONTEXT + frame.body), sig, key);
}

/** Narrows a signed body; throws AgentError BAD_REQUEST naming the field. */
export function parseAgentRequestBody(body: string): AgentRequestBody {
  return asBadRequest(() => {
    const o = object(parseJson(body, 'body'), 'body');
    const envelope: AgentRequestEnvelope = {
      nonce: hex(o, 'nonce', 'body', 32),
      ts: int(o, 'ts', 'body', 0, Number.MAX_SAFE_INTEGER),
      epoch: int(o, 'epoch', 'body', 0, Number.MAX_SAFE_INTEGER),
      boxKey: hex(o, 'boxKey', 'body', 32),
      target: str(o, 'target', 'body', { max: 255 }),
      agent: hex(o, 'agent', 'body', 32),
    };
    const common = ['op', 'nonce', 'ts', 'epoch', 'boxKey', 'target', 'agent'];
    switch (o.op) {
      case 'launch':
        onlyKeys(o, [...common, 'launchId', 'sealed'], 'body');
        return { op: 'launch', launchId: hex(o, 'launchId', 'body', 16), sealed: sealedSecret(o.sealed), ...envelope };
      case 'kill':
        onlyKeys(o, [...common, 'service', 'launchId', 'pid', 'graceMs'], 'body');
        return {
          op: 'kill', service: serviceName(o), launchId: hex(o, 'launchId', 'body', 16), pid: int(o, 'pid', 'body', 1, 2 ** 31 - 1),
          ...(o.graceMs === undefined ? {} : { graceMs: int(o, 'graceMs', 'body', 0, 600_000) }), ...envelope,
        };
      case 'status':
        onlyKeys(o, common, 'body');
        return { op: 'status', ...envelope };
      case 'load':
        onlyKeys(o, common, 'body');
        return { op: 'load', ...envelope };
      default:
        throw bad('body.op', '"launch", "kill", "status" or "load"', o.op);
    }
  });
}

/**
 * Opens a launch's sealed spec with the connection's box secret key and narrows it; throws
 * AgentError BAD_REQUEST when it does not open with this key or is malformed.
 */
export function openLaunch(op: AgentSealedLaunchOp, boxSecretKey: Uint8Array): AgentLaunchOp {
  const opened = boxOpen(fromHex(op.sealed.box), fromHex(op.sealed.nonce), fromHex(op.sealed.from), boxSecretKey);
  if (opened === null) {
    throw new AgentError('BAD_REQUEST', 'the launch spec does not open with this connection\'s key; seal it to the boxKey of this connection\'s hello');
  }
  return asBadRequest(() => {
    const o = object(parseJson(fromUtf8(opened), 'launch'), 'launch');
    onlyKeys(o, ['service', 'program', 'args', 'env', 'cwd', 'user', 'servers', 'ticketLine'], 'launch');
    const out: AgentLaunchOp = {
      op: 'launch',
      service: serviceName(o, 'launch'),
      launchId: op.launchId,
      program: specField(o, 'program', 'launch') as string,
      args: o.args === undefined ? [] : (specField(o, 'args', 'launch') as string[]),
      env: o.env === undefined ? (Object.create(null) as Record<string, string>) : (specField(o, 'env', 'launch') as Record<string, string>),
      servers: servers(o.servers, 'launch.servers'),
      ticketLine: str(o, 'ticketLine', 'launch', { max: 16_384 }),
    };
    if (o.cwd !== undefined) out.cwd = specField(o, 'cwd', 'launch') as string;
    if (o.user !== undefined) out.user = specField(o, 'user', 'launch') as string;
    return out;
  });
}

/** The refusal sent for `code`. */
export function agentErrorReply(code: AgentErrorCode, message: string): AgentErrorReply {
  return { type: 'reply', ok: false, code, message };
}

// ---- the name server's side ----

/**
 * Narrows an agent's hello and checks its signature; throws DpnsError BAD_RESPONSE.
 * Whether `identity` is one the name server expects (pinning) is the caller's decision.
 */
export function parseAgentHello(text: string): AgentHello {
  const hello = asBadResponse((): AgentHello => {
    const o = object(parseJson(text, 'hello'), 'hello');
    if (o.type !== 'hello') throw bad('hello.type', '"hello"', o.type);
    if (o.agent !== AGENT_NAME) throw bad('hello.agent', JSON.stringify(AGENT_NAME), o.agent);
    return {
      type: 'hello' as const, agent: AGENT_NAME, version: str(o, 'version', 'hello', { max: 64 }),
      host: str(o, 'host', 'hello', { max: 255 }), boxKey: hex(o, 'boxKey', 'hello', 32),
      identity: hex(o, 'identity', 'hello', 32), sig: hex(o, 'sig', 'hello', 64),
    };
  });
  if (!ed25519Verify(utf8(HELLO_CONTEXT + hello.boxKey), fromHex(hello.sig), fromHex(hello.identity))) {
    throw new DpnsError('BAD_RESPONSE', `the agent on ${hello.host} sent a hello whose signature does not match its identity ${hello.identity}`);
  }
  return hello;
}

/** The JSON text of a ticket line (the agent appends the newline). */
export function ticketLineText(t: TicketLine): string {
  return JSON.stringify({ service: t.service, ticket: t.ticket, nameserverTicket: t.nameserverTicket, servers: t.servers });
}

/** Seals text to a hello's boxKey with a fresh ephemeral key and nonce. */
export function sealToBoxKey(text: string, boxKey: string): SealedSecret {
  const eph = boxKeyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const box = naclBox(utf8(text), nonce, fromHex(boxKey), eph.secretKey);
  return { from: toHex(eph.publicKey), nonce: toHex(nonce), box: toHex(box) };
}

/** A launch for the wire: everything but its launch id sealed to the hello's boxKey. */
export function sealLaunch(op: AgentLaunchOp, boxKey: string): AgentSealedLaunchOp {
  const spec: Record<string, unknown> = {
    service: op.service, program: op.program, args: op.args, env: op.env, servers: op.servers, ticketLine: op.ticketLine,
  };
  if (op.cwd !== undefined) spec.cwd = op.cwd;
  if (op.user !== undefined) spec.user = op.user;
  return { op: 'launch', launchId: op.launchId, sealed: sealToBoxKey(JSON.stringify(spec), boxKey) };
}

/** A fresh launch id. */
export function newLaunchId(): string {
  return randomHex(16);
}

/**
 * A signed request for one operation on the connection whose hello named `boxKey`, meant for the
 * agent `agent` on `target` (the host dialed). A fresh nonce and the current time are added here.
 */
export function buildAgentRequest(
  key: SigningKey,
  op: AgentOperation,
  ctx: { boxKey: string; epoch: number; target: string; agent: string; now?: number },
): AgentRequestFrame {
  const body = JSON.stringify({
    ...op, nonce: randomHex(32), ts: ctx.now ?? Date.now(), epoch: ctx.epoch, boxKey: ctx.boxKey, target: ctx.target, agent: ctx.agent,
  });
  const sig = toHex(ed25519Sign(utf8(REQUEST_CONTEXT + body), key.secretKey));
  return { type: 'request', key: key.publicKey, body, sig };
}

/** Narrows an agent's reply to `op`; throws DpnsError BAD_RESPONSE naming the field. */
export function parseAgentReply<O extends AgentOpName>(text: string, op: O): AgentReplyFor<O> {
  return asBadResponse(() => {
    const o = object(parseJson(text, 'reply'), 'reply');
    if (o.type !== 'reply') throw bad('reply.type', '"reply"', o.type);
    if (o.ok === false) {
      const code = str(o, 'code', 'reply', { max: 64 });
      if (!(code in AgentErrorCodes)) throw bad('reply.code', `one of ${Object.keys(AgentErrorCodes).join(', ')}`, code);
      return agentErrorReply(code as AgentErrorCode, str(o, 'message', 'reply', { max: 4096 }));
    }
    if (o.ok !== true) throw bad('reply.ok', 'true or false', o.ok);
    const reply = successReply(o, op);
    return reply as AgentReplyFor<O>;
  });
}

function successReply(o: Obj, op: AgentOpName): AgentReply {
  switch (op) {
    case 'launch':
      return { type: 'reply', ok: true, pid: int(o, 'pid', 'reply', 1, 2 ** 31 - 1), startTime: digits(o, 'startTime', 'reply') };
    case 'kill': {
      const killed = o.killed;
      const alreadyGone = o.alreadyGone;
      if (typeof killed !== 'boolean') throw bad('reply.killed', 'true or false', killed);
      if (typeof alreadyGone !== 'boolean') throw bad('reply.alreadyGone', 'true or false', alreadyGone);
      const reply: AgentKillReply = { type: 'reply', ok: true, killed, alreadyGone };
      if (o.signal !== undefined) {
        if (o.signal !== 'SIGTERM' && o.signal !== 'SIGKILL') throw bad('reply.signal', '"SIGTERM" or "SIGKILL"', o.signal);
        reply.signal = o.signal;
      }
      return reply;
    }
    case 'status': {
      if (!Array.isArray(o.entries)) throw bad('reply.entries', 'an array', o.entries);
      return { type: 'reply', ok: true, entries: o.entries.map((e, i) => parseLedgerEntry(e, `reply.entries[${i}]`)) };
    }
    case 'load':
      return {
        type: 'reply', ok: true, loadavg: finite(o, 'loadavg', 0, 1e6), cpus: int(o, 'cpus', 'reply', 1, 65_536), children: int(o, 'children', 'reply', 0, 1_000_000),
      };
    default: {
      const never: never = op;
      throw bad('op', 'a known operation', never);
    }
  }
}

/** One ledger entry, from a status reply or the agent's ledger file. Throws DpnsError INVALID_PARAMS. */
export function parseLedgerEntry(v: unknown, field: string): AgentLedgerEntry {
  const o = object(v, field);
  onlyKeys(o, ['launchId', 'service', 'pid', 'pgid', 'startTime', 'program', 'user', 'launchedAt'], field);
  const service = str(o, 'service', field, { max: 255 });
  return {
    launchId: hex(o, 'launchId', field, 16), service, pid: int(o, 'pid', field, 1, 2 ** 31 - 1),
    pgid: int(o, 'pgid', field, 1, 2 ** 31 - 1), startTime: digits(o, 'startTime', field),
    program: str(o, 'program', field), user: str(o, 'user', field, { max: 64 }),
    launchedAt: int(o, 'launchedAt', field, 0, Number.MAX_SAFE_INTEGER),
  };
}

// ---- the launched service's side ----

/** Narrows the ticket line a launched service reads on stdin; throws DpnsError INVALID_PARAMS. */
export function parseTicketLine(text: string): TicketLine {
  const o = object(parseJson(text.trim(), 'ticket line'), 'ticket line');
  onlyKeys(o, ['service', 'ticket', 'nameserverTicket', 'servers'], 'ticket line');
  return {
    service: serviceName(o, 'ticket line'),
    ticket: hex(o, 'ticket', 'ticket line', 32),
    nameserverTicket: hex(o, 'nameserverTicket', 'ticket line', 32),
    servers: servers(o.servers, 'ticket line.servers'),
  };
}

// ---- helpers ----

/** The bytes of hex that a parser here has already checked. */
function fromHex(s: string): Uint8Array {
  const bytes = hexBytes(s);
  if (bytes === undefined) throw new TypeError('expected hex checked by a parser');
  return bytes;
}

/** Lowercase hex of exactly `bytes` bytes. */
function hex(o: Obj, key: string, field: string, bytes: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-f]*$/.test(v)) {
    throw bad(`${field}.${key}`, `${bytes * 2} lowercase hex digits (${bytes} bytes)`, v);
  }
  return v;
}

/** A finite number from `min` to `max` (a load average is fractional, so not int()). */
function finite(o: Obj, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(`reply.${key}`, `a number from ${min} to ${max}`, v);
  return v;
}

function digits(o: Obj, key: string, field: string): string {
  const v = str(o, key, field, { max: 20 });
  if (!/^\d+$/.test(v)) throw bad(`${field}.${key}`, 'a decimal number as a string', v);
  return v;
}

function serviceName(o: Obj, field = 'body'): string {
  const problem = nameProblem(o.service);
  if (problem !== undefined) throw bad(`${field}.service`, `a dpns name (${problem})`, o.service);
  return o.service as string;
}

function servers(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length > 16) throw bad(field, 'an array of at most 16 "host:port" strings', v);
  return v.map((s, i) => {
    if (typeof s !== 'string' || !/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(s)) {
      throw bad(`${field}[${i}]`, 'a "host:port" string', s);
    }
    return s;
  });
}

function sealedSecret(v: unknown): SealedSecret {
  const o = object(v, 'body.sealed');
  onlyKeys(o, ['from', 'nonce', 'box'], 'body.sealed');
  const box = o.box;
  // A spec is a few hundred bytes to a few tens of KiB; the box adds 16; the frame bounds it.
  if (typeof box !== 'string' || box.length < 34 || box.length > AGENT_MAX_FRAME_BYTES || box.length % 2 !== 0 || !/^[0-9a-f]*$/.test(box)) {
    throw bad('body.sealed.box', `lowercase hex of 17 to ${AGENT_MAX_FRAME_BYTES / 2} bytes`, box);
  }
  return { from: hex(o, 'from', 'body.sealed', 32), nonce: hex(o, 'nonce', 'body.sealed', 24), box };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DpnsError('INVALID_PARAMS', `${what}: expected JSON text (${(e as Error).message})`, { details: { field: what } });
  }
}

/** Runs a parser built on the shared validators, turning their INVALID_PARAMS into BAD_REQUEST. */
function asBadRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isDpnsError(e)) throw new AgentError('BAD_REQUEST', e.message, { cause: e });
    throw e;
  }
}

/** The same, for what the name server reads from an agent. */
function asBadResponse<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isDpnsError(e)) throw new DpnsError('BAD_RESPONSE', `the launch agent sent a malformed frame: ${e.message}`, { cause: e });
    throw e;
  }
}
