// JSON-RPC framing: turns one WebSocket frame into calls and their answers. Every failure
// becomes a JSON-RPC error with a stable code; nothing a peer sends can throw past here.
import {
  checkRequestId, type MethodName, DpnsError, ErrorCodes, isMethodName, isWrite, METHODS, parseModuleMethod, traitsOf, parseModuleParams, parseParams, type ModuleCallName,
  type RequestId, type WireError,
} from '@dpns/protocol';
import type { Refusal } from './cluster/gate.js';
import type { Connection } from './connection.js';
import { handlers, type HandlerContext } from './handlers.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import type { Op } from './registry/ops.js';

/** Most requests one batch may hold. */
export const MAX_BATCH = 64;

type Answer = string | undefined;

export class RpcDispatcher {
  constructor(
    private readonly ctx: HandlerContext,
    private readonly maxFrameBytes: number,
  ) {}

  /** Handles one frame from `conn`; answers are sent on it. */
  onFrame(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      conn.sendRaw(errorFrame(null, new DpnsError('INVALID_REQUEST', 'binary frames are not accepted: send each JSON-RPC message as a text frame')));
      return;
    }
    if (data.length > this.maxFrameBytes) {
      conn.sendRaw(errorFrame(null, new DpnsError('FRAME_TOO_LARGE', `frame of ${data.length} bytes is over the limit of ${this.maxFrameBytes} bytes`, {
        details: { limit: this.maxFrameBytes },
      })));
      return;
    }
    if (nestsDeeperThan(data, MAX_JSON_DEPTH)) {
      conn.sendRaw(errorFrame(null, new DpnsError('INVALID_REQUEST', `the frame nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels; no request needs that`, {
        details: { limit: MAX_JSON_DEPTH },
      })));
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString('utf8'));
    } catch (e) {
      conn.sendRaw(errorFrame(null, new DpnsError('PARSE_ERROR', `not valid JSON: ${(e as Error).message.slice(0, 200)}`)));
      return;
    }
    if (!Array.isArray(msg)) {
      const a = this.handle(conn, msg);
      if (typeof a === 'string') conn.sendRaw(a);
      else if (a !== undefined) void a.then((s) => s !== undefined && conn.sendRaw(s));
      return;
    }
    if (msg.length === 0 || msg.length > MAX_BATCH) {
      conn.sendRaw(errorFrame(null, new DpnsError('INVALID_REQUEST', msg.length === 0 ? 'an empty batch is not a request' : `a batch holds at most ${MAX_BATCH} requests, got ${msg.length}`)));
      return;
    }
    void Promise.all(msg.map((m) => Promise.resolve(this.handle(conn, m)))).then((answers) => {
      const out = answers.filter((a): a is string => typeof a === 'string');
      if (out.length > 0) conn.sendRaw(`[${out.join(',')}]`);
    });
  }

  /** One request object: its answer frame, a promise of it, or undefined for a notification. */
  private handle(conn: Connection, msg: unknown): Answer | Promise<Answer> {
    const started = process.hrtime.bigint();
    // Only methods this protocol defines get their own label, so a client cannot mint series.
    let label = 'unknown';
    const outcome = (err: DpnsError): string => (err.code in ErrorCodes ? err.code : 'INTERNAL');
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      const err = new DpnsError('INVALID_REQUEST', 'a request must be a JSON object with jsonrpc, id, method and params');
      this.ctx.metrics.request(label, outcome(err), started);
      return errorFrame(null, err);
    }
    const req = msg as Record<string, unknown>;
    // A response to a request we sent this peer (a ticket challenge), not a request.
    // Responses are never answered: one we are not waiting for (late, or made up) is dropped.
    if (req.method === undefined && ('result' in req || 'error' in req)) {
      conn.answered(req);
      return undefined;
    }
    const rawId = req.id;
    const hasId = Object.prototype.hasOwnProperty.call(req, 'id');
    const idOk = typeof rawId === 'string' ? rawId.length <= 128 : typeof rawId === 'number' && Number.isFinite(rawId);
    if (hasId && !idOk) {
      const err = new DpnsError('INVALID_REQUEST', 'id must be a string of at most 128 characters or a finite number');
      this.ctx.metrics.request(label, outcome(err), started);
      return errorFrame(null, err);
    }
    const id = hasId ? (rawId as RequestId) : undefined;
    const fail = (err: DpnsError): Answer => {
      this.ctx.metrics.request(label, outcome(err), started);
      // `what` is always one of the server's own names here (module calls answer elsewhere).
      if (err.code === 'LIMIT_EXCEEDED') this.ctx.metrics.limits.inc({ what: String(err.details?.what ?? 'other') });
      return id === undefined ? undefined : errorFrame(id, err);
    };
    const ok = (result: unknown): Answer => {
      this.ctx.metrics.request(label, 'ok', started);
      return id === undefined ? undefined : resultFrame(id, result);
    };
    // Not a valid Request is not a notification either: JSON-RPC 2.0 answers it, with id null when it has none.
    const invalid = (err: DpnsError): Answer => {
      this.ctx.metrics.request(label, outcome(err), started);
      return errorFrame(id ?? null, err);
    };
    if (req.jsonrpc !== '2.0') return invalid(new DpnsError('INVALID_REQUEST', 'jsonrpc must be "2.0"'));
    const method = req.method;
    if (typeof method !== 'string') return invalid(new DpnsError('INVALID_REQUEST', 'method must be a string'));
    if (!isMethodName(method)) {
      // `<prefix>.<method>` of a loaded module goes to its worker; the manager refuses an unknown one.
      const moduleCall = parseModuleMethod(method);
      if (moduleCall !== undefined) {
        label = 'module';
        return afterGate(this.ctx.gate('@module', req.params), fail, () => this.callModule(conn, id, moduleCall, req.params, (o) => this.ctx.metrics.request(label, o, started)));
      }
      return fail(new DpnsError('METHOD_NOT_FOUND', `unknown method ${JSON.stringify(method.slice(0, 64))}; see docs/PROTOCOL.md for the list`, {
        details: { method: method.slice(0, 64) },
      }));
    }
    label = method;
    if (METHODS[method].admin && !conn.admin) {
      return fail(new DpnsError('UNAUTHORIZED', `${method} needs the admin credential: log in first (the dpns command reads it from --token-file FILE, DPNS_TOKEN_FILE or DPNS_TOKEN)`));
    }
    return afterGate(this.ctx.gate(method, req.params), fail, () => this.run(conn, method, req.params, ok, fail));
  }

  /** A request of one of the protocol's methods, past the gate: parsed and handed to its handler. */
  private run(conn: Connection, method: MethodName, rawReqParams: unknown, ok: (result: unknown) => Answer, fail: (err: DpnsError) => Answer): Answer | Promise<Answer> {
    try {
      const { params: rawParams, rid } = takeRequestId(method, rawReqParams);
      const params = (parseParams[method] as (raw: unknown) => never)(rawParams);
      if (rid !== undefined && replayable(method)) {
        // A retry of a write that was applied (perhaps by a primary that since failed): its outcome, not a second application.
        const applied = this.ctx.registry.appliedRequest(rid);
        if (applied !== undefined) {
          // Answered like a read: only once the record that applied it is committed, not merely applied here.
          const answer = this.ctx.afterDurable(replayed(this.ctx, method, params as { name?: string }, applied));
          return answer instanceof Promise ? answer.then(ok, (e: unknown) => fail(this.toDpnsError(e, conn, method))) : ok(answer);
        }
      }
      const ctx = rid === undefined ? this.ctx : { ...this.ctx, commit: (ops: Op[]) => this.ctx.commit(ops, rid) };
      const out = (handlers[method] as (c: HandlerContext, conn: Connection, p: never) => unknown)(ctx, conn, params);
      if (out instanceof Promise) {
        return out.then(ok, (e: unknown) => fail(this.toDpnsError(e, conn, method)));
      }
      return ok(out);
    } catch (e) {
      // A refusal (NOT_FOUND, FORBIDDEN) is an answer about the registry too: it waits like a read.
      const waited = this.ctx.afterDurable(this.toDpnsError(e, conn, method));
      return waited instanceof Promise ? waited.then(fail, (e: unknown) => fail(this.toDpnsError(e, conn, method))) : fail(waited);
    }
  }

  /** A module call: answered with the module's JSON text as it came from its worker. */
  private callModule(
    conn: Connection, id: RequestId | undefined, name: ModuleCallName, rawParams: unknown, done: (outcome: string) => void,
  ): Answer | Promise<Answer> {
    const method = `${name.prefix}.${name.method}`;
    const fail = (e: unknown): Answer => {
      const err = this.toDpnsError(e, conn, method);
      done(err.code in ErrorCodes ? err.code : 'INTERNAL');
      return id === undefined ? undefined : errorFrame(id, err);
    };
    let answer: Promise<string>;
    try {
      answer = this.ctx.modules.call(name, parseModuleParams(rawParams), { admin: conn.admin, conn: conn.id, owner: conn.owner ?? null });
    } catch (e) {
      return fail(e);
    }
    return answer.then((json) => {
      done('ok');
      return id === undefined ? undefined : rawResultFrame(id, json);
    }, fail);
  }

  private toDpnsError(e: unknown, conn: Connection, method: string): DpnsError {
    if (e instanceof DpnsError) return e;
    const code = (e as { code?: unknown }).code;
    if (code === 'FAILED' || code === 'CLOSED') {
      return new DpnsError('UNAVAILABLE', 'the name server cannot write to its disk and is shutting down; retry on another server or after it restarts');
    }
    const ref = Math.random().toString(36).slice(2, 10);
    this.ctx.log.error('internal error while handling a request', { ref, method, conn: conn.id, err: e });
    return new DpnsError('INTERNAL', `internal error (logged on the server as ref ${ref})`, { details: { ref } });
  }
}

