import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hono, type Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { SecretLookup } from '../../domain/iam/sigv4.ts';
import type { ApiEnv } from '../env.ts';
import { requestId } from '../middleware/request-id/index.ts';
import { CONTROL_MAX_BYTES } from '../middleware/payload-limit/index.ts';
import { lambdaWire } from '../wire/lambda-errors.ts';
import { httpBinding } from './rest-json-model.ts';
import { restJsonRoutes, type RestJsonOperation, type RestJsonService } from './rest-json-protocol.ts';
import { loadServiceModel, operationNames } from './service-model.ts';

/**
 * The REST-JSON protocol in-process (app.request) with Lambda's model and
 * trivial handlers, signed as the AWS SDK signs: every operation at its route,
 * what handlers receive, what clients get back, and every way a request is
 * refused.
 */
const KEY = { accessKeyId: 'AKIDRESTJSON', secretAccessKey: 'rest/json+secret' };
const PRINCIPAL = 'arn:aws:iam::000000000000:user/alice';
const lookupSecret: SecretLookup = (id) => (id === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey, principal: PRINCIPAL } : undefined);
const NOW = Date.UTC(2026, 11, 1, 18, 25, 17);
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:my-function';
const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const model = loadServiceModel('lambda');

const received: { operation: string; input: Record<string, unknown> }[] = [];
const authorized: { operation: string; input: Record<string, unknown>; principal: string }[] = [];
const logged: { message: string; fields?: Record<string, unknown> }[] = [];
let answers: Record<string, (input: Record<string, unknown>) => unknown> = {};
let refuse: string | undefined;

const logger: Logger = { debug() {}, info() {}, warn() {}, error: (message, fields) => void logged.push({ message, fields }) };

function operations(names: readonly string[]): Record<string, RestJsonOperation> {
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        handler: (input: Record<string, unknown>) => {
          received.push({ operation: name, input });
          return answers[name]?.(input);
        },
        ...(name === 'GetProvisionedConcurrencyConfig' ? { errors: { NotFound: 'ProvisionedConcurrencyConfigNotFoundException' } } : {}),
      } as RestJsonOperation,
    ]),
  );
}

function lambdaApp(names: readonly string[] = operationNames(model)): Hono<ApiEnv> {
  const service: RestJsonService = { signingName: 'lambda', model, operations: operations(names), ...lambdaWire };
  const app = new Hono<ApiEnv>();
  app.use(requestId());
  app.route(
    '/',
    restJsonRoutes({ lookupSecret, clock: { now: () => NOW }, logger }, service, (c: Context<ApiEnv>, operation, input) => {
      authorized.push({ operation, input, principal: c.get('principal') });
      if (refuse === operation) throw new DomainError('AccessDenied', `User: ${PRINCIPAL} is not authorized to perform: lambda:${operation}`);
    }),
  );
  return app;
}

const app = lambdaApp();

interface Call {
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  unsigned?: boolean;
  /** Changes the request after it was signed. */
  tamper?: (init: { headers: Record<string, string>; body?: Uint8Array }) => void;
}

async function call(method: string, target: string, options: Call = {}): Promise<Response> {
  const url = new URL(target, 'http://lambda.kennel.test');
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    query[name] = values.length === 1 ? values[0]! : values;
  }
  const body = typeof options.body === 'string' ? new TextEncoder().encode(options.body) : options.body;
  const request = new HttpRequest({ method, protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers: { host: url.host, ...options.headers }, body });
  const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: options.credentials ?? KEY, sha256: Sha256 });
  const signed = options.unsigned ? request : await signer.sign(request, { signingDate: new Date(NOW) });
  const init = { headers: { ...(signed.headers as Record<string, string>) }, body };
  options.tamper?.(init);
  return app.request(`${url.pathname}${url.search}`, { method, headers: init.headers, ...(init.body ? { body: init.body } : {}) });
}

async function errorOf(response: Response) {
  assert.equal(response.headers.get('content-type'), 'application/json');
  return { status: response.status, type: response.headers.get('x-amzn-errortype'), body: (await response.json()) as Record<string, unknown> };
}

