import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AttachRolePolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, ListUsersCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Clock } from '../../core/clock.ts';
import { startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import type { TestCredentials } from '../../testing/iam-fixtures.ts';
import { AwsClientPool, policy, sessionCredentials, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';

/**
 * SigV4 as the real server checks it, on requests signed by the AWS SDK's own
 * signer (@smithy/signature-v4), in the Authorization-header form and the
 * presigned-URL form: STS on the query protocol, SageMaker on JSON 1.1 and
 * SageMaker Runtime's InvokeEndpoint. Each fault gets 403 with the code of its
 * service's protocol (DESIGN.md §4). The server's clock is the test's, so a
 * session can be made to expire without waiting.
 */
const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';
const FIFTEEN_MINUTES_MS = 15 * 60_000;

interface Target {
  name: string;
  protocol: 'query' | 'json';
  signingName: string;
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
  form: 'header' | 'presigned';
  /** Whether the signer sends the body's hash in x-amz-content-sha256 (it does by default), which the server checks before the signature. */
  applyChecksum?: false;
  /** The answer a correctly signed request gets: status and, for an error, its code. */
  passes: { status: number; code?: string };
  /** A change to the request after signing, which the signature must catch. */
  tamper(request: { query: Record<string, string>; body?: string }): void;
}

const STS_FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
const LIST_ENDPOINTS = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.ListEndpoints' };
const MISSING_ENDPOINT = { status: 400, code: 'ValidationError' };
const changeBody = (request: { body?: string }) => void (request.body = `${request.body} `);

const TARGETS: Target[] = [
  {
    name: 'STS GetCallerIdentity, POST with a signed form body',
    protocol: 'query', signingName: 'sts', method: 'POST', path: '/', headers: STS_FORM, body: 'Action=GetCallerIdentity&Version=2011-06-15',
    form: 'header', passes: { status: 200 }, tamper: (request) => void (request.body = 'Action=GetSessionToken&Version=2011-06-15'),
  },
  {
    name: 'STS GetCallerIdentity, POST without x-amz-content-sha256',
    protocol: 'query', signingName: 'sts', method: 'POST', path: '/', headers: STS_FORM, body: 'Action=GetCallerIdentity&Version=2011-06-15',
    form: 'header', applyChecksum: false, passes: { status: 200 }, tamper: (request) => void (request.body = 'Action=GetCallerIdentity&Version=2011-06-15&'),
  },
  {
    name: 'STS GetCallerIdentity, presigned GET',
    protocol: 'query', signingName: 'sts', method: 'GET', path: '/', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, headers: {},
    form: 'presigned', passes: { status: 200 }, tamper: (request) => void (request.query.Action = 'GetSessionToken'),
  },
  {
    name: 'IAM ListUsers, presigned GET',
    protocol: 'query', signingName: 'iam', method: 'GET', path: '/', query: { Action: 'ListUsers', Version: '2010-05-08' }, headers: {},
    form: 'presigned', passes: { status: 200 }, tamper: (request) => void (request.query.MaxItems = '1'),
  },
  {
    name: 'SageMaker ListEndpoints, JSON 1.1',
    protocol: 'json', signingName: 'sagemaker', method: 'POST', path: '/', headers: LIST_ENDPOINTS, body: '{}',
    form: 'header', passes: { status: 200 }, tamper: changeBody,
  },
  {
    name: 'SageMaker ListEndpoints, presigned POST',
    protocol: 'json', signingName: 'sagemaker', method: 'POST', path: '/', headers: LIST_ENDPOINTS, body: '{}',
    form: 'presigned', passes: { status: 200 }, tamper: changeBody,
  },
  {
    name: 'SageMaker Runtime InvokeEndpoint',
    protocol: 'json', signingName: 'sagemaker', method: 'POST', path: '/endpoints/missing/invocations', headers: { 'content-type': 'application/json' }, body: '{"url":"x"}',
    form: 'header', passes: MISSING_ENDPOINT, tamper: changeBody,
  },
  {
    name: 'SageMaker Runtime InvokeEndpoint, presigned POST',
    protocol: 'json', signingName: 'sagemaker', method: 'POST', path: '/endpoints/missing/invocations', headers: { 'content-type': 'application/json' }, body: '{"url":"x"}',
    form: 'presigned', passes: MISSING_ENDPOINT, tamper: changeBody,
  },
];

/** The fault's error code on each protocol, and what its message says. */
const FAULTS = {
  // With x-amz-content-sha256 sent, a changed body is caught by that hash, before the signature.
  badSignature: {
    json: 'InvalidSignatureException',
    query: 'SignatureDoesNotMatch',
    message: /^(The request signature we calculated does not match the signature you provided|The provided 'x-amz-content-sha256' header does not match what was computed)/,
  },
  skew: { json: 'InvalidSignatureException', query: 'SignatureDoesNotMatch', message: /^Signature (expired|not yet current)/ },
  unknownKey: { json: 'UnrecognizedClientException', query: 'InvalidClientTokenId', message: /^The security token included in the request is invalid\.$/ },
  expired: { json: 'ExpiredTokenException', query: 'ExpiredToken', message: /^The security token included in the request is expired\.$/ },
} as const;

interface Answer {
  status: number;
  code?: string;
  message?: string;
}

/** The code and message of an error in either protocol's format. */
async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  if (response.status === 200) return { status: 200 };
  if ((response.headers.get('content-type') ?? '').includes('xml')) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]?.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    return { status: response.status, code, message };
  }
  const body = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
  return { status: response.status, code: response.headers.get('x-amzn-errortype') ?? body.__type, message: body.message ?? body.Message };
}

