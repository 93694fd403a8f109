import { CheckpointError, storageError } from '../errors.js';
import type { Outcome, SerializedCheckpointError } from './protocol.js';

/** A thrown error as it crosses to the page: a `CheckpointError` keeps its code (Comlink would pass a plain Error). */
export function serializeError(thrown: unknown): SerializedCheckpointError {
  const error = thrown instanceof CheckpointError ? thrown : storageError('Worker storage call', thrown);
  const cause = error.cause as { name?: unknown; message?: unknown } | undefined;
  return {
    code: error.code,
    message: error.message,
    ...(cause ? { cause: { name: String(cause.name ?? 'Error'), message: String(cause.message ?? cause) } } : {}),
  };
}

/** Runs `body` in the worker and answers with its value or its error. */
export async function outcomeOf<T>(body: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (thrown) {
    return { ok: false, error: serializeError(thrown) };
  }
}

/** The value of an answer in the page, or its error thrown again as a `CheckpointError`. */
export function valueOf<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { code, message, cause } = outcome.error;
  const original = cause ? Object.assign(new Error(cause.message), { name: cause.name }) : undefined;
  throw new CheckpointError(code, message, original ? { cause: original } : undefined);
}