const LABELS: Record<string, string> = { FunctionName: 'my-function', Name: 'live', StatementId: 'sid-1', ARN: encodeURIComponent(ARN) };

/** The smallest valid request of every operation: its required query parameters and body, and the status it answers. */
const MINIMAL: Record<string, { query?: string; body?: unknown; status: number }> = {
  CreateFunction: { body: { FunctionName: 'my-function', Role: ROLE, Code: { ZipFile: 'UEsDBA==' } }, status: 201 },
  GetFunction: { status: 200 },
  GetFunctionConfiguration: { status: 200 },
  ListFunctions: { status: 200 },
  UpdateFunctionCode: { body: { ZipFile: 'UEsDBA==' }, status: 200 },
  UpdateFunctionConfiguration: { body: { Timeout: 10 }, status: 200 },
  DeleteFunction: { status: 204 },
  PublishVersion: { status: 201 },
  ListVersionsByFunction: { status: 200 },
  CreateAlias: { body: { Name: 'live', FunctionVersion: '1' }, status: 201 },
  UpdateAlias: { body: { FunctionVersion: '2' }, status: 200 },
  GetAlias: { status: 200 },
  ListAliases: { status: 200 },
  DeleteAlias: { status: 204 },
  PutFunctionConcurrency: { body: { ReservedConcurrentExecutions: 5 }, status: 200 },
  GetFunctionConcurrency: { status: 200 },
  DeleteFunctionConcurrency: { status: 204 },
  PutProvisionedConcurrencyConfig: { query: 'Qualifier=live', body: { ProvisionedConcurrentExecutions: 2 }, status: 202 },
  GetProvisionedConcurrencyConfig: { query: 'Qualifier=live', status: 200 },
  DeleteProvisionedConcurrencyConfig: { query: 'Qualifier=live', status: 204 },
  ListProvisionedConcurrencyConfigs: { status: 200 },
  GetAccountSettings: { status: 200 },
  AddPermission: { body: { StatementId: 'sid-1', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' }, status: 201 },
  RemovePermission: { status: 204 },
  GetPolicy: { status: 200 },
  PutFunctionEventInvokeConfig: { body: { MaximumRetryAttempts: 1 }, status: 200 },
  GetFunctionEventInvokeConfig: { status: 200 },
  UpdateFunctionEventInvokeConfig: { body: { MaximumRetryAttempts: 2 }, status: 200 },
  DeleteFunctionEventInvokeConfig: { status: 204 },
  ListFunctionEventInvokeConfigs: { status: 200 },
  Invoke: { body: '{"url":"https://example.com/dog.jpg"}', status: 200 },
  TagResource: { body: { Tags: { team: 'ml' } }, status: 204 },
  UntagResource: { query: 'tagKeys=team', status: 204 },
  ListTags: { status: 200 },
};

function targetOf(operationName: string): string {
  const { requestUri } = httpBinding(model, operationName);
  const path = requestUri.replace(/\{([^}]+)\}/g, (_, label: string) => LABELS[label]!);
  const { query } = MINIMAL[operationName]!;
  return query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path;
}

function bodyOf(operationName: string): string | undefined {
  const { body } = MINIMAL[operationName]!;
  return body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
}

beforeEach(() => {
  received.length = 0;
  authorized.length = 0;
  logged.length = 0;
  answers = {};
  refuse = undefined;
});

describe('the REST-JSON protocol in-process, with the Lambda model', () => {
  it('serves every operation at its route and answers its status, the label values decoded', async () => {
    assert.deepEqual(Object.keys(MINIMAL).sort(), operationNames(model));
    for (const operationName of operationNames(model)) {
      received.length = 0;
      const { method } = httpBinding(model, operationName);
      const response = await call(method, targetOf(operationName), { body: bodyOf(operationName) });
      assert.equal(response.status, MINIMAL[operationName]!.status, `${operationName}: ${await response.clone().text()}`);
      assert.deepEqual(received.map((entry) => entry.operation), [operationName]);
      const input = received[0]!.input;
      if ('FunctionName' in input && operationName !== 'CreateFunction') assert.equal(input.FunctionName, 'my-function', operationName);
      if ('Resource' in input) assert.equal(input.Resource, ARN, operationName);
      assert.ok(response.headers.get('x-amzn-requestid'), operationName);
      if (response.status === 204) assert.equal(await response.text(), '', operationName);
    }
  });

  it('takes an ARN as the function name, percent-encoded or with raw colons', async () => {
    for (const name of [encodeURIComponent(`${ARN}:live`), `${ARN}:live`]) {
      assert.equal((await call('GET', `/2015-03-31/functions/${name}/configuration?Qualifier=live`)).status, 200);
    }
    assert.deepEqual(received.map((entry) => entry.input), [
      { FunctionName: `${ARN}:live`, Qualifier: 'live' },
      { FunctionName: `${ARN}:live`, Qualifier: 'live' },
    ]);
  });

  it('routes ?List=ALL to ListProvisionedConcurrencyConfigs and the same path without it to GetProvisionedConcurrencyConfig', async () => {
    answers.ListProvisionedConcurrencyConfigs = () => ({ ProvisionedConcurrencyConfigs: [{ FunctionArn: `${ARN}:live`, RequestedProvisionedConcurrentExecutions: 2 }] });
    answers.GetProvisionedConcurrencyConfig = () => ({ RequestedProvisionedConcurrentExecutions: 2, Status: 'READY' });
    const list = await call('GET', '/2019-09-30/functions/my-function/provisioned-concurrency?List=ALL&MaxItems=5');
    const get = await call('GET', '/2019-09-30/functions/my-function/provisioned-concurrency?Qualifier=live');
    assert.deepEqual(await list.json(), { ProvisionedConcurrencyConfigs: [{ FunctionArn: `${ARN}:live`, RequestedProvisionedConcurrentExecutions: 2 }] });
    assert.deepEqual(await get.json(), { RequestedProvisionedConcurrentExecutions: 2, Status: 'READY' });
    assert.deepEqual(received, [
      { operation: 'ListProvisionedConcurrencyConfigs', input: { FunctionName: 'my-function', MaxItems: 5 } },
      { operation: 'GetProvisionedConcurrencyConfig', input: { FunctionName: 'my-function', Qualifier: 'live' } },
    ]);
  });

  it('lists functions with or without the trailing slash', async () => {
    answers.ListFunctions = () => ({ Functions: [{ FunctionName: 'a' }], NextMarker: 'm' });
    for (const path of ['/2015-03-31/functions/', '/2015-03-31/functions']) {
      const response = await call('GET', `${path}?MaxItems=1`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { Functions: [{ FunctionName: 'a' }], NextMarker: 'm' });
    }
    assert.deepEqual(received.map((entry) => entry.input), [{ MaxItems: 1 }, { MaxItems: 1 }]);
  });

  it('Invoke: headers and query to members, the raw body as Payload; the answer\'s headers, status and raw payload', async () => {
    const payload = Buffer.from([0x7b, 0x22, 0xe2, 0x82, 0xac, 0x22, 0x7d]);
    answers.Invoke = () => ({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      LogResult: Buffer.from('START RequestId: 1\nEND').toString('base64'),
      ExecutedVersion: '3',
      Payload: Buffer.from('{"errorMessage":"no dog"}'),
    });
    const response = await call('POST', '/2015-03-31/functions/my-function/invocations?Qualifier=live', {
      headers: { 'X-Amz-Invocation-Type': 'RequestResponse', 'X-Amz-Log-Type': 'Tail', 'X-Amz-Client-Context': 'e30=', 'content-type': 'application/octet-stream' },
      body: payload,
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-amz-function-error'), 'Unhandled');
    assert.equal(Buffer.from(response.headers.get('x-amz-log-result')!, 'base64').toString(), 'START RequestId: 1\nEND');
    assert.equal(response.headers.get('x-amz-executed-version'), '3');
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.text(), '{"errorMessage":"no dog"}');
    const input = received[0]!.input;
    assert.deepEqual({ ...input, Payload: undefined }, { FunctionName: 'my-function', Qualifier: 'live', InvocationType: 'RequestResponse', LogType: 'Tail', ClientContext: 'e30=', Payload: undefined });
    assert.deepEqual(input.Payload, payload);
  });

  it('Invoke: Event answers 202 and DryRun 204, both without a body', async () => {
    answers.Invoke = (input) => ({ StatusCode: input.InvocationType === 'Event' ? 202 : 204 });
    for (const [type, status] of [['Event', 202], ['DryRun', 204]] as const) {
      const response = await call('POST', '/2015-03-31/functions/my-function/invocations', { headers: { 'X-Amz-Invocation-Type': type }, body: '{}' });
      assert.equal(response.status, status);
      assert.equal(await response.text(), '');
    }
  });

  it("authorises after the input passed the model's checks and before the handler; a refusal is AccessDeniedException", async () => {
    await call('DELETE', '/2015-03-31/functions/my-function?Qualifier=1');
    assert.deepEqual(authorized, [{ operation: 'DeleteFunction', input: { FunctionName: 'my-function', Qualifier: '1' }, principal: PRINCIPAL }]);
    refuse = 'DeleteFunction';
    received.length = 0;
    const refused = await errorOf(await call('DELETE', '/2015-03-31/functions/my-function'));
    assert.deepEqual(refused, {
      status: 403,
      type: 'AccessDeniedException',
      body: { Type: 'User', message: `User: ${PRINCIPAL} is not authorized to perform: lambda:DeleteFunction`, Message: `User: ${PRINCIPAL} is not authorized to perform: lambda:DeleteFunction` },
    });
    assert.deepEqual(received, []);
    authorized.length = 0;
    assert.equal((await call('DELETE', '/2015-03-31/functions/not%20a%20name')).status, 400);
    assert.deepEqual(authorized, []);
  });
});

describe('REST-JSON errors, with the Lambda model', () => {
  it("a handler's DomainError in Lambda's format, with the operation's declared type", async () => {
    answers.GetFunction = () => {
      throw new DomainError('NotFound', `Function not found: ${ARN}`);
    };
    answers.GetProvisionedConcurrencyConfig = () => {
      throw new DomainError('NotFound', 'No Provisioned Concurrency Config found for this function');
    };
    assert.deepEqual(await errorOf(await call('GET', '/2015-03-31/functions/my-function')), {
      status: 404,
      type: 'ResourceNotFoundException',
      body: { Type: 'User', message: `Function not found: ${ARN}`, Message: `Function not found: ${ARN}` },
    });
    const declared = await errorOf(await call('GET', '/2019-09-30/functions/my-function/provisioned-concurrency?Qualifier=live'));
    assert.deepEqual([declared.status, declared.type], [404, 'ProvisionedConcurrencyConfigNotFoundException']);
  });

  it('a throttle carries Reason in the body and Retry-After in the headers', async () => {
    answers.Invoke = () => {
      throw new DomainError('LimitExceeded', 'Rate Exceeded.', { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', retryAfterSeconds: 3 });
    };
    const response = await call('POST', '/2015-03-31/functions/my-function/invocations', { body: '{}' });
    assert.equal(response.headers.get('retry-after'), '3');
    assert.deepEqual(await errorOf(response), {
      status: 429,
      type: 'TooManyRequestsException',
      body: { Type: 'User', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.', Message: 'Rate Exceeded.' },
    });
  });

  it('anything else is a ServiceException 500 that names only the request id, logged with it', async () => {
    answers.GetAccountSettings = () => {
      throw new Error('database is locked at /var/lib/kennel/state.db');
    };
    const response = await call('GET', '/2016-08-19/account-settings/');
    const requestIdHeader = response.headers.get('x-amzn-requestid')!;
    const error = await errorOf(response);
    assert.deepEqual([error.status, error.type, error.body.Type], [500, 'ServiceException', 'Service']);
    assert.equal(error.body.message, `An internal error occurred (request id ${requestIdHeader}); the server log has the details`);
    assert.doesNotMatch(JSON.stringify(error.body), /database|state\.db/);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.fields?.requestId, requestIdHeader);
    assert.equal(logged[0]!.fields?.operation, 'Lambda.GetAccountSettings');
    assert.match(String(logged[0]!.fields?.error), /database is locked/);
  });

  it('an output the model cannot write is a ServiceException too, with no half-written headers', async () => {
    answers.Invoke = () => ({ ExecutedVersion: '1', Payload: 42 });
    const response = await call('POST', '/2015-03-31/functions/my-function/invocations', { body: '{}' });
    assert.equal(response.headers.get('x-amz-executed-version'), null);
    assert.deepEqual([(await errorOf(response)).type, logged.length], ['ServiceException', 1]);
  });

  it('a body that is not JSON is InvalidRequestContentException', async () => {
    const error = await errorOf(await call('POST', '/2015-03-31/functions', { body: '{"FunctionName": "f",' }));
    assert.equal(error.status, 400);
    assert.equal(error.type, 'InvalidRequestContentException');
    assert.match(String(error.body.message), /^Could not parse request body into json: /);
    const wrongType = await errorOf(await call('PUT', '/2017-10-31/functions/my-function/concurrency', { body: '{"ReservedConcurrentExecutions":"five"}' }));
    assert.deepEqual([wrongType.type, wrongType.body.message], [
      'InvalidRequestContentException',
      'Could not parse request body into json: Cannot read ReservedConcurrentExecutions: expected a 32-bit integer but got the string "five".',
    ]);
    assert.deepEqual(received, []);
  });

  it("values the model refuses are a ValidationException in AWS's words", async () => {
    const error = await errorOf(await call('POST', '/2015-03-31/functions', { body: JSON.stringify({ FunctionName: 'my function', Role: ROLE, Code: {}, Runtime: 'nodejs22.x' }) }));
    assert.equal(error.status, 400);
    assert.equal(error.type, 'ValidationException');
    assert.equal(error.body.Type, 'User');
    assert.ok(
      String(error.body.message).startsWith("1 validation error detected: Value 'my function' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: "),
      String(error.body.message),
    );
  });

  it("bodies over an operation's limit are refused before the signature is read, in Lambda's words", async () => {
    const sync = await errorOf(await call('POST', '/2015-03-31/functions/my-function/invocations', { body: new Uint8Array(6 * 1024 * 1024 + 1) }));
    assert.deepEqual([sync.status, sync.type, sync.body.message], [413, 'RequestTooLargeException', 'Request must be smaller than 6291456 bytes for the InvokeFunction operation']);
    const event = await errorOf(
      await call('POST', '/2015-03-31/functions/my-function/invocations', { headers: { 'X-Amz-Invocation-Type': 'Event', 'content-length': String(1024 * 1024 + 1) }, body: new Uint8Array(1024 * 1024 + 1) }),
    );
    assert.deepEqual([event.status, event.type, event.body.message], [413, 'RequestEntityTooLargeException', '1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)']);
    const control = await errorOf(await call('PUT', '/2017-10-31/functions/my-function/concurrency', { body: `{"x":"${'a'.repeat(CONTROL_MAX_BYTES)}"}`, unsigned: true }));
    assert.deepEqual([control.status, control.type, control.body.message], [413, 'RequestEntityTooLargeException', 'Request must be smaller than 1048576 bytes for the PutFunctionConcurrency operation']);
    assert.deepEqual(received, []);
  });

  it('a synchronous Invoke takes its full 6 MB, and CreateFunction a package over the control-plane limit', async () => {
    assert.equal((await call('POST', '/2015-03-31/functions/my-function/invocations', { body: new Uint8Array(6 * 1024 * 1024) })).status, 200);
    const zip = Buffer.alloc(3 * 1024 * 1024, 1).toString('base64');
    const response = await call('POST', '/2015-03-31/functions', { body: JSON.stringify({ FunctionName: 'big', Role: ROLE, Code: { ZipFile: zip } }) });
    assert.equal(response.status, 201);
    assert.equal((received[1]!.input.Code as { ZipFile: Buffer }).ZipFile.byteLength, 3 * 1024 * 1024);
  });

  it("unsigned, unknown-key and badly signed requests are refused in Lambda's format before the handler runs", async () => {
    const unsigned = await errorOf(await call('GET', '/2015-03-31/functions/my-function', { unsigned: true }));
    assert.deepEqual([unsigned.status, unsigned.type, unsigned.body.Type], [403, 'MissingAuthenticationTokenException', 'User']);
    const unknownKey = await errorOf(await call('GET', '/2015-03-31/functions/my-function', { credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' } }));
    assert.deepEqual([unknownKey.status, unknownKey.type, unknownKey.body.message], [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.']);
    const wrongSecret = await errorOf(await call('GET', '/2015-03-31/functions/my-function', { credentials: { ...KEY, secretAccessKey: 'wrong' } }));
    assert.deepEqual([wrongSecret.status, wrongSecret.type], [403, 'InvalidSignatureException']);
    const tampered = await errorOf(
      await call('PUT', '/2017-10-31/functions/my-function/concurrency', {
        body: '{"ReservedConcurrentExecutions":5}',
        tamper: (init) => void (init.body = new TextEncoder().encode('{"ReservedConcurrentExecutions":0}')),
      }),
    );
    assert.deepEqual([tampered.status, tampered.type], [403, 'InvalidSignatureException']);
    const otherService = new SignatureV4({ service: 'sagemaker', region: 'us-east-1', credentials: KEY, sha256: Sha256 });
    const signedForSageMaker = await otherService.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: 'lambda.kennel.test', path: '/2015-03-31/functions/my-function', headers: { host: 'lambda.kennel.test' } }), { signingDate: new Date(NOW) });
    const wrongScope = await errorOf(await app.request('/2015-03-31/functions/my-function', { headers: signedForSageMaker.headers as Record<string, string> }));
    assert.equal(wrongScope.status, 403);
    assert.deepEqual(received, []);
  });

  it('an unknown path or method under the service\'s prefixes is UnknownOperationException 404; other paths are not claimed', async () => {
    const unknownPath = await errorOf(await call('GET', '/2015-03-31/functions/my-function/nothing'));
    assert.deepEqual(unknownPath, {
      status: 404,
      type: 'UnknownOperationException',
      body: { Type: 'User', message: 'No Lambda operation at GET /2015-03-31/functions/my-function/nothing', Message: 'No Lambda operation at GET /2015-03-31/functions/my-function/nothing' },
    });
    const unknownMethod = await errorOf(await call('PATCH', '/2015-03-31/functions/my-function'));
    assert.deepEqual([unknownMethod.status, unknownMethod.type], [404, 'UnknownOperationException']);
    assert.equal((await app.request('/2018-06-01/runtime/invocation/next')).status, 404);
    assert.equal((await app.request('/2018-06-01/runtime/invocation/next')).headers.get('x-amzn-errortype'), null);
  });

  it('a modelled operation the service does not implement is UnknownOperationException too', async () => {
    const partial = lambdaApp(['GetFunction']);
    const response = await partial.request('/2016-08-19/account-settings/');
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { Type: 'User', message: 'Lambda GetAccountSettings is not supported by this server', Message: 'Lambda GetAccountSettings is not supported by this server' });
  });

  it('refuses, when built, an operation the model does not have', () => {
    assert.throws(() => restJsonRoutes({ lookupSecret, clock: { now: () => NOW }, logger }, { signingName: 'lambda', model, operations: { InvokeAsync: { handler: () => ({}) } }, ...lambdaWire }, () => {}), /has no operation InvokeAsync/);
  });
});
