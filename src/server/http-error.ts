import type { SyncErrorBody, SyncErrorCode } from '../wire/protocol.js';

/** A request the server refuses, with the status and the reason the client gets. */
export class SyncHttpError extends Error {
  override readonly name = 'SyncHttpError';

  constructor(
    readonly status: number,
    readonly code: SyncErrorCode,
    message: string,
  ) {
    super(message);
  }

  toBody(): SyncErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export function badRequest(message: string): SyncHttpError {
  return new SyncHttpError(400, 'invalid_request', message);
}
