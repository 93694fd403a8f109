/**
 * HTTP to the sync endpoints (docs/sync-protocol.md): the caller's headers (resolved again once after a 401, since
 * tokens expire), JSON bodies, and failures sorted into what is retried (`UNAVAILABLE`: the network, 5xx, 408,
 * 429) and what is not (`SYNC`: the server refused).
 */
import { CheckpointError } from '../errors.js';
import type { SyncErrorBody } from '../wire/protocol.js';

/** Headers for every request, or a function that gives them (called again after a 401). */
export type SyncHeaders = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** Statuses that say "try again later". */
const RETRIED = new Set([408, 425, 429, 500, 502, 503, 504]);

export function isRetried(error: unknown): boolean {
  return CheckpointError.is(error, 'UNAVAILABLE');
}

async function refusal(endpoint: string, response: Response): Promise<CheckpointError> {
  let reason = '';
  try {
    const body = (await response.json()) as Partial<SyncErrorBody>;
    if (body.error && typeof body.error.message === 'string') reason = ` (${String(body.error.code)}): ${body.error.message}`;
  } catch {
    // Not our JSON: a proxy's page. The status says enough.
  }
  const message = `The sync server answered ${response.status} to ${endpoint}${reason}`;
  if (RETRIED.has(response.status)) return new CheckpointError('UNAVAILABLE', `${message}; retrying later.`);
  return new CheckpointError('SYNC', `${message}.`);
}

export class SyncTransport {
  readonly #base: string;
  readonly #headers: SyncHeaders | undefined;
  #resolved: Promise<Headers> | undefined;

  constructor(url: string, headers: SyncHeaders | undefined) {
    this.#base = url.replace(/\/+$/, '');
    this.#headers = headers;
  }

  #resolve(refresh: boolean): Promise<Headers> {
    if (refresh || !this.#resolved) {
      const source = this.#headers;
      const resolving = (async () => new Headers(typeof source === 'function' ? await source() : source))();
      // A failing function is tried again on the next request.
      resolving.catch(() => {
        if (this.#resolved === resolving) this.#resolved = undefined;
      });
      this.#resolved = resolving;
    }
    return this.#resolved;
  }

  /** Sends a request; on 401 resolves the headers again and sends it once more. */
  async #send(endpoint: string, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
    for (let attempt = 0; ; attempt += 1) {
      let headers: Headers;
      try {
        headers = await this.#resolve(attempt > 0);
      } catch (error) {
        throw new CheckpointError('SYNC', `The sync headers function failed: ${String((error as Error)?.message ?? error)}`, { cause: error });
      }
      if (init.body !== undefined) headers.set('content-type', 'application/json');
      let response: Response;
      try {
        response = await fetch(`${this.#base}/${endpoint}`, { ...init, headers, cache: 'no-store' });
      } catch (error) {
        if (init.signal.aborted) throw error;
        throw new CheckpointError('UNAVAILABLE', `The sync server could not be reached for ${endpoint} (${String((error as Error)?.message ?? error)}); retrying later.`, { cause: error });
      }
      if (response.status === 401 && attempt === 0 && typeof this.#headers === 'function') {
        await response.body?.cancel().catch(() => undefined);
        continue;
      }
      if (!response.ok) throw await refusal(endpoint, response);
      return response;
    }
  }

  /** POSTs JSON to `{base}/{endpoint}` and resolves with the answer's JSON. */
  async post(endpoint: 'push' | 'pull', body: unknown, signal: AbortSignal): Promise<unknown> {
    const response = await this.#send(endpoint, { method: 'POST', body: JSON.stringify(body), signal });
    try {
      return await response.json();
    } catch (error) {
      if (signal.aborted) throw error;
      // Cut off while reading: the request may have been done, which is harmless to repeat.
      throw new CheckpointError('UNAVAILABLE', `The answer of the sync server to ${endpoint} was cut off; retrying later.`, { cause: error });
    }
  }

  /** Opens `GET {base}/live`: the response, whose body is the event stream. */
  live(signal: AbortSignal): Promise<Response> {
    return this.#send('live', { method: 'GET', signal });
  }

  /** The caller's headers are to be resolved again before the next request (the live stream said unauthorized). */
  expireHeaders(): void {
    if (typeof this.#headers === 'function') this.#resolved = undefined;
  }
}