/** A write whose whole effect is one logged record: a retry with a remembered request id is answered from the log. */
function replayable(method: MethodName): boolean {
  const t = traitsOf(method);
  return t.kind === 'write' && t.replayable;
}

/** Splits the optional `requestId` off a write's params (other methods keep theirs, and refuse it as unknown). */
function takeRequestId(method: MethodName, raw: unknown): { params: unknown; rid: string | undefined } {
  if (!isWrite(method) || typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('requestId' in raw)) return { params: raw, rid: undefined };
  const { requestId, ...rest } = raw as Record<string, unknown>;
  return { params: rest, rid: checkRequestId(requestId) };
}

function replayed(ctx: HandlerContext, method: string, p: { name?: string }, revision: number): unknown {
  if (method !== 'register.edit') return { revision };
  const entry = p.name === undefined ? undefined : ctx.registry.get(p.name);
  return entry?.kind === 'service' ? { revision, entry } : { revision };
}

function resultFrame(id: RequestId, result: unknown): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result)}}`;
}

/** A result frame around JSON text that is already serialized (a module's answer). */
function rawResultFrame(id: RequestId, json: string): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${json}}`;
}

function errorFrame(id: RequestId | null, err: DpnsError): string {
  const wire: WireError = err.toWire();
  return JSON.stringify({ jsonrpc: '2.0', id, error: wire });
}

/** Goes on with `go` once the role gate lets the request through, or answers its refusal; a gate that waits (a primary renewing its read lease) is waited for. */
function afterGate(refusal: Refusal, fail: (err: DpnsError) => Answer, go: () => Answer | Promise<Answer>): Answer | Promise<Answer> {
  if (refusal instanceof Promise) return refusal.then((r) => (r === undefined ? go() : fail(r)));
  return refusal === undefined ? go() : fail(refusal);
}
