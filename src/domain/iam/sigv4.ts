import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../core/errors.ts';
import {
  canonicalHeaderLines,
  canonicalPath,
  canonicalQuery,
  parseQuery,
  sha256Hex,
  SCOPE_TERMINATOR,
  SigningKeyCache,
  type QueryParam,
  type SignatureForm,
} from './sigv4-canonical.ts';

/**
 * AWS Signature Version 4 verification, for the header form (`Authorization:
 * AWS4-HMAC-SHA256 ...`) and the presigned-URL form (`X-Amz-Signature=...` in the
 * query). The canonical request is built the way the AWS SDKs build it for every
 * service except S3 (paths normalised and URI-encoded a second time), so requests
 * from boto3, the JS SDK v3, the CLI and `curl --aws-sigv4` verify unchanged.
 */

/** The request as it arrived: path and query still percent-encoded, header names lower case. */
export interface SigV4Request {
  method: string;
  /** Raw path, as received (percent-encoded, not decoded). */
  path: string;
  /** Raw query string without the leading '?'. */
  query: string;
  /** Lower-case header names; several values of one header joined by ','. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * What the key store knows about an access key. Temporary credentials carry a
 * session token that must accompany every request, and expire.
 */
export interface SigV4Credential {
  secretAccessKey: string;
  principal: string;
  sessionToken?: string;
  expiresAtMs?: number;
}

export type SecretLookup = (accessKeyId: string) => SigV4Credential | undefined;

export interface SigV4Options {
  /** Services the credential scope may name; any service when omitted. */
  expectedService?: string | readonly string[];
  /** The region the credential scope must name, e.g. the server's own; any region when omitted. */
  expectedRegion?: string;
  /** Largest accepted difference between the signing time and now (default 15 minutes). */
  maxSkewMs?: number;
}

export interface SigV4Identity {
  accessKeyId: string;
  principal: string;
  region: string;
  service: string;
}

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
/** AWS caps presigned URLs at one week. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';

/** A signature, and everything needed to recompute it, read from either form. */
interface ParsedSignature {
  form: SignatureForm;
  accessKeyId: string;
  scope: CredentialScope;
  signedHeaders: string[];
  /** The same names, for the membership checks. */
  signedHeaderSet: ReadonlySet<string>;
  signature: string;
  amzDate: string;
  signedAtMs: number;
  /** The header that dated a header-form request; it must be signed, or a replay could re-date it. */
  dateHeader?: 'x-amz-date' | 'date';
  /** Presigned form only. */
  expiresSeconds?: number;
  sessionToken?: string;
}

interface CredentialScope {
  date: string;
  region: string;
  service: string;
  /** `date/region/service/aws4_request`, exactly as it enters the string to sign. */
  text: string;
}

export function verifySigV4(
  request: SigV4Request,
  lookupSecret: SecretLookup,
  nowMs: number,
  options: SigV4Options = {},
): SigV4Identity {
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const query = parseQuery(request.query);
  const parsed = parseSignature(request, query);

  checkRegion(parsed.scope, options.expectedRegion);
  checkService(parsed.scope, options.expectedService);
  checkTime(parsed, nowMs, maxSkewMs);

  const credential = lookupSecret(parsed.accessKeyId);
  if (!credential) {
    throw new DomainError('UnrecognizedClient', INVALID_TOKEN, { accessKeyId: parsed.accessKeyId });
  }
  checkSessionToken(parsed.sessionToken, credential, nowMs);
  checkSignedHeaderSet(parsed, request.headers);

  const payloadHash = signedPayloadHash(parsed, request, query);
  const canonicalRequest = [
    request.method,
    canonicalPath(request.path),
    canonicalQuery(query, parsed.form),
    canonicalHeaderLines(parsed.signedHeaders, request.headers),
    parsed.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = [SIGV4_ALGORITHM, parsed.amzDate, parsed.scope.text, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = signingKeys.get(
    credential.secretAccessKey,
    parsed.scope.date,
    parsed.scope.region,
    parsed.scope.service,
  );
  const expected = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');

  // Both are 64 lower-case hex characters (checked when parsing), so the lengths match.
  if (!timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(parsed.signature, 'latin1'))) {
    // AWS returns the canonical request and string to sign so a client author can see
    // which part differs; neither contains secret material.
    throw new DomainError('InvalidSignature', SIGNATURE_MISMATCH, { canonicalRequest, stringToSign });
  }

  return {
    accessKeyId: parsed.accessKeyId,
    principal: credential.principal,
    region: parsed.scope.region,
    service: parsed.scope.service,
  };
}

// ---------------------------------------------------------------------------
// Reading the signature from the request

const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature'];

function parseSignature(request: SigV4Request, query: QueryParam[]): ParsedSignature {
  const authorization = request.headers['authorization'];
  const presigned = query.some((param) => PRESIGN_PARAMS.includes(param.name));

  if (authorization !== undefined && presigned) {
    throw malformed(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
      'AuthMechanism',
    );
  }
  if (authorization !== undefined) return parseHeaderForm(authorization, request.headers);
  if (presigned) return parsePresignedForm(query);
  throw new DomainError(
    'MissingAuthenticationToken',
    'Missing Authentication Token: sign the request with AWS Signature Version 4 (an Authorization header or a presigned URL).',
  );
}

function parseHeaderForm(authorization: string, headers: Record<string, string>): ParsedSignature {
  const trimmed = authorization.trim();
  const space = trimmed.search(/\s/);
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) {
    throw malformed(
      `Unsupported Authorization algorithm '${truncate(algorithm)}': Kennel accepts only ${SIGV4_ALGORITHM}.`,
      'Algorithm',
    );
  }
  const components = parseAuthorizationComponents(space === -1 ? '' : trimmed.slice(space + 1));
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !components.has(name));
  if (missing.length > 0) {
    throw malformed(
      missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' '),
      missing[0],
    );
  }

  const { signedHeaders, signedHeaderSet } = parseSignedHeaders(components.get('SignedHeaders')!);
  const signature = parseSignatureHex(components.get('Signature')!);
  const { amzDate, signedAtMs, dateHeader } = readHeaderDate(headers);
  const { accessKeyId, scope } = parseCredential(components.get('Credential')!, amzDate);
  return {
    form: 'header',
    accessKeyId,
    scope,
    signedHeaders,
    signedHeaderSet,
    signature,
    amzDate,
    signedAtMs,
    dateHeader,
    sessionToken: headers['x-amz-security-token'],
  };
}

