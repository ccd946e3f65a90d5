// Narrows a text frame from the server (untrusted `unknown`) into one of the messages the
// protocol defines. Anything else is BAD_RESPONSE, with what was wrong.
import { SERVER_ROLES, type ClusterHello, type HelloParams, type RequestId, type Sealed, type ServerRole, type TicketPairParams, type WatchEventParams, type WireError } from '@dpns/protocol';
import { badResponse } from './local-errors.js';
import { isEntryView, isObject } from './guards.js';

/** A frame the client understands. */
export type Incoming =
  | { kind: 'result'; id: RequestId; result: unknown }
  | { kind: 'error'; id: RequestId | null; error: WireError }
  | { kind: 'hello'; params: HelloParams }
  | { kind: 'watch.event'; params: WatchEventParams }
  | { kind: 'ticket.pair'; params: TicketPairParams }
  /** The server's place in the cluster changed: its role, epoch and the primary it knows of now. */
  | { kind: 'cluster'; params: ClusterHello }
  /** A request the server sends the client (`ticket.challenge`); params are checked by its handler. */
  | { kind: 'request'; id: RequestId; method: string; params: unknown }
  /** A notification this client version does not know; ignored, so servers can add new ones. */
  | { kind: 'unknown'; method: string };

/** Parses one frame; throws BAD_RESPONSE when it is not JSON-RPC as dpns speaks it. */
export function parseFrame(text: string): Incoming {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw badResponse(`the server sent a frame that is not JSON (${text.length} characters)`, err);
  }
  if (!isObject(v) || v.jsonrpc !== '2.0') throw badResponse('the server sent a frame that is not a JSON-RPC 2.0 object');
  if (typeof v.method === 'string') {
    if ('id' in v) return { kind: 'request', id: requestId(v.id), method: v.method.slice(0, 64), params: v.params };
    if (v.method === 'hello') return { kind: 'hello', params: hello(v.params) };
    if (v.method === 'watch.event') return { kind: 'watch.event', params: watchEvent(v.params) };
    if (v.method === 'ticket.pair') return { kind: 'ticket.pair', params: ticketPair(v.params) };
    if (v.method === 'cluster') return { kind: 'cluster', params: clusterHello(v.params, 'a cluster notification') };
    return { kind: 'unknown', method: v.method.slice(0, 64) };
  }
  const id = v.id;
  if ('error' in v) {
    if (id !== null && typeof id !== 'string' && typeof id !== 'number') throw badResponse('an error response has an invalid id');
    return { kind: 'error', id, error: wireError(v.error) };
  }
  if (typeof id !== 'string' && typeof id !== 'number') throw badResponse('a response has no valid id');
  if (!('result' in v)) throw badResponse(`the response to request ${id} has neither result nor error`);
  return { kind: 'result', id, result: v.result };
}

function wireError(e: unknown): WireError {
  if (!isObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string') {
    throw badResponse('an error response lacks a numeric code and a message');
  }
  const out: WireError = { code: e.code, message: e.message };
  if (isObject(e.data) && typeof e.data.code === 'string') {
    out.data = { ...e.data, code: e.data.code } as WireError['data'];
  }
  return out;
}

function hello(p: unknown): HelloParams {
  if (
    !isObject(p) || p.server !== 'dpns' || typeof p.version !== 'string' || typeof p.protocol !== 'number' ||
    typeof p.nonce !== 'string' || !/^[0-9a-f]{64}$/.test(p.nonce) ||
    typeof p.heartbeatMs !== 'number' || typeof p.maxFrameBytes !== 'number' || typeof p.revision !== 'number'
  ) {
    throw badResponse('the server\'s hello is malformed');
  }
  const out: HelloParams = {
    server: 'dpns', version: p.version, protocol: p.protocol, nonce: p.nonce,
    heartbeatMs: p.heartbeatMs, maxFrameBytes: p.maxFrameBytes, revision: p.revision,
  };
  if (p.cluster !== undefined) out.cluster = clusterHello(p.cluster);
  return out;
}

const ROLES: ReadonlySet<unknown> = new Set(SERVER_ROLES);

/** The backup-mode part of a hello; absent on servers from before backup mode. */
function clusterHello(c: unknown, what = 'the cluster part of the server\'s hello'): ClusterHello {
  if (
    !isObject(c) || !Number.isSafeInteger(c.sid) || !ROLES.has(c.role) || typeof c.epoch !== 'number' ||
    (c.primary !== undefined && typeof c.primary !== 'string') || typeof c.readFromBackups !== 'boolean' ||
    !Array.isArray(c.servers) || !c.servers.every((s) => typeof s === 'string')
  ) {
    throw badResponse(`${what} is malformed: expected sid, role, epoch, servers and readFromBackups`);
  }
  const out: ClusterHello = {
    sid: c.sid as number, role: c.role as ServerRole, epoch: c.epoch, servers: [...(c.servers as string[])], readFromBackups: c.readFromBackups,
  };
  if (typeof c.primary === 'string') out.primary = c.primary;
  if (c.notifies === true) out.notifies = true;
  return out;
}

function watchEvent(p: unknown): WatchEventParams {
  if (
    !isObject(p) || !Array.isArray(p.watchIds) || p.watchIds.length === 0 || !p.watchIds.every((id) => typeof id === 'string') || typeof p.revision !== 'number' ||
    (p.type !== 'put' && p.type !== 'delete') || typeof p.name !== 'string' ||
    (p.entry !== undefined && !isEntryView(p.entry)) || (p.type === 'put' && p.entry === undefined)
  ) {
    throw badResponse('a watch.event notification is malformed');
  }
  const ev: WatchEventParams = { watchIds: p.watchIds as string[], revision: p.revision, type: p.type, name: p.name };
  if (p.entry !== undefined) ev.entry = p.entry;
  return ev;
}

/** A server request's id: what the answer must echo. Null is refused, as dpns refuses it from clients. */
function requestId(id: unknown): RequestId {
  if ((typeof id === 'string' && id.length <= 128) || (typeof id === 'number' && Number.isFinite(id))) return id;
  throw badResponse('the server sent a request with an invalid id (expected a string of at most 128 characters or a number)');
}

const isHex = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max && /^(?:[0-9a-f]{2})+$/.test(v);

function ticketPair(p: unknown): TicketPairParams {
  if (!isObject(p) || typeof p.name !== 'string' || typeof p.pairId !== 'string' || p.pairId === '' || p.pairId.length > 128 || !isObject(p.sealed)) {
    throw badResponse('a ticket.pair notification is malformed');
  }
  const s = p.sealed;
  if (!isHex(s.nonce, 64) || !isHex(s.box, 4096) || (s.from !== undefined && !isHex(s.from, 64))) {
    throw badResponse('a ticket.pair notification\'s sealed pair is malformed');
  }
  const sealed: Sealed = { nonce: s.nonce, box: s.box };
  if (s.from !== undefined) sealed.from = s.from;
  return { name: p.name, pairId: p.pairId, sealed };
}
