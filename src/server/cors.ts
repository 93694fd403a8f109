/**
 * CORS for a page on another origin than the sync endpoint: preflights (`OPTIONS`) answered for the origins
 * allowed, and every answer to those origins (errors and the live stream too) readable by the page.
 */
import { CheckpointError } from '../errors.js';
import { SyncHttpError } from './http-error.js';

export interface SyncCorsOptions {
  /**
   * The origins whose pages may call the endpoint, as `scheme://host[:port]` (`https://app.example`), or `'*'` for
   * any. Requests from other origins are answered without CORS headers, so their pages cannot read the answers.
   */
  origins: readonly string[] | '*';
  /** How long a browser may reuse a preflight's answer, in seconds. Default 600. */
  maxAgeSeconds?: number;
}

export interface Cors {
  /** The answer to a preflight, or undefined when `request` is not one. */
  preflight(request: Request, methods: readonly string[]): Response | undefined;
  /** `response`, with the headers that let the request's origin read it. */
  expose(request: Request, response: Response): Response;
}

function checkOrigins(origins: unknown): ReadonlySet<string> | '*' {
  if (origins === '*') return '*';
  if (!Array.isArray(origins) || origins.length === 0) {
    throw new CheckpointError('INVALID_CONFIG', "createSyncHandler: cors.origins must be '*' or a non-empty array of origins such as \"https://app.example\".");
  }
  for (const origin of origins) {
    const parsed = typeof origin === 'string' && URL.canParse(origin) ? new URL(origin) : undefined;
    // An origin is exactly what URL.origin gives: no path, no trailing slash, default ports left out.
    if (!parsed || parsed.origin === 'null' || parsed.origin !== origin) {
      throw new CheckpointError('INVALID_CONFIG', `createSyncHandler: cors.origins holds ${JSON.stringify(origin)}, which is not an origin (scheme://host[:port], no path or slash).`);
    }
  }
  return new Set(origins as string[]);
}

export function createCors(options: SyncCorsOptions): Cors {
  const origins = checkOrigins(options?.origins);
  const maxAge = options.maxAgeSeconds ?? 600;
  if (!(Number.isSafeInteger(maxAge) && maxAge >= 0)) {
    throw new CheckpointError('INVALID_CONFIG', `createSyncHandler: cors.maxAgeSeconds must be a whole number of seconds, got ${JSON.stringify(options.maxAgeSeconds)}.`);
  }
  const allowed = (origin: string | null): origin is string => origin !== null && (origins === '*' || origins.has(origin));
  const originHeaders = (origin: string): Record<string, string> =>
    // One origin's answer must not be served to another from a cache: the header varies with Origin.
    origins === '*' ? { 'access-control-allow-origin': '*' } : { 'access-control-allow-origin': origin, vary: 'Origin' };

  return {
    preflight(request, methods) {
      if (request.method !== 'OPTIONS' || !request.headers.has('access-control-request-method')) return undefined;
      const origin = request.headers.get('origin');
      if (!allowed(origin)) {
        const error = new SyncHttpError(403, 'forbidden', `The origin ${JSON.stringify(origin)} may not call this sync endpoint (cors.origins).`);
        return new Response(JSON.stringify(error.toBody()), { status: 403, headers: { 'content-type': 'application/json; charset=utf-8', vary: 'Origin' } });
      }
      const headers: Record<string, string> = {
        ...originHeaders(origin),
        vary: 'Origin, Access-Control-Request-Headers',
        'access-control-allow-methods': [...methods, 'OPTIONS'].join(', '),
        'access-control-max-age': String(maxAge),
      };
      // The page's own headers (a bearer token, say) are the caller's to check in `authenticate`.
      const asked = request.headers.get('access-control-request-headers');
      if (asked) headers['access-control-allow-headers'] = asked;
      return new Response(null, { status: 204, headers });
    },
    expose(request, response) {
      const origin = request.headers.get('origin');
      if (!allowed(origin)) return response;
      for (const [name, value] of Object.entries(originHeaders(origin))) {
        if (name === 'vary') response.headers.append(name, value);
        else response.headers.set(name, value);
      }
      return response;
    },
  };
}
