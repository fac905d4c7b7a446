import { promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { checkUrl, describeAddressRefusal, type UrlFetchPolicy } from '../../domain/serving/url-policy.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface SafeFetchDeps {
  /** Resolves a host name to all its addresses (default: the system resolver). */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
}

export interface SafeFetchResult {
  bytes: Uint8Array;
  contentType: string | undefined;
  finalUrl: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * GET a URL a caller supplied, without letting it reach what the policy refuses.
 *
 * Every hop is checked statically (checkUrl), then its host is resolved once and
 * every address checked; the connection is made with a lookup that answers only
 * those checked addresses, so there is no second resolution for DNS rebinding to
 * exploit. Redirects are followed by hand, each re-checked. The body is counted
 * while it streams and the whole fetch runs under one deadline.
 */
export async function safeFetch(url: string, policy: UrlFetchPolicy, deps: SafeFetchDeps = {}): Promise<SafeFetchResult> {
  const lookup = deps.lookup ?? systemLookup;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), policy.timeoutMs);
  let host = hostLabel(url);
  try {
    let current = url;
    for (let redirects = 0; ; redirects++) {
      const target = checkHop(current, policy, redirects > 0 ? host : undefined);
      host = hostLabel(target.href);
      const addresses = await untilAborted(resolveChecked(target, policy, lookup), deadline.signal);
      const outcome = await get(target, addresses, policy, deadline.signal);
      if (outcome.kind === 'body') {
        return { bytes: outcome.bytes, contentType: outcome.contentType, finalUrl: target.href };
      }
      if (redirects >= policy.maxRedirects) {
        throw failed(host, `it redirected more than ${policy.maxRedirects} times`);
      }
      current = resolveLocation(outcome.location, target, host);
    }
  } catch (error) {
    if (isDomainError(error)) throw error;
    if (deadline.signal.aborted) {
      throw failed(host, `no complete answer within ${policy.timeoutMs} ms`, { timeoutMs: policy.timeoutMs });
    }
    throw failed(host, describeNetworkError(error));
  } finally {
    clearTimeout(timer);
  }
}

/** A refused redirect says so: the caller's URL was fine, where it led was not. */
function checkHop(url: string, policy: UrlFetchPolicy, redirectedFrom: string | undefined): URL {
  try {
    return checkUrl(url, policy);
  } catch (error) {
    if (redirectedFrom !== undefined && isDomainError(error) && error.code === 'UrlRefused') {
      throw new DomainError('UrlRefused', `${redirectedFrom} redirected to a URL that is refused: ${error.message}`, {
        ...error.details,
        redirectedFrom,
      });
    }
    throw error;
  }
}

async function resolveChecked(
  target: URL,
  policy: UrlFetchPolicy,
  lookup: (hostname: string) => Promise<ResolvedAddress[]>,
): Promise<ResolvedAddress[]> {
  const hostname = bareHostname(target);
  const literalFamily = isIP(hostname);
  // checkUrl has already judged a literal address.
  if (literalFamily !== 0) return [{ address: hostname, family: literalFamily }];

  let addresses: ResolvedAddress[];
  try {
    addresses = await lookup(hostname);
  } catch {
    throw failed(hostname, 'the host name could not be resolved');
  }
  if (addresses.length === 0) throw failed(hostname, 'the host name has no addresses');
  // Every address, not just the first: the connection may try any of them.
  for (const { address } of addresses) {
    const reason = describeAddressRefusal(address, policy);
    if (reason) {
      throw new DomainError(
        'UrlRefused',
        `Refusing to fetch from ${hostname}: it resolves to ${reason}. Fetching private, loopback and link-local addresses is refused unless the server allows the range in allowPrivateCidrs.`,
        { host: hostname },
      );
    }
  }
  return addresses;
}

type Outcome =
  | { kind: 'body'; bytes: Uint8Array; contentType: string | undefined }
  | { kind: 'redirect'; location: string };

function get(target: URL, addresses: ResolvedAddress[], policy: UrlFetchPolicy, signal: AbortSignal): Promise<Outcome> {
  const host = hostLabel(target.href);
  // Node asks for every address when it may race IPv4 and IPv6 (autoSelectFamily).
  const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };

  return new Promise<Outcome>((resolve, reject) => {
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request({
      protocol: target.protocol,
      hostname: bareHostname(target),
      port: target.port === '' ? undefined : Number(target.port),
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: { accept: 'image/*, */*;q=0.5', 'accept-encoding': 'identity', 'user-agent': 'kennel-url-fetch' },
      // A fresh connection per hop: a pooled socket would skip the pinned lookup.
      agent: false,
      lookup: pinnedLookup,
      signal,
    });

    // Defence in depth: whatever Node connected to must itself pass the policy.
    request.on('socket', (socket) => {
      socket.once('connect', () => {
        const remote = socket.remoteAddress;
        if (remote === undefined || describeAddressRefusal(remote, policy) !== undefined) {
          request.destroy();
          reject(new DomainError('UrlRefused', `Refusing to fetch from ${host}: the connection reached an address the policy refuses.`, { host }));
        }
      });
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (REDIRECT_STATUSES.has(status)) {
        response.destroy();
        const location = response.headers.location;
        if (location === undefined || location === '') reject(failed(host, `it answered HTTP ${status} without a Location`, { status }));
        else resolve({ kind: 'redirect', location });
        return;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        reject(failed(host, `it answered HTTP ${status}`, { status }));
        return;
      }
      const tooLarge = () =>
        failed(host, `the response is larger than the limit of ${formatBytes(policy.maxBytes)}`, {
          maxBytes: policy.maxBytes,
        });
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxBytes) {
        response.destroy();
        reject(tooLarge());
        return;
      }

      const chunks: Buffer[] = [];
      let received = 0;
      let ended = false;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > policy.maxBytes) {
          response.destroy();
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        ended = true;
        resolve({ kind: 'body', bytes: Buffer.concat(chunks, received), contentType: response.headers['content-type'] });
      });
      response.on('error', reject);
      response.on('close', () => {
        if (!ended) reject(failed(host, 'the connection closed before the whole body arrived'));
      });
    });
    request.end();
  });
}

function resolveLocation(location: string, base: URL, host: string): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw failed(host, 'it redirected to an invalid Location');
  }
}

/** Rejects when the deadline passes, for steps (DNS) that cannot be cancelled themselves. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

async function systemLookup(hostname: string): Promise<ResolvedAddress[]> {
  return dns.lookup(hostname, { all: true, verbatim: true });
}

/** Node error codes in words: the caller learns what went wrong, not our internals. */
function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return 'the connection failed';
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was reset';
  if (['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return 'the host could not be reached';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return 'its TLS certificate could not be verified';
  if (code.startsWith('ERR_SSL') || code === 'EPROTO') return 'the TLS handshake failed';
  if (code.startsWith('HPE_')) return 'it sent a malformed HTTP response';
  return 'the connection failed';
}

function failed(host: string, reason: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('UrlFetchFailed', `Could not fetch the image from ${host}: ${reason}.`, { host, ...details });
}

/** host[:port] of a URL for messages, or a placeholder when it does not parse. */
function hostLabel(url: string): string {
  try {
    return new URL(url).host || 'the given URL';
  } catch {
    return 'the given URL';
  }
}

function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function formatBytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1 ? `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB (${bytes} bytes)` : `${bytes} bytes`;
}
