// The errors the client raises itself (never received on the wire), built in one place so
// their codes and wording stay consistent.
import { DpnsError } from '@dpns/protocol';

/** The client was closed before the request settled. */
export function closedError(method?: string): DpnsError {
  return new DpnsError('CLOSED', method === undefined ? 'the client is closed' : `the client was closed before ${method} was answered`);
}

/** A write was in flight when the connection dropped: it may or may not have been applied. */
export function lostInFlight(method: string, server: string, cause?: unknown): DpnsError {
  return new DpnsError(
    'CONNECTION_LOST',
    `connection to ${server} lost before ${method} was answered; it may or may not have been applied`,
    { cause },
  );
}

/**
 * No answer in time. `sentWrite`: a write that went out at least once, so whether it was applied
 * is unknown; `lastDial`: why no server could be used, when none was.
 */
export function timeoutError(method: string, ms: number, o: { connected: boolean; sentWrite?: boolean; lastDial?: DpnsError | undefined }): DpnsError {
  const why = o.connected
    ? `no answer to ${method} within ${ms} ms`
    : `no name server reachable within ${ms} ms for ${method}${o.lastDial === undefined ? '' : ` (${o.lastDial.message})`}`;
  const unknown = o.sentWrite === true ? '; it may or may not have been applied' : '';
  return new DpnsError('TIMEOUT', why + unknown, { details: { method, timeoutMs: ms } });
}

/** The client left a server that answered NOT_PRIMARY; what the `disconnect` event reports. */
export function notPrimaryLost(server: string, cause: DpnsError): DpnsError {
  const role = typeof cause.details?.role === 'string' ? ` (${cause.details.role})` : '';
  return new DpnsError('CONNECTION_LOST', `left ${server}${role}: it is not the primary`, { cause });
}

export function badResponse(what: string, cause?: unknown): DpnsError {
  return new DpnsError('BAD_RESPONSE', what, { cause });
}

/** A short reason for a failed dial: the errno code when there is one ("ECONNREFUSED"). */
export function dialReason(err: unknown): string {
  if (err instanceof DpnsError) return err.message;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    // AggregateError from a dual-stack connect ("localhost") carries the codes inside.
    if (err instanceof AggregateError) {
      const codes = err.errors.map(dialReason);
      return [...new Set(codes)].join('/');
    }
    return err.message;
  }
  return String(err);
}
