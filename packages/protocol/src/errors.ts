// Stable error codes of the dpns protocol. Callers branch on `code` (the string
// name) or on the JSON-RPC number; the human message may change between versions.

/** Every error code that can appear on the wire, with its JSON-RPC number. */
export const ErrorCodes = {
  // JSON-RPC 2.0's own codes.
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL: -32603,
  // dpns codes, in the JSON-RPC "server error" range.
  FRAME_TOO_LARGE: -32001,
  UNAUTHORIZED: -32002,
  FORBIDDEN: -32003,
  NOT_FOUND: -32004,
  ALREADY_EXISTS: -32005,
  WRONG_KIND: -32006,
  IN_USE: -32007,
  /** The name is held for the owner key that advertised it before it was lost: data.owner, data.until. */
  RESERVED: -32008,
  INVALID_NAME: -32010,
  INVALID_PATTERN: -32011,
  ALIAS_CYCLE: -32012,
  NOT_RUNNING: -32013,
  LIMIT_EXCEEDED: -32014,
  UNAVAILABLE: -32015,
  /**
   * The name server cannot write to its disk now (no space, no file descriptors, an I/O error on
   * a write): the write was not applied. data.cause is the errno. Reads still work; writes resume
   * by themselves once a probe write succeeds.
   */
  STORAGE_UNAVAILABLE: -32016,
  /** A launch or kill did not succeed; data.cause says why: AGENT_UNREACHABLE, AGENT_BAD_RESPONSE, AGENT_UNTRUSTED (no agent enrolled for the host, or another identity answered: nothing was sent), AGENT_<the agent's code>, EXITED_EARLY, START_TIMEOUT, KILLED, KILL_FAILED, INTERNAL. */
  LAUNCH_FAILED: -32020,
  /** An auto-start name advertised without its launch ticket, or a ticket proof that does not check out. */
  TICKET_REFUSED: -32021,
  /** Too many launches asked for too quickly. */
  RATE_LIMITED: -32022,
  /**
   * An external module could not answer: data.cause says why (LOAD_FAILED, BAD_MANIFEST, PREFIX_RESERVED,
   * INIT_FAILED, THREW, BAD_RESULT, OUT_OF_MEMORY, CRASHED, RESTARTED, RESTARTING, FAILED, UNLOADED, TIMEOUT).
   */
  MODULE_FAILED: -32030,
  /** An external module ran past its time limit; its worker was stopped and is being restarted. */
  MODULE_TIMEOUT: -32031,
  /**
   * This server is a backup (or is between primaries) and the request needs the primary:
   * data.primary is the primary's ws:// URL when known, data.role this server's role.
   */
  NOT_PRIMARY: -32040,
  /** The primary cannot reach a majority of the cluster, so it takes no writes (it may have been deposed). */
  NO_QUORUM: -32041,
  /** A membership change while another (or the primary's first record) is not committed yet: nothing was changed; retry once it is. */
  MEMBERSHIP_CHANGE_PENDING: -32042,
  /** The member to add did not catch up with the primary in time (is it running, with --join, reachable?): nothing was changed. */
  MEMBER_NOT_CAUGHT_UP: -32043,
  /** A change the cluster cannot make (removing its last voter, an unknown SID, an address already a member's): nothing was changed. */
  MEMBERSHIP_CHANGE_INVALID: -32044,
} as const;

/** The string name of a wire error code. */
export type ErrorCode = keyof typeof ErrorCodes;

/** Codes a client library raises locally; they never cross the wire. */
export const LocalErrorCodes = {
  CONNECTION_LOST: 'CONNECTION_LOST',
  TIMEOUT: 'TIMEOUT',
  CLOSED: 'CLOSED',
  BAD_RESPONSE: 'BAD_RESPONSE',
} as const;
export type LocalErrorCode = keyof typeof LocalErrorCodes;

const byNumber = new Map<number, ErrorCode>(
  Object.entries(ErrorCodes).map(([name, num]) => [num, name as ErrorCode]),
);

/** The string name for a JSON-RPC error number, or undefined if it is not one of ours. */
export function errorCodeName(num: number): ErrorCode | undefined {
  return byNumber.get(num);
}

/** The `error` member of a JSON-RPC response, as dpns sends it. */
export interface WireError {
  code: number;
  message: string;
  data?: { code: ErrorCode; [key: string]: unknown };
}

/** An error that maps to one wire error: thrown inside handlers, sent as a response. */
export class DpnsError extends Error {
  override readonly name = 'DpnsError';
  readonly code: ErrorCode | LocalErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode | LocalErrorCode,
    message: string,
    options?: { details?: Record<string, unknown>; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  /** The JSON-RPC `error` object for this error. Local codes become INTERNAL. */
  toWire(): WireError {
    const code: ErrorCode = this.code in ErrorCodes ? (this.code as ErrorCode) : 'INTERNAL';
    return { code: ErrorCodes[code], message: this.message, data: { ...this.details, code } };
  }

  /** Rebuilds an error received on the wire. */
  static fromWire(err: WireError): DpnsError {
    const name = (typeof err.data?.code === 'string' && err.data.code in ErrorCodes
      ? err.data.code
      : errorCodeName(err.code)) ?? 'INTERNAL';
    const { code: _ignored, ...details } = err.data ?? { code: name };
    return new DpnsError(name, err.message, { details });
  }
}

/** True when `e` is a DpnsError with the given code. */
export function isDpnsError(e: unknown, code?: ErrorCode | LocalErrorCode): e is DpnsError {
  return e instanceof DpnsError && (code === undefined || e.code === code);
}
