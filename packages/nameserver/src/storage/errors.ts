// The one error class of the storage layer; callers branch on `code`, never on the message.

/** Why a storage operation was refused. */
export type StorageErrorCode =
  /** The data on disk cannot be trusted; an operator must act before the store can open. */
  | 'CORRUPT'
  /** A file operation failed outside the write path (open, read, snapshot); the store may still work. */
  | 'IO'
  /** Another live process owns the data directory. */
  | 'LOCKED'
  /** A WAL fsync failed earlier; nothing more is accepted until the process restarts. */
  | 'FAILED'
  /**
   * A WAL write or file open failed for want of a resource (disk space, file descriptors) or with
   * EIO before anything was acknowledged: appends are refused until a probe write succeeds.
   */
  | 'UNAVAILABLE'
  /** The store was closed. */
  | 'CLOSED';

/** An error raised by the storage layer. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  /** For UNAVAILABLE: the errno that made the store stop taking writes (ENOSPC, EMFILE, ...). */
  readonly errno: string | undefined;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown; errno?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = options?.errno;
  }
}

/** `err` as a StorageError: kept as is if it already is one, otherwise wrapped with `code`. */
export function asStorageError(err: unknown, code: StorageErrorCode, message: string): StorageError {
  if (err instanceof StorageError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError(code, `${message}: ${detail}`, { cause: err });
}