/** `Credential=..., SignedHeaders=..., Signature=...`; AWS accepts ',' with or without spaces. */
function parseAuthorizationComponents(text: string): Map<string, string> {
  const components = new Map<string, string>();
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    if (equals <= 0) {
      throw malformed(
        `Authorization header component '${truncate(item)}' is not of the form Name=value.`,
        'Authorization',
      );
    }
    const name = item.slice(0, equals);
    if (!['Credential', 'SignedHeaders', 'Signature'].includes(name)) {
      throw malformed(
        `Authorization header has an unknown component '${truncate(name)}'; expected Credential, SignedHeaders and Signature.`,
        name,
      );
    }
    if (components.has(name)) {
      throw malformed(`Authorization header has '${name}' more than once.`, name);
    }
    components.set(name, item.slice(equals + 1));
  }
  return components;
}

function parsePresignedForm(query: QueryParam[]): ParsedSignature {
  const param = (name: string): string | undefined => {
    const matches = query.filter((p) => p.name === name);
    if (matches.length > 1) throw malformed(`Query parameter ${name} appears more than once.`, name);
    return matches[0]?.value;
  };
  const required = (name: string): string => {
    const value = param(name);
    if (value === undefined || value === '') {
      throw malformed(`A presigned URL requires the ${name} query parameter.`, name);
    }
    return value;
  };

  const algorithm = required('X-Amz-Algorithm');
  if (algorithm !== SIGV4_ALGORITHM) {
    throw malformed(
      `Unsupported X-Amz-Algorithm '${truncate(algorithm)}': Kennel accepts only ${SIGV4_ALGORITHM}.`,
      'X-Amz-Algorithm',
    );
  }
  const credentialText = required('X-Amz-Credential');
  const amzDate = required('X-Amz-Date');
  const signedAtMs = parseAmzDate(amzDate, 'X-Amz-Date');
  const expiresText = required('X-Amz-Expires');
  if (!/^\d{1,7}$/.test(expiresText) || Number(expiresText) < 1) {
    throw malformed(
      `X-Amz-Expires must be a whole number of seconds between 1 and ${MAX_PRESIGNED_EXPIRES_SECONDS}; got '${truncate(expiresText)}'.`,
      'X-Amz-Expires',
    );
  }
  const expiresSeconds = Number(expiresText);
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw malformed(
      `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}; got ${expiresSeconds}.`,
      'X-Amz-Expires',
    );
  }
  const { accessKeyId, scope } = parseCredential(credentialText, amzDate);
  return {
    form: 'presigned',
    accessKeyId,
    scope,
    ...parseSignedHeaders(required('X-Amz-SignedHeaders')),
    signature: parseSignatureHex(required('X-Amz-Signature')),
    amzDate,
    signedAtMs,
    expiresSeconds,
    sessionToken: param('X-Amz-Security-Token'),
  };
}

