import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';

/**
 * The canonical request of AWS Signature Version 4, as the AWS SDKs build it for
 * every service except S3, and the signing key derivation.
 */

/** The last element of every SigV4 credential scope. */
export const SCOPE_TERMINATOR = 'aws4_request';

/** Which of the two SigV4 forms signed the request. */
export type SignatureForm = 'header' | 'presigned';

export interface QueryParam {
  /** Name and value re-encoded the SigV4 way, as they enter the canonical query. */
  encodedName: string;
  encodedValue: string;
  name: string;
  value: string;
}

/**
 * Normalise the path as the SDKs do before signing (drop empty and '.' segments,
 * resolve '..', keep a trailing slash), then URI-encode the already-encoded path
 * again: non-S3 services sign `%20` as `%2520`.
 */
export function canonicalPath(rawPath: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const leading = path.startsWith('/') ? '/' : '';
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return leading + segments.map((segment) => uriEncode(segment)).join('/') + trailing;
}

/**
 * Each name and value is decoded and encoded again the SigV4 way, so `%7e`, `~`
 * and `%7E` all sign alike; '+' is a space, as the router reads it. Sorted by
 * encoded name, then encoded value. The signature itself is never signed.
 */
export function canonicalQuery(query: QueryParam[], form: SignatureForm): string {
  return query
    .filter((param) => !(form === 'presigned' && param.name.toLowerCase() === 'x-amz-signature'))
    .sort((a, b) => compare(a.encodedName, b.encodedName) || compare(a.encodedValue, b.encodedValue))
    .map((param) => `${param.encodedName}=${param.encodedValue}`)
    .join('&');
}

export function canonicalHeaderLines(signedHeaders: string[], headers: Record<string, string>): string {
  const lines = signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headers[name]!)}`);
  return lines.join('\n') + '\n';
}

/** What canonicalHeaderValue would change; most values have none of it, and one test is cheaper than three replaces. */
const NOT_CANONICAL = /[\r\n\t]| {2}|^ | $/;

/** Trim, and collapse runs of spaces and tabs to one space, as the SDKs do. */
export function canonicalHeaderValue(value: string): string {
  if (!NOT_CANONICAL.test(value)) return value;
  return value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

export function parseQuery(raw: string): QueryParam[] {
  const params: QueryParam[] = [];
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const nameBytes = percentDecode(equals === -1 ? pair : pair.slice(0, equals));
    const valueBytes = percentDecode(equals === -1 ? '' : pair.slice(equals + 1));
    params.push({
      encodedName: uriEncodeBytes(nameBytes),
      encodedValue: uriEncodeBytes(valueBytes),
      name: utf8Decoder.decode(nameBytes),
      value: utf8Decoder.decode(valueBytes),
    });
  }
  return params;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Bytes of a query component: %XX escapes decoded, '+' as space, a stray '%' kept literally. */
export function percentDecode(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (char === '+') {
      bytes.push(0x20);
    } else {
      // A whole code point, so a surrogate pair encodes as one UTF-8 sequence.
      const codePoint = text.codePointAt(i)!;
      const whole = String.fromCodePoint(codePoint);
      for (const byte of utf8Encoder.encode(whole)) bytes.push(byte);
      i += whole.length - 1;
    }
  }
  return Uint8Array.from(bytes);
}

/** RFC 3986 encoding as SigV4 specifies it: everything but A-Z a-z 0-9 - _ . ~ as %XX. */
export function uriEncode(text: string): string {
  return uriEncodeBytes(utf8Encoder.encode(text));
}

export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    const unreserved =
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d ||
      byte === 0x5f ||
      byte === 0x2e ||
      byte === 0x7e;
    out += unreserved ? String.fromCharCode(byte) : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Code-unit order, which for ASCII is the byte order SigV4 sorts by. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Keys and hashes

/** crypto.hash (Node 20.12 and later) digests in one call, without a Hash object: about twice as fast on request-sized input. */
const oneShotHash: typeof nodeCrypto.hash | undefined = nodeCrypto.hash;

export function sha256Hex(data: string | Uint8Array): string {
  return oneShotHash !== undefined ? oneShotHash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, 'utf8');
  for (const part of [date, region, service, SCOPE_TERMINATOR]) {
    key = createHmac('sha256', key).update(part, 'utf8').digest();
  }
  return key;
}

/**
 * Deriving a key costs four HMACs and changes once a day per key, region and service,
 * so recent keys are kept. Bounded, least recently used evicted first; a Map keeps
 * insertion order, and a hit is moved to the end.
 */
export class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();

  constructor(readonly capacity: number) {}

  get(secretAccessKey: string, date: string, region: string, service: string): Buffer {
    // '\n' cannot occur in a date, and region and service come from a '/'-split scope.
    const cacheKey = `${date}\n${region}\n${service}\n${secretAccessKey}`;
    const hit = this.keys.get(cacheKey);
    if (hit) {
      this.keys.delete(cacheKey);
      this.keys.set(cacheKey, hit);
      return hit;
    }
    const key = deriveSigningKey(secretAccessKey, date, region, service);
    this.keys.set(cacheKey, key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value!);
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}
