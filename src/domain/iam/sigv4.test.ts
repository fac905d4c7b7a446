import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sha256 } from '@smithy/core/checksum';
import { buildQueryString, extendedEncodeURIComponent, HttpRequest } from '@smithy/core/protocols';
import { getCanonicalHeaders, SignatureV4 } from '@smithy/signature-v4';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import {
  verifySigV4,
  type SecretLookup,
  type SigV4Credential,
  type SigV4Request,
} from './sigv4.ts';
import { deriveSigningKey, SigningKeyCache } from './sigv4-canonical.ts';

const KEY = { accessKeyId: 'AKIDKENNELTEST', secretAccessKey: 'kennel/Secret+Key=EXAMPLE' };
const PRINCIPAL = 'arn:aws:iam::000000000000:user/alice';
const HOST = 'kennel.test:8080';
const SIGNED_AT = Date.UTC(2024, 4, 1, 12, 0, 0);
const MINUTE = 60_000;

const credentials = new Map<string, SigV4Credential>([
  [KEY.accessKeyId, { secretAccessKey: KEY.secretAccessKey, principal: PRINCIPAL }],
]);
const lookup: SecretLookup = (id) => credentials.get(id);

interface Unsigned {
  method?: string;
  /** As the SDK's serializer leaves it: already percent-encoded. */
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

interface SignOptions {
  service?: string;
  region?: string;
  signingDate?: number;
  secretAccessKey?: string;
  sessionToken?: string;
  applyChecksum?: boolean;
}

function signer(options: SignOptions = {}): SignatureV4 {
  return new SignatureV4({
    service: options.service ?? 'sagemaker',
    region: options.region ?? 'us-east-1',
    credentials: {
      accessKeyId: KEY.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? KEY.secretAccessKey,
      sessionToken: options.sessionToken,
    },
    sha256: Sha256,
    applyChecksum: options.applyChecksum,
  });
}

function httpRequest(unsigned: Unsigned): HttpRequest {
  return new HttpRequest({
    method: unsigned.method ?? 'POST',
    protocol: 'http:',
    hostname: 'kennel.test',
    port: 8080,
    path: unsigned.path ?? '/endpoints/my-endpoint/invocations',
    query: unsigned.query ?? {},
    headers: { host: HOST, ...unsigned.headers },
    body: unsigned.body,
  });
}

/** What the server sees of an SDK request: the query serialised as the SDK's HTTP handler sends it. */
function asReceived(request: HttpRequest, body: Uint8Array | string | undefined): SigV4Request {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  return {
    method: request.method,
    path: request.path,
    query: buildQueryString(request.query as Record<string, string | string[]>),
    headers,
    body: typeof body === 'string' ? new TextEncoder().encode(body) : (body ?? new Uint8Array()),
  };
}

async function sdkSign(unsigned: Unsigned = {}, options: SignOptions = {}): Promise<SigV4Request> {
  const signed = await signer(options).sign(httpRequest(unsigned), {
    signingDate: new Date(options.signingDate ?? SIGNED_AT),
  });
  return asReceived(signed as HttpRequest, unsigned.body);
}

async function sdkPresign(unsigned: Unsigned = {}, options: SignOptions & { expiresIn?: number } = {}) {
  const presigned = await signer(options).presign(httpRequest(unsigned), {
    signingDate: new Date(options.signingDate ?? SIGNED_AT),
    expiresIn: options.expiresIn ?? 3600,
  });
  return asReceived(presigned as HttpRequest, unsigned.body);
}

function verify(request: SigV4Request, nowMs = SIGNED_AT) {
  return verifySigV4(request, lookup, nowMs, { expectedService: 'sagemaker' });
}

/** Asserts a DomainError with the code, and returns it for further checks. */
function rejects(fn: () => unknown, code: ErrorCode | RegExp, message?: RegExp): DomainError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
    if (typeof code === 'string') assert.equal(error.code, code, error.message);
    else assert.match(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}, but the request verified`);
}

const MISMATCH = /^The request signature we calculated does not match the signature you provided/;
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);

describe('verifySigV4: requests signed by @smithy/signature-v4', () => {
  it('accepts the header form with a binary body and returns the identity', async () => {
    const request = await sdkSign({ body: JPEG, headers: { 'content-type': 'image/jpeg' } });
    assert.deepEqual(verify(request), {
      accessKeyId: KEY.accessKeyId,
      principal: PRINCIPAL,
      region: 'us-east-1',
      service: 'sagemaker',
    });
  });

  it('accepts a body without x-amz-content-sha256 (hash computed from the body)', async () => {
    const request = await sdkSign({ body: '{"url":"https://images.example.com/dog.jpg"}' }, { applyChecksum: false });
    assert.equal(request.headers['x-amz-content-sha256'], undefined);
    assert.equal(verify(request).principal, PRINCIPAL);
  });

  it('accepts query strings with special characters, spaces, repeats and non-ASCII', async () => {
    const request = await sdkSign({
      method: 'GET',
      query: {
        Qualifier: 'my alias',
        odd: "a+b/c~d*e'(f)!&g=h",
        empty: '',
        'ünï': 'çødé 🐕',
        repeated: ['b', 'a', 'a b'],
      },
    });
    assert.match(request.query, /my%20alias/);
    assert.equal(verify(request).principal, PRINCIPAL);
  });

  it('accepts the same query written with another valid percent-encoding', async () => {
    const request = await sdkSign({ method: 'GET', query: { q: 'a b~c' } });
    assert.equal(request.query, 'q=a%20b~c');
    // '+' for a space and %7e for '~' decode to the same value, so they sign alike.
    assert.equal(verify({ ...request, query: 'q=a+b%7ec' }).principal, PRINCIPAL);
  });

  for (const [label, path] of [
    ['an invocation path', '/endpoints/my-endpoint/invocations'],
    ['an encoded endpoint name', `/endpoints/${extendedEncodeURIComponent("dog breeds (v2)!*'")}/invocations`],
    ['a Lambda function ARN', `/2015-03-31/functions/${extendedEncodeURIComponent('arn:aws:lambda:us-east-1:000000000000:function:dog')}/invocations`],
    ['dot segments and double slashes', '/endpoints/./a//b/../my-endpoint/invocations/'],
    ['the root', '/'],
  ]) {
    it(`accepts ${label}`, async () => {
      const request = await sdkSign({ path, body: JPEG });
      assert.equal(request.path, path);
      assert.equal(verify(request).principal, PRINCIPAL);
    });
  }

  it('accepts the presigned form, GET with a query and POST with a body', async () => {
    const get = await sdkPresign({ method: 'GET', query: { name: 'hello world' } });
    assert.equal(get.headers['authorization'], undefined);
    assert.match(get.query, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.equal(verify(get).principal, PRINCIPAL);

    const post = await sdkPresign({ body: JPEG, headers: { 'content-type': 'image/jpeg' } });
    assert.equal(verify(post).principal, PRINCIPAL);
  });

  it('accepts several services when told so, and any service when not told', async () => {
    const request = await sdkSign({}, { service: 'lambda', region: 'eu-west-1' });
    const identity = verifySigV4(request, lookup, SIGNED_AT, { expectedService: ['sagemaker', 'lambda'] });
    assert.deepEqual([identity.service, identity.region], ['lambda', 'eu-west-1']);
    assert.equal(verifySigV4(request, lookup, SIGNED_AT).service, 'lambda');
    rejects(() => verify(request), 'InvalidSignature', /scoped to correct service: 'sagemaker'/);
  });

  it("refuses a credential scoped to another region than the server's, in both forms", async () => {
    const options = { expectedService: 'sagemaker', expectedRegion: 'us-east-1' };
    for (const request of [
      await sdkSign({ body: JPEG }, { region: 'eu-west-1' }),
      await sdkPresign({ method: 'GET' }, { region: 'eu-west-1' }),
    ]) {
      // Correctly signed, with the right key: only the region is wrong.
      assert.equal(verifySigV4(request, lookup, SIGNED_AT, { expectedService: 'sagemaker' }).region, 'eu-west-1');
      const error = rejects(() => verifySigV4(request, lookup, SIGNED_AT, options), 'InvalidSignature');
      assert.equal(
        error.message,
        "Credential should be scoped to a valid region, not 'eu-west-1'. This server's region is 'us-east-1': sign the request for that region.",
      );
      assert.equal(error.details.part, 'Credential');
    }
    for (const request of [await sdkSign({ body: JPEG }), await sdkPresign({ method: 'GET' })]) {
      assert.equal(verifySigV4(request, lookup, SIGNED_AT, options).region, 'us-east-1');
    }
  });

  it('refuses UNSIGNED-PAYLOAD outside S3: the body must be covered by the signature', async () => {
    const signed = await sdkSign({ body: JPEG, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    rejects(() => verify({ ...signed, body: new Uint8Array([1, 2, 3]) }), 'InvalidSignature', /S3 only/);

    // Added after signing: the header is not in SignedHeaders.
    const plain = await sdkSign({ body: JPEG }, { applyChecksum: false });
    rejects(
      () => verify({ ...plain, headers: { ...plain.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
      'InvalidSignature',
      /not signed: x-amz-content-sha256/,
    );
  });

  it('accepts a request dated by the HTTP Date header instead of X-Amz-Date', async () => {
    // The SDK always writes X-Amz-Date, so assemble the signature from its public pieces.
    class ExposedSigner extends SignatureV4 {
      async signWithDateHeader(request: HttpRequest, payloadHash: string): Promise<string> {
        const canonicalHeaders = getCanonicalHeaders(request);
        const canonical = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
        const scope = `20240501/us-east-1/sagemaker/aws4_request`;
        const stringToSign = await this.createStringToSign('20240501T120000Z', scope, canonical, 'AWS4-HMAC-SHA256');
        const signature = await this.sign(stringToSign, { signingDate: new Date(SIGNED_AT) });
        return `AWS4-HMAC-SHA256 Credential=${KEY.accessKeyId}/${scope}, SignedHeaders=${Object.keys(canonicalHeaders).sort().join(';')}, Signature=${signature}`;
      }
    }
    const exposed = new ExposedSigner({ service: 'sagemaker', region: 'us-east-1', credentials: KEY, sha256: Sha256 });
    const request = httpRequest({ method: 'GET', headers: { date: 'Wed, 01 May 2024 12:00:00 GMT' } });
    const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    request.headers['authorization'] = await exposed.signWithDateHeader(request, emptyHash);
    assert.equal(verify(asReceived(request, undefined)).principal, PRINCIPAL);
  });
});

describe('verifySigV4: independent vectors', () => {
  it('derives the signing key of the AWS documentation example', () => {
    const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    assert.equal(key.toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('verifies the IAM ListUsers request of the AWS documentation', () => {
    const identity = verifySigV4(
      {
        method: 'GET',
        path: '/',
        query: 'Action=ListUsers&Version=2010-05-08',
        headers: {
          host: 'iam.amazonaws.com',
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'x-amz-date': '20150830T123600Z',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
            'SignedHeaders=content-type;host;x-amz-date, ' +
            'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
        },
        body: new Uint8Array(),
      },
      (id) => (id === 'AKIDEXAMPLE' ? { secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', principal: 'docs' } : undefined),
      Date.UTC(2015, 7, 30, 12, 36, 0),
      { expectedService: 'iam' },
    );
    assert.equal(identity.principal, 'docs');
  });

  it('verifies a request captured from `curl --aws-sigv4 "aws:amz:us-east-1:sagemaker"` (curl 7.88.1)', () => {
    // curl --aws-sigv4 aws:amz:us-east-1:sagemaker --user AKIDCURLEXAMPLE:curlsecret/K7MDENG
    //   --data-binary @img.bin -H 'Content-Type: image/jpeg' http://127.0.0.1:38359/endpoints/my-endpoint/invocations
    const request: SigV4Request = {
      method: 'POST',
      path: '/endpoints/my-endpoint/invocations',
      query: '',
      headers: {
        host: '127.0.0.1:38359',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDCURLEXAMPLE/20261124/us-east-1/sagemaker/aws4_request, ' +
          'SignedHeaders=content-type;host;x-amz-date, ' +
          'Signature=8b3481b1529e81bde33a4bd856137f2ee1c344e0183907dd0f60c643b212d1ce',
        'x-amz-date': '20261124T083829Z',
        'user-agent': 'curl/7.88.1',
        accept: '*/*',
        'content-type': 'image/jpeg',
        'content-length': '10',
      },
      body: Buffer.from('SlBFR0RBVEEAAQ==', 'base64'),
    };
    const curlKey: SecretLookup = (id) =>
      id === 'AKIDCURLEXAMPLE' ? { secretAccessKey: 'curlsecret/K7MDENG', principal: 'curl-user' } : undefined;
    const now = Date.UTC(2026, 10, 24, 8, 38, 29);
    assert.equal(verifySigV4(request, curlKey, now, { expectedService: 'sagemaker' }).principal, 'curl-user');
    rejects(
      () => verifySigV4({ ...request, body: Buffer.from('JPEGDATA!!') }, curlKey, now),
      'InvalidSignature',
      MISMATCH,
    );
  });
});

describe('verifySigV4: rejections', () => {
  it('rejects tampering with any signed part', async () => {
    const original = await sdkSign(
      { body: JPEG, query: { a: '1' }, headers: { 'content-type': 'image/jpeg' } },
      { applyChecksum: false },
    );
    assert.equal(verify(original).principal, PRINCIPAL);
    const tampered: Array<[string, SigV4Request]> = [
      ['body', { ...original, body: new Uint8Array([...JPEG, 0]) }],
      ['path', { ...original, path: '/endpoints/other-endpoint/invocations' }],
      ['path encoding', { ...original, path: '/endpoints/my%2Dendpoint/invocations' }],
      ['query value', { ...original, query: 'a=2' }],
      ['extra query parameter', { ...original, query: 'a=1&b=2' }],
      ['signed header value', { ...original, headers: { ...original.headers, 'content-type': 'image/png' } }],
      ['host', { ...original, headers: { ...original.headers, host: 'evil.test' } }],
      ['method', { ...original, method: 'PUT' }],
    ];
    for (const [label, request] of tampered) {
      const error = rejects(() => verify(request), 'InvalidSignature', MISMATCH);
      assert.equal(typeof error.details.canonicalRequest, 'string', label);
    }
  });

  it('rejects a body that does not match the signed x-amz-content-sha256', async () => {
    const request = await sdkSign({ body: JPEG });
    assert.match(request.headers['x-amz-content-sha256']!, /^[0-9a-f]{64}$/);
    rejects(
      () => verify({ ...request, body: new Uint8Array([0]) }),
      'InvalidSignature',
      /x-amz-content-sha256' header does not match/,
    );
  });

  it('rejects a wrong secret and an unknown key', async () => {
    const wrongSecret = await sdkSign({ body: JPEG }, { secretAccessKey: 'not-the-secret' });
    rejects(() => verify(wrongSecret), 'InvalidSignature', MISMATCH);
    const unknown = await sdkSign({ body: JPEG });
    unknown.headers['authorization'] = unknown.headers['authorization']!.replace(KEY.accessKeyId, 'AKIDUNKNOWN');
    rejects(() => verify(unknown), 'UnrecognizedClient', /^The security token included in the request is invalid\.$/);
  });

  it('rejects a request without any signature', () => {
    rejects(
      () => verify({ method: 'POST', path: '/endpoints/e/invocations', query: '', headers: { host: HOST }, body: JPEG }),
      'MissingAuthenticationToken',
      /^Missing Authentication Token/,
    );
  });

  it('rejects clock skew over 15 minutes in both directions, and accepts it within', async () => {
    const request = await sdkSign({ body: JPEG });
    rejects(
      () => verify(request, SIGNED_AT + 16 * MINUTE),
      'InvalidSignature',
      /^Signature expired: 20240501T120000Z is now earlier than 20240501T120100Z \(20240501T121600Z - 15 min\.\)/,
    );
    rejects(
      () => verify(request, SIGNED_AT - 16 * MINUTE),
      'InvalidSignature',
      /^Signature expired: 20240501T120000Z is now later than 20240501T115900Z \(20240501T114400Z \+ 15 min\.\)/,
    );
    assert.equal(verify(request, SIGNED_AT + 14 * MINUTE).principal, PRINCIPAL);
    assert.equal(verify(request, SIGNED_AT - 14 * MINUTE).principal, PRINCIPAL);
    assert.equal(verifySigV4(request, lookup, SIGNED_AT + 16 * MINUTE, { maxSkewMs: 20 * MINUTE }).principal, PRINCIPAL);
  });

  it('rejects a presigned URL once expired, and one dated too far ahead', async () => {
    const request = await sdkPresign({ method: 'GET' }, { expiresIn: 60 });
    assert.equal(verify(request, SIGNED_AT + 59_000).principal, PRINCIPAL);
    rejects(() => verify(request, SIGNED_AT + 61_000), 'InvalidSignature', /^Signature expired: the presigned URL .* expired at 20240501T120100Z/);
    rejects(() => verify(request, SIGNED_AT - 16 * MINUTE), 'InvalidSignature', /not yet current/);
  });

  it('rejects X-Amz-Expires beyond a week or not a number', async () => {
    const request = await sdkPresign({ method: 'GET' });
    for (const expires of ['604801', '0', '-5', '1e3', '']) {
      const query = request.query.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${expires}`);
      rejects(() => verify({ ...request, query }), 'IncompleteSignature', /X-Amz-Expires/);
    }
  });

  it('rejects a presigned URL used with an Authorization header as well', async () => {
    const presigned = await sdkPresign({ method: 'GET' });
    const headerSigned = await sdkSign({ method: 'GET' });
    rejects(
      () => verify({ ...presigned, headers: { ...presigned.headers, authorization: headerSigned.headers['authorization']! } }),
      'IncompleteSignature',
      /Only one auth mechanism allowed/,
    );
  });

  it('rejects presigned URLs with missing or repeated parameters', async () => {
    const request = await sdkPresign({ method: 'GET' });
    for (const name of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) {
      const query = request.query.replace(new RegExp(`${name}=[^&]*&?`), '');
      const error = rejects(() => verify({ ...request, query }), 'IncompleteSignature', new RegExp(name));
      assert.equal(error.details.part, name);
    }
    rejects(
      () => verify({ ...request, query: `${request.query}&X-Amz-Signature=${'0'.repeat(64)}` }),
      'IncompleteSignature',
      /X-Amz-Signature appears more than once/,
    );
  });

  it('requires host, the date header and every x-amz-* header to be signed', async () => {
    const request = await sdkSign({ body: JPEG });
    const withoutHost = request.headers['authorization']!.replace(/SignedHeaders=([^,]*)/, (_, list: string) =>
      `SignedHeaders=${list.split(';').filter((h) => h !== 'host').join(';')}`,
    );
    rejects(() => verify({ ...request, headers: { ...request.headers, authorization: withoutHost } }), 'InvalidSignature', /must include 'host'/);
    rejects(
      () => verify({ ...request, headers: { ...request.headers, 'x-amz-invocation-type': 'Event' } }),
      'InvalidSignature',
      /not signed: x-amz-invocation-type/,
    );
    const { ['x-amz-date']: _date, ...withoutDate } = request.headers;
    rejects(() => verify({ ...request, headers: withoutDate }), 'InvalidSignature', /X-Amz-Date' or a 'Date' header/);
  });

  it('rejects a Date header that was not signed, so it cannot be replaced on replay', async () => {
    const request = await sdkSign({ method: 'GET' });
    const { ['x-amz-date']: _date, ...headers } = request.headers;
    const authorization = headers['authorization']!.replace(';x-amz-date', '');
    rejects(
      () => verify({ ...request, headers: { ...headers, authorization, date: 'Wed, 01 May 2024 12:00:00 GMT' } }),
      'InvalidSignature',
      /must include 'date'/,
    );
  });

  it('rejects malformed Authorization headers with a message naming the part', async () => {
    const good = await sdkSign({ body: JPEG });
    const credential = `${KEY.accessKeyId}/20240501/us-east-1/sagemaker/aws4_request`;
    const signature = 'a'.repeat(64);
    const cases: Array<[string, RegExp]> = [
      ['', /Unsupported Authorization algorithm ''/],
      ['Bearer abc.def', /Unsupported Authorization algorithm 'Bearer'/],
      ['AWS4-HMAC-SHA1 Credential=x', /Unsupported Authorization algorithm 'AWS4-HMAC-SHA1'/],
      ['AWS4-HMAC-SHA256', /requires 'Credential' parameter.*requires 'SignedHeaders'.*requires 'Signature'/],
      [`AWS4-HMAC-SHA256 Credential=${credential}`, /requires 'SignedHeaders' parameter/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host`, /requires 'Signature' parameter/],
      [`AWS4-HMAC-SHA256 Credential=${credential},SignedHeaders=host,Signature=abc`, /Signature must be 64 lower-case hex/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host, Signature=${'A'.repeat(64)}`, /Signature must be 64/],
      [`AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/aws4_request, SignedHeaders=host, Signature=${signature}`, /Credential '.*' is malformed/],
      [`AWS4-HMAC-SHA256 Credential=/20240501/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=${signature}`, /empty access key id/],
      [`AWS4-HMAC-SHA256 Credential=AKID/2024-05-01/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=${signature}`, /not of the form YYYYMMDD/],
      [`AWS4-HMAC-SHA256 Credential=AKID/20240501//sagemaker/aws4_request, SignedHeaders=host, Signature=${signature}`, /valid region/],
      [`AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/sagemaker/aws5_request, SignedHeaders=host, Signature=${signature}`, /valid terminator: 'aws4_request', not 'aws5_request'/],
      [`AWS4-HMAC-SHA256 Credential=AKID/20240502/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=${signature}`, /'20240502' != '20240501'/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=Host;X-Amz-Date, Signature=${signature}`, /lower-case header names/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;;x-amz-date, Signature=${signature}`, /SignedHeaders .* is malformed/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;host, Signature=${signature}`, /more than once/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host, Signature=${signature}, Signature=${signature}`, /'Signature' more than once/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host, Signature=${signature}, Extra=1`, /unknown component 'Extra'/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host, garbage`, /'garbage' is not of the form Name=value/],
      [`AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=content-md5;host;x-amz-date, Signature=${signature}`, /lists 'content-md5' but the request has no such header/],
      [`AWS4-HMAC-SHA256 ${'x'.repeat(100_000)}`, /is not of the form Name=value/],
      ['AWS4-HMAC-SHA256 Credential=ä/ö/ü/ß/€, SignedHeaders=ü, Signature=ÿ', /Credential '.*' is malformed|SignedHeaders|Signature/],
    ];
    for (const [authorization, message] of cases) {
      // A header that cannot be parsed is IncompleteSignature (400); one that parses but
      // contradicts the request is InvalidSignature (403), as AWS answers.
      const error = rejects(
        () => verify({ ...good, headers: { ...good.headers, authorization } }),
        /^(IncompleteSignature|InvalidSignature)$/,
        message,
      );
      assert.ok(error.message.length < 400, `message stays short for ${authorization.slice(0, 40)}`);
    }
  });

  it('rejects a malformed X-Amz-Date', async () => {
    const request = await sdkSign({ body: JPEG });
    for (const date of ['2024-05-01T12:00:00Z', '20240501T120000', '20240231T120000Z', '20240501T250000Z']) {
      rejects(() => verify({ ...request, headers: { ...request.headers, 'x-amz-date': date } }), 'IncompleteSignature', /X-Amz-Date '.*' is not an ISO 8601/);
    }
  });
});

