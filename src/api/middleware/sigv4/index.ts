import type { Context, MiddlewareHandler } from 'hono';
import { verifySigV4, type SecretLookup, type SigV4Request } from '../../../domain/iam/sigv4.ts';

/** What the middleware sets for the routes after it verified the caller. */
export interface SigV4Variables {
  principal: string;
  accessKeyId: string;
  /** The service the request was signed for (its credential scope). */
  signingService: string;
}

export interface SigV4Env {
  Variables: SigV4Variables;
}

export interface SigV4MiddlewareOptions {
  lookupSecret: SecretLookup;
  now: () => number;
  /** The SigV4 service name(s) the credential scope must name, e.g. 'sagemaker'. */
  service?: string | readonly string[];
  /** The server's region, which the credential scope must name; any region when omitted. */
  region?: string;
  maxSkewMs?: number;
}

/**
 * Verifies the AWS Signature Version 4 of every request and records who signed it.
 * A failure is thrown as a DomainError for the service's error handler to render.
 *
 * The whole body is read to check its hash, so a body-size limit must run before
 * this middleware. Hono caches the body: routes can read it again.
 */
export function sigv4<E extends SigV4Env = SigV4Env>(options: SigV4MiddlewareOptions): MiddlewareHandler<E> {
  return async (c, next) => {
    const request: SigV4Request = {
      method: c.req.method,
      ...rawPathAndQuery(c),
      headers: headerRecord(c),
      body: new Uint8Array(await c.req.arrayBuffer()),
    };
    const identity = verifySigV4(request, options.lookupSecret, options.now(), {
      expectedService: options.service,
      expectedRegion: options.region,
      maxSkewMs: options.maxSkewMs,
    });
    c.set('principal', identity.principal);
    c.set('accessKeyId', identity.accessKeyId);
    c.set('signingService', identity.service);
    await next();
  };
}

/**
 * The signature covers the request target exactly as the client sent it. Under
 * @hono/node-server the untouched target is `env.incoming.url`; `c.req.url` has been
 * through WHATWG URL parsing, which re-encodes some characters (`{`, `"`, spaces)
 * and would then sign differently. Elsewhere (app.request in tests, other runtimes)
 * the parsed URL is all there is.
 */
function rawPathAndQuery(c: Context): { path: string; query: string } {
  const incomingUrl = (c.env as { incoming?: { url?: unknown } } | undefined)?.incoming?.url;
  const target = typeof incomingUrl === 'string' && incomingUrl !== '' ? incomingUrl : c.req.url;
  // An absolute-form target (`GET http://host/path HTTP/1.1`) or c.req.url: drop scheme and authority.
  const originForm = target.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/, '');
  const withoutFragment = originForm.split('#', 1)[0]!;
  const questionMark = withoutFragment.indexOf('?');
  if (questionMark === -1) return { path: withoutFragment || '/', query: '' };
  return { path: withoutFragment.slice(0, questionMark) || '/', query: withoutFragment.slice(questionMark + 1) };
}

function headerRecord(c: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    headers[name] = value;
  });
  // HTTP/1.1 always carries Host, but a Request built in-process (or from HTTP/2's
  // :authority) may not list it; the URL's authority is then the host that was addressed.
  if (headers['host'] === undefined) headers['host'] = new URL(c.req.url).host;
  return headers;
}
