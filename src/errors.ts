/**
 * Every failure the savers report is a `CheckpointError`; `code` says which kind, `cause` keeps the original.
 */
export type CheckpointErrorCode =
  /** A config or argument is missing a key or has the wrong type; the message names it. */
  | 'INVALID_CONFIG'
  /** The checkpoint an operation refers to does not exist. */
  | 'NOT_FOUND'
  /** The serializer could not encode a value. */
  | 'SERIALIZE'
  /** A stored value could not be decoded (corrupt record, unknown type tag). */
  | 'DESERIALIZE'
  /** IndexedDB failed a request or transaction. */
  | 'STORAGE'
  /** The browser refused to store more data. */
  | 'QUOTA'
  /** The database could not be opened at this schema version, or is not ours. */
  | 'MIGRATION'
  /** IndexedDB does not exist in this context, or the sync server cannot be reached (sync retries). */
  | 'UNAVAILABLE'
  /** The sync server refused a request (not retried); the message gives its status, code and reason. */
  | 'SYNC'
  /** The saver was closed; create a new one to keep going. */
  | 'CLOSED'
  /** An encrypted record could not be opened: no key was given, or not the key it was written with. */
  | 'DECRYPT';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  readonly code: CheckpointErrorCode;

  constructor(code: CheckpointErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  static is(value: unknown, code?: CheckpointErrorCode): value is CheckpointError {
    return value instanceof CheckpointError && (code === undefined || value.code === code);
  }
}

function isQuotaError(error: unknown): boolean {
  if (!(error instanceof Error) && !(typeof DOMException !== 'undefined' && error instanceof DOMException)) return false;
  const named = error as { name?: string; inner?: unknown; cause?: unknown };
  if (named.name === 'QuotaExceededError') return true;
  // Chromium may report a quota failure as an AbortError whose inner error carries the real reason.
  return named.inner !== undefined ? isQuotaError(named.inner) : false;
}

/** Wraps whatever IndexedDB threw into a `CheckpointError`, keeping typed errors as they are. */
export function storageError(action: string, error: unknown): CheckpointError {
  if (error instanceof CheckpointError) return error;
  const reason = error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
    ? `${(error as { name?: string }).name ?? 'Error'}: ${(error as { message: string }).message}`
    : String(error);
  if (isQuotaError(error)) {
    return new CheckpointError('QUOTA', `${action} failed: the browser's storage quota is exhausted (${reason}). Nothing of this call was written.`, { cause: error });
  }
  return new CheckpointError('STORAGE', `${action} failed in IndexedDB (${reason}).`, { cause: error });
}

/** The error of every call made after `close()`. */
export function closedError(dbName: string): CheckpointError {
  return new CheckpointError('CLOSED', `The saver on IndexedDB database "${dbName}" was closed; create a new one.`);
}