describe('verifySigV4: session tokens', () => {
  const temporary = { accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey };
  const withToken = (credential: Partial<SigV4Credential>): SecretLookup => () => ({
    secretAccessKey: temporary.secretAccessKey,
    principal: PRINCIPAL,
    ...credential,
  });

  it('accepts the matching token before it expires, and says ExpiredToken after', async () => {
    const request = await sdkSign({ body: JPEG }, { sessionToken: 'token-1' });
    assert.equal(request.headers['x-amz-security-token'], 'token-1');
    const lookupTemporary = withToken({ sessionToken: 'token-1', expiresAtMs: SIGNED_AT + MINUTE });
    assert.equal(verifySigV4(request, lookupTemporary, SIGNED_AT).principal, PRINCIPAL);
    rejects(() => verifySigV4(request, lookupTemporary, SIGNED_AT + MINUTE), 'ExpiredToken', /expired/);
  });

  it('rejects a token the key does not have, a wrong token, and a missing one', async () => {
    const tokenRequest = await sdkSign({ body: JPEG }, { sessionToken: 'token-1' });
    rejects(() => verify(tokenRequest), 'UnrecognizedClient', /security token included in the request is invalid/);
    rejects(() => verifySigV4(tokenRequest, withToken({ sessionToken: 'token-2' }), SIGNED_AT), 'UnrecognizedClient');
    const plain = await sdkSign({ body: JPEG });
    rejects(() => verifySigV4(plain, withToken({ sessionToken: 'token-1' }), SIGNED_AT), 'UnrecognizedClient');
  });

  it('reads the token of a presigned URL from the query', async () => {
    const request = await sdkPresign({ method: 'GET' }, { sessionToken: 'token-1' });
    assert.match(request.query, /X-Amz-Security-Token=token-1/);
    assert.equal(verifySigV4(request, withToken({ sessionToken: 'token-1' }), SIGNED_AT).principal, PRINCIPAL);
    rejects(() => verify(request), 'UnrecognizedClient');
  });
});

describe('SigningKeyCache', () => {
  it('returns derived keys and stays within its capacity, evicting the least recently used', () => {
    const cache = new SigningKeyCache(2);
    const a = cache.get('secret-a', '20240501', 'us-east-1', 'sagemaker');
    assert.deepEqual(a, deriveSigningKey('secret-a', '20240501', 'us-east-1', 'sagemaker'));
    cache.get('secret-b', '20240501', 'us-east-1', 'sagemaker');
    assert.equal(cache.get('secret-a', '20240501', 'us-east-1', 'sagemaker'), a, 'a hit returns the cached key');
    cache.get('secret-c', '20240501', 'us-east-1', 'sagemaker');
    assert.equal(cache.size, 2);
    assert.equal(cache.get('secret-a', '20240501', 'us-east-1', 'sagemaker'), a, 'a was used recently, b was evicted');
    assert.notEqual(
      cache.get('secret-a', '20240502', 'us-east-1', 'sagemaker').toString('hex'),
      a.toString('hex'),
      'another day derives another key',
    );
  });
});