/** `AKID/20240101/us-east-1/sagemaker/aws4_request` */
function parseCredential(text: string, amzDate: string): { accessKeyId: string; scope: CredentialScope } {
  const parts = text.split('/');
  if (parts.length !== 5) {
    throw malformed(
      `Credential '${truncate(text)}' is malformed: expected <AccessKeyId>/<YYYYMMDD>/<region>/<service>/${SCOPE_TERMINATOR}.`,
      'Credential',
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (accessKeyId === '') throw malformed('Credential has an empty access key id.', 'Credential');
  if (!/^\d{8}$/.test(date)) {
    throw malformed(`Credential scope date '${truncate(date)}' is not of the form YYYYMMDD.`, 'Credential');
  }
  if (region === '') throw malformed('Credential should be scoped to a valid region.', 'Credential');
  if (service === '') throw malformed('Credential should be scoped to a valid service.', 'Credential');
  if (terminator !== SCOPE_TERMINATOR) {
    throw malformed(
      `Credential should be scoped with a valid terminator: '${SCOPE_TERMINATOR}', not '${truncate(terminator)}'.`,
      'Credential',
    );
  }
  if (date !== amzDate.slice(0, 8)) {
    throw new DomainError(
      'InvalidSignature',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      { part: 'Credential' },
    );
  }
  return { accessKeyId, scope: { date, region, service, text: parts.slice(1).join('/') } };
}

/** Lower-case header names (RFC 9110 tokens), none empty, separated by ';'. */
const SIGNED_HEADERS = /^[!#$%&'*+.^_`|~0-9a-z-]+(?:;[!#$%&'*+.^_`|~0-9a-z-]+)*$/;

function parseSignedHeaders(text: string): { signedHeaders: string[]; signedHeaderSet: ReadonlySet<string> } {
  if (!SIGNED_HEADERS.test(text)) {
    throw malformed(
      `SignedHeaders '${truncate(text)}' is malformed: expected lower-case header names separated by ';'.`,
      'SignedHeaders',
    );
  }
  const signedHeaders = text.split(';');
  const signedHeaderSet = new Set(signedHeaders);
  if (signedHeaderSet.size !== signedHeaders.length) {
    throw malformed(`SignedHeaders '${truncate(text)}' lists a header more than once.`, 'SignedHeaders');
  }
  return { signedHeaders, signedHeaderSet };
}

function parseSignatureHex(text: string): string {
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw malformed('Signature must be 64 lower-case hexadecimal characters.', 'Signature');
  }
  return text;
}

/** The header form is dated by X-Amz-Date, or by the HTTP Date header when that is absent. */
function readHeaderDate(headers: Record<string, string>): {
  amzDate: string;
  signedAtMs: number;
  dateHeader: 'x-amz-date' | 'date';
} {
  const amzDate = headers['x-amz-date'];
  if (amzDate !== undefined) {
    return { amzDate, signedAtMs: parseAmzDate(amzDate, 'X-Amz-Date'), dateHeader: 'x-amz-date' };
  }
  const httpDate = headers['date'];
  if (httpDate !== undefined) {
    const signedAtMs = parseHttpDate(httpDate);
    return { amzDate: formatAmzDate(signedAtMs), signedAtMs, dateHeader: 'date' };
  }
  throw new DomainError(
    'InvalidSignature',
    'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.',
    { part: 'Date' },
  );
}

function parseAmzDate(text: string, field: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  const ms = match ? utcMs(+match[1]!, +match[2]!, +match[3]!, +match[4]!, +match[5]!, +match[6]!) : undefined;
  if (ms === undefined) {
    throw malformed(`${field} '${truncate(text)}' is not an ISO 8601 basic timestamp like 20240101T120000Z.`, field);
  }
  return ms;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form HTTP senders may generate. */
function parseHttpDate(text: string): number {
  const match = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(text.trim());
  const month = match ? MONTHS.indexOf(match[2]!) + 1 : 0;
  const ms = match && month > 0 ? utcMs(+match[3]!, month, +match[1]!, +match[4]!, +match[5]!, +match[6]!) : undefined;
  if (ms === undefined) {
    throw malformed(`Date header '${truncate(text)}' is not an HTTP date like 'Sun, 06 Nov 1994 08:49:37 GMT'.`, 'Date');
  }
  return ms;
}

/** Epoch ms of a calendar time, or undefined when a field is out of range (e.g. 20240231). */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  const exact =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second;
  return exact ? ms : undefined;
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// ---------------------------------------------------------------------------
// Checks that need no secret

/** AWS's wording and error type (403 InvalidSignatureException / SignatureDoesNotMatch), plus the fix. */
function checkRegion(scope: CredentialScope, expected: string | undefined): void {
  if (expected === undefined || scope.region === expected) return;
  throw new DomainError(
    'InvalidSignature',
    `Credential should be scoped to a valid region, not '${truncate(scope.region)}'. This server's region is '${expected}': sign the request for that region.`,
    { part: 'Credential' },
  );
}

function checkService(scope: CredentialScope, expected: string | readonly string[] | undefined): void {
  if (expected === undefined) return;
  const services = typeof expected === 'string' ? [expected] : expected;
  if (!services.includes(scope.service)) {
    throw new DomainError(
      'InvalidSignature',
      `Credential should be scoped to correct service: '${services.join("' or '")}'; the request was signed for '${truncate(scope.service)}'.`,
      { part: 'Credential' },
    );
  }
}

function checkTime(parsed: ParsedSignature, nowMs: number, maxSkewMs: number): void {
  const skew = describeDuration(maxSkewMs);
  if (parsed.form === 'presigned') {
    const expiresAtMs = parsed.signedAtMs + parsed.expiresSeconds! * 1000;
    if (nowMs > expiresAtMs) {
      throw new DomainError(
        'InvalidSignature',
        `Signature expired: the presigned URL was signed at ${parsed.amzDate} for ${parsed.expiresSeconds} seconds and expired at ${formatAmzDate(expiresAtMs)}; it is now ${formatAmzDate(nowMs)}. Presign a new URL.`,
        { part: 'X-Amz-Expires' },
      );
    }
    // A URL signed in the future is accepted only within the clock-skew allowance.
    if (parsed.signedAtMs - nowMs > maxSkewMs) {
      throw new DomainError(
        'InvalidSignature',
        `Signature not yet current: ${parsed.amzDate} is still later than ${formatAmzDate(nowMs + maxSkewMs)} (${formatAmzDate(nowMs)} + ${skew}). Check the client's clock.`,
        { part: 'X-Amz-Date' },
      );
    }
    return;
  }
  if (nowMs - parsed.signedAtMs > maxSkewMs) {
    throw new DomainError(
      'InvalidSignature',
      `Signature expired: ${parsed.amzDate} is now earlier than ${formatAmzDate(nowMs - maxSkewMs)} (${formatAmzDate(nowMs)} - ${skew}). Check the client's clock, or re-sign the request.`,
      { part: 'Date' },
    );
  }
  if (parsed.signedAtMs - nowMs > maxSkewMs) {
    throw new DomainError(
      'InvalidSignature',
      `Signature expired: ${parsed.amzDate} is now later than ${formatAmzDate(nowMs + maxSkewMs)} (${formatAmzDate(nowMs)} + ${skew}). Check the client's clock.`,
      { part: 'Date' },
    );
  }
}

/**
 * Long-term keys take no session token; temporary keys require theirs, until they
 * expire. The token is signed (query parameter, or an x-amz-* header which must be
 * signed), so comparing it here is enough.
 */
function checkSessionToken(token: string | undefined, credential: SigV4Credential, nowMs: number): void {
  if (credential.sessionToken === undefined) {
    if (token !== undefined) throw new DomainError('UnrecognizedClient', INVALID_TOKEN, { part: 'SessionToken' });
    return;
  }
  if (token === undefined || !constantTimeEqual(token, credential.sessionToken)) {
    throw new DomainError('UnrecognizedClient', INVALID_TOKEN, { part: 'SessionToken' });
  }
  if (credential.expiresAtMs !== undefined && nowMs >= credential.expiresAtMs) {
    throw new DomainError('ExpiredToken', 'The security token included in the request is expired.', {
      expiredAt: formatAmzDate(credential.expiresAtMs),
    });
  }
}

/**
 * `host` must be signed (it binds the signature to this server), and so must every
 * x-amz-* header present: they carry meaning (invocation type, body hash, session
 * token) that a replayed request must not be able to change.
 */
function checkSignedHeaderSet(parsed: ParsedSignature, headers: Record<string, string>): void {
  const signed = parsed.signedHeaderSet;
  if (!signed.has('host')) {
    throw new DomainError('InvalidSignature', "Signed headers must include 'host'.", { part: 'SignedHeaders' });
  }
  if (parsed.dateHeader !== undefined && !signed.has(parsed.dateHeader)) {
    throw new DomainError(
      'InvalidSignature',
      `Signed headers must include '${parsed.dateHeader}', the header that dates the request.`,
      { part: 'SignedHeaders' },
    );
  }
  for (const name of parsed.signedHeaders) {
    if (headers[name] === undefined) {
      throw new DomainError(
        'InvalidSignature',
        `SignedHeaders lists '${name}' but the request has no such header.`,
        { part: 'SignedHeaders' },
      );
    }
  }
  const unsigned = Object.keys(headers).filter((name) => name.startsWith('x-amz-') && !signed.has(name));
  if (unsigned.length > 0) {
    throw new DomainError(
      'InvalidSignature',
      `There were headers present in the request which were not signed: ${unsigned.sort().join(', ')}.`,
      { part: 'SignedHeaders' },
    );
  }
}

/**
 * The payload hash that was signed: x-amz-content-sha256 when the client sent it
 * (the presigned form may carry it as a query parameter), else the body's own hash.
 * A declared hash must be the body's, unless it is the literal UNSIGNED-PAYLOAD.
 */
function signedPayloadHash(parsed: ParsedSignature, request: SigV4Request, query: QueryParam[]): string {
  const bodyHash = sha256Hex(request.body);
  const declared =
    request.headers['x-amz-content-sha256'] ??
    (parsed.form === 'presigned' ? query.find((p) => p.name === 'X-Amz-Content-Sha256')?.value : undefined);
  if (declared === undefined) return bodyHash;
  // Only S3 lets a client leave the body out of the signature.
  if (declared === UNSIGNED_PAYLOAD && parsed.scope.service === 's3') return declared;
  if (!/^[0-9a-fA-F]{64}$/.test(declared)) {
    throw new DomainError(
      'InvalidSignature',
      `x-amz-content-sha256 must be the hex SHA-256 of the body (${UNSIGNED_PAYLOAD} is for S3 only); got '${truncate(declared)}'.`,
      { part: 'x-amz-content-sha256' },
    );
  }
  if (declared.toLowerCase() !== bodyHash) {
    throw new DomainError(
      'InvalidSignature',
      "The provided 'x-amz-content-sha256' header does not match what was computed: the body differs from what was signed.",
      { part: 'x-amz-content-sha256' },
    );
  }
  return declared;
}

const signingKeys = new SigningKeyCache(256);

function constantTimeEqual(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** AWS answers a signature it cannot even parse with IncompleteSignatureException (400). */
function malformed(message: string, part: string): DomainError {
  return new DomainError('IncompleteSignature', message, { part });
}

/** Echo client input in messages without letting a huge header flood them. */
function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function describeDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min.` : `${ms / 1000} s`;
}