describe('SigV4 faults through the real server, signed by @smithy/signature-v4', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let clockOffsetMs = 0;
  const clock: Clock = { now: () => Date.now() + clockOffsetMs };
  let session: TestCredentials;
  let shortSession: TestCredentials;
  let inactive: TestCredentials;

  before(async () => {
    test = await startTestKennel({ clock });
    pool = new AwsClientPool(test.url);
    const admin = pool.for(test.credentials);
    await admin.iam.send(
      new CreateRoleCommand({ RoleName: 'signer', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 'sts:AssumeRole' }) }),
    );
    await admin.iam.send(new AttachRolePolicyCommand({ RoleName: 'signer', PolicyArn: ADMINISTRATOR_ACCESS }));
    const assume = (DurationSeconds: number) =>
      admin.sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/signer', RoleSessionName: `for-${DurationSeconds}`, DurationSeconds }));
    session = sessionCredentials((await assume(3600)).Credentials);
    shortSession = sessionCredentials((await assume(900)).Credentials);
    await admin.iam.send(new CreateUserCommand({ UserName: 'sleeper' }));
    await admin.iam.send(new AttachUserPolicyCommand({ UserName: 'sleeper', PolicyArn: ADMINISTRATOR_ACCESS }));
    const key = (await admin.iam.send(new CreateAccessKeyCommand({ UserName: 'sleeper' }))).AccessKey!;
    inactive = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    await admin.iam.send(new UpdateAccessKeyCommand({ UserName: 'sleeper', AccessKeyId: key.AccessKeyId, Status: 'Inactive' }));
  });
  after(() => closeKennelWithClients(test, pool));

  /** Signs `target` for `credentials` at `signedAtMs` (the server's now by default), applies `tamper`, and sends it. */
  async function send(target: Target, credentials: TestCredentials, options: { signedAtMs?: number; expiresIn?: number; tamper?: boolean } = {}): Promise<Answer> {
    const url = new URL(test.url);
    const signer = new SignatureV4({ service: target.signingName, region: 'us-east-1', credentials, sha256: Hash.bind(null, 'sha256'), applyChecksum: target.applyChecksum ?? true });
    const request = {
      method: target.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: target.path,
      query: { ...target.query },
      headers: { ...target.headers, host: url.host },
      ...(target.body !== undefined ? { body: target.body } : {}),
    };
    const signingDate = new Date(options.signedAtMs ?? clock.now());
    const signed =
      target.form === 'header'
        ? await signer.sign(request, { signingDate })
        : await signer.presign(request, { signingDate, expiresIn: options.expiresIn ?? 300, unhoistableHeaders: new Set(['x-amz-target']) });
    const sent = { query: { ...(signed.query as Record<string, string>) }, body: target.body };
    if (options.tamper) target.tamper(sent);
    const search = new URLSearchParams(sent.query).toString().replace(/\+/g, '%20');
    const response = await fetch(`${test.url}${target.path}${search ? `?${search}` : ''}`, {
      method: target.method,
      headers: Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host')),
      ...(sent.body !== undefined ? { body: sent.body } : {}),
    });
    return answerOf(response);
  }

  const refused = (answer: Answer, target: Target, fault: (typeof FAULTS)[keyof typeof FAULTS], what: string) => {
    assert.equal(answer.status, 403, `${target.name}, ${what}: ${JSON.stringify(answer)}`);
    assert.equal(answer.code, fault[target.protocol], `${target.name}, ${what}`);
    assert.match(answer.message ?? '', fault.message, `${target.name}, ${what}`);
  };

  it('a correctly signed request passes, with a long-term key or session credentials', async () => {
    for (const target of TARGETS) {
      for (const [what, credentials] of [['admin key', test.credentials], ['role session', session]] as const) {
        const answer = await send(target, credentials);
        assert.equal(answer.status, target.passes.status, `${target.name}, ${what}: ${JSON.stringify(answer)}`);
        assert.equal(answer.code, target.passes.code, `${target.name}, ${what}`);
      }
    }
  });

  it('a request changed after signing, or signed with the wrong secret, does not match its signature', async () => {
    for (const target of TARGETS) {
      const tampered = await send(target, test.credentials, { tamper: true });
      refused(tampered, target, FAULTS.badSignature, 'tampered');
      // Without the declared hash, the body goes into the canonical request, and the signatures differ.
      if (target.applyChecksum === false) assert.match(tampered.message ?? '', /^The request signature we calculated does not match/, target.name);
      refused(await send(target, { ...test.credentials, secretAccessKey: `${test.credentials.secretAccessKey.slice(0, -1)}x` }), target, FAULTS.badSignature, 'wrong secret');
      refused(await send(target, { ...session, secretAccessKey: 'not-the-session-secret' }), target, FAULTS.badSignature, 'wrong session secret');
    }
  });

  it('an unknown key, a disabled key and a tampered session token are not recognised', async () => {
    for (const target of TARGETS) {
      refused(await send(target, { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'whatever' }), target, FAULTS.unknownKey, 'unknown key');
      refused(await send(target, inactive), target, FAULTS.unknownKey, 'inactive key');
      const token = session.sessionToken!;
      const flipped = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
      refused(await send(target, { ...session, sessionToken: flipped }), target, FAULTS.unknownKey, 'tampered token');
      refused(await send(target, { ...session, sessionToken: undefined }), target, FAULTS.unknownKey, 'session key without its token');
    }
  });

  it('a signature more than 15 minutes off the server’s clock is refused; a presigned URL lasts X-Amz-Expires', async () => {
    for (const target of TARGETS) {
      if (target.form === 'header') {
        refused(await send(target, test.credentials, { signedAtMs: clock.now() - FIFTEEN_MINUTES_MS - 60_000 }), target, FAULTS.skew, '16 minutes late');
        refused(await send(target, test.credentials, { signedAtMs: clock.now() + FIFTEEN_MINUTES_MS + 60_000 }), target, FAULTS.skew, '16 minutes early');
        const withinSkew = await send(target, test.credentials, { signedAtMs: clock.now() - FIFTEEN_MINUTES_MS + 60_000 });
        assert.equal(withinSkew.status, target.passes.status, `${target.name}, 14 minutes late: ${JSON.stringify(withinSkew)}`);
      } else {
        refused(await send(target, test.credentials, { signedAtMs: clock.now() + FIFTEEN_MINUTES_MS + 60_000 }), target, FAULTS.skew, 'presigned 16 minutes early');
        refused(await send(target, test.credentials, { signedAtMs: clock.now() - 120_000, expiresIn: 60 }), target, FAULTS.skew, 'presigned URL past its expiry');
        // Presigned an hour ago for two hours: still good.
        const longLived = await send(target, test.credentials, { signedAtMs: clock.now() - 3_600_000, expiresIn: 7200 });
        assert.equal(longLived.status, target.passes.status, `${target.name}, long-lived URL: ${JSON.stringify(longLived)}`);
      }
    }
  });

  it('session credentials stop working when their session ends', async () => {
    for (const target of TARGETS) assert.equal((await send(target, shortSession)).status, target.passes.status, target.name);
    clockOffsetMs = 900_000;
    try {
      for (const target of TARGETS) refused(await send(target, shortSession), target, FAULTS.expired, 'after 900 s');
      // The hour-long session is still current.
      for (const target of TARGETS) assert.equal((await send(target, session)).status, target.passes.status, target.name);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('the SDK clients surface each fault as its error class', async () => {
    const expect = async (credentials: TestCredentials, sts: string, sagemaker: string, systemClockOffset = 0) => {
      const clients = pool.for(credentials, { systemClockOffset });
      const stsError = await sdkFailure(clients.sts.send(new GetCallerIdentityCommand({})));
      assert.deepEqual([stsError.name, stsError.status], [sts, 403], stsError.message);
      const sagemakerError = await sdkFailure(clients.sagemaker.send(new ListEndpointsCommand({})));
      assert.deepEqual([sagemakerError.name, sagemakerError.status], [sagemaker, 403], sagemakerError.message);
    };
    await expect({ ...test.credentials, secretAccessKey: 'wrong' }, 'SignatureDoesNotMatch', 'InvalidSignatureException');
    await expect({ accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'wrong' }, 'InvalidClientTokenId', 'UnrecognizedClientException');
    await expect(inactive, 'InvalidClientTokenId', 'UnrecognizedClientException');
    await expect({ ...session, sessionToken: 'forged' }, 'InvalidClientTokenId', 'UnrecognizedClientException');
    await expect(test.credentials, 'SignatureDoesNotMatch', 'InvalidSignatureException', -FIFTEEN_MINUTES_MS - 60_000);
    clockOffsetMs = 900_000;
    try {
      await expect(shortSession, 'ExpiredToken', 'ExpiredTokenException', clockOffsetMs);
    } finally {
      clockOffsetMs = 0;
    }
    // Fixed, the same calls pass.
    const fine = pool.for(test.credentials);
    assert.equal((await fine.sts.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:iam::000000000000:user/admin');
    assert.ok((await fine.iam.send(new ListUsersCommand({}))).Users!.some((user) => user.UserName === 'sleeper'));
  });
});
