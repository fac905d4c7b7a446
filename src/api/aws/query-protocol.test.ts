import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/logger.ts';
import type { ApiEnv } from '../env.ts';
import { requestId } from '../middleware/request-id/index.ts';
import { dispatchQueryOperation, readQueryParams, type QueryError, type QueryService } from './query-protocol.ts';
import { loadServiceModel } from './service-model.ts';

/**
 * Dispatch on the wire, in-process (app.request): Action and Version, input
 * checks, and how handler errors are answered. The SDKs' view is in
 * query-protocol.sdk.test.ts.
 */
const ERRORS: Partial<Record<ErrorCode, Omit<QueryError, 'message'>>> = {
  ValidationError: { status: 400, code: 'ValidationError' },
  NotFound: { status: 404, code: 'NoSuchEntity' },
  Internal: { status: 500, code: 'ServiceFailure' },
};

const user = { UserName: 'bob', Path: '/', UserId: 'AIDA1', Arn: 'arn:aws:iam::000000000000:user/bob', CreateDate: new Date('2026-12-01T18:25:17Z') };

const service: QueryService = {
  signingName: 'iam',
  model: loadServiceModel('iam'),
  operations: {
    GetUser: {
      handler: (input: { UserName?: string }) => {
        if (input.UserName === 'nobody') throw new DomainError('NotFound', 'The user with name nobody cannot be found.');
        if (input.UserName === 'crash') throw new Error('secret internals');
        if (input.UserName === 'badoutput') return { User: 'not a structure' };
        return { User: { ...user, UserName: input.UserName ?? 'bob' } };
      },
    },
    DeleteUser: { handler: () => undefined },
  },
  errorFor: (code, message) => ({ ...(ERRORS[code] ?? { status: 400, code: 'InvalidInput' }), message }),
};

function appFor(logger: Logger = silentLogger, withRequestId = true): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  if (withRequestId) app.use(requestId());
  app.all('/', async (c) => dispatchQueryOperation(c, service, await readQueryParams(c), logger, () => {}));
  return app;
}

async function post(body: string, app = appFor()) {
  const response = await app.request('http://localhost/', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: response.status, headers: response.headers, xml: await response.text() };
}

function element(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

describe('dispatching query-protocol calls', () => {
  it('answers a form POST in XML, with the request id in the header and the document', async () => {
    const { status, headers, xml } = await post('Action=GetUser&Version=2010-05-08&UserName=alice');
    assert.equal(status, 200);
    assert.equal(headers.get('content-type'), 'text/xml');
    assert.match(xml, /^<GetUserResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><GetUserResult><User>.*<UserName>alice<\/UserName>/);
    assert.equal(element(xml, 'RequestId'), headers.get('x-amzn-RequestId'));
  });

  it('reads the parameters of a GET from its query string', async () => {
    const response = await appFor().request('http://localhost/?Action=GetUser&Version=2010-05-08&UserName=carol');
    assert.equal(response.status, 200);
    assert.equal(element(await response.text(), 'UserName'), 'carol');
  });

  it('answers an operation without output with its response metadata', async () => {
    const { status, xml } = await post('Action=DeleteUser&Version=2010-05-08&UserName=bob');
    assert.equal(status, 200);
    assert.match(xml, /^<DeleteUserResponse xmlns="[^"]+"><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/DeleteUserResponse>$/);
  });

  it('refuses a request without Action as MissingAction', async () => {
    const { status, headers, xml } = await post('Version=2010-05-08&UserName=bob');
    assert.equal(status, 400);
    assert.equal(headers.get('content-type'), 'text/xml');
    assert.equal(element(xml, 'Type'), 'Sender');
    assert.equal(element(xml, 'Code'), 'MissingAction');
    assert.match(element(xml, 'Message') ?? '', /Action=&lt;operation&gt;&amp;Version=2010-05-08/);
    assert.match(xml, /^<ErrorResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><Error>.*<\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
  });

  it('refuses an unknown or unserved operation, and a wrong or missing version, as InvalidAction', async () => {
    for (const [body, message] of [
      ['Action=CreateLoginProfile&Version=2010-05-08', 'Could not find operation CreateLoginProfile for version 2010-05-08'],
      ['Action=ListUsers&Version=2010-05-08', 'Could not find operation ListUsers for version 2010-05-08'],
      ['Action=GetUser&Version=2011-06-15', 'Could not find operation GetUser for version 2011-06-15'],
      ['Action=GetUser', 'Could not find operation GetUser for version NO_VERSION_SPECIFIED'],
      ['Action=toString&Version=2010-05-08', 'Could not find operation toString for version 2010-05-08'],
    ]) {
      const { status, xml } = await post(body);
      assert.equal(status, 400, body);
      assert.equal(element(xml, 'Code'), 'InvalidAction', body);
      assert.equal(element(xml, 'Message'), message);
    }
  });

  it("refuses input the model does not allow with the service's ValidationError, before the handler runs", async () => {
    const { status, xml } = await post('Action=GetUser&Version=2010-05-08&UserName=crash%21');
    assert.equal(status, 400);
    assert.equal(element(xml, 'Code'), 'ValidationError');
    assert.equal(
      element(xml, 'Message'),
      "1 validation error detected: Value &apos;crash!&apos; at &apos;userName&apos; failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ (in SDK terms: UserName)",
    );
  });

  it('maps DomainErrors through the service', async () => {
    const { status, xml } = await post('Action=GetUser&Version=2010-05-08&UserName=nobody');
    assert.equal(status, 404);
    assert.equal(element(xml, 'Code'), 'NoSuchEntity');
    assert.equal(element(xml, 'Message'), 'The user with name nobody cannot be found.');
  });

  it('answers a bug, thrown or in the output, with the internal error and the request id, and logs the stack', async () => {
    for (const name of ['crash', 'badoutput']) {
      const logged: Record<string, unknown>[] = [];
      const logger: Logger = { ...silentLogger, error: (_message, fields) => logged.push(fields ?? {}) };
      const { status, headers, xml } = await post(`Action=GetUser&Version=2010-05-08&UserName=${name}`, appFor(logger));
      assert.equal(status, 500);
      assert.equal(element(xml, 'Type'), 'Receiver');
      assert.equal(element(xml, 'Code'), 'ServiceFailure');
      const id = headers.get('x-amzn-RequestId') ?? '';
      assert.equal(element(xml, 'Message'), `An internal error occurred (request id ${id}); the server log has the details`);
      assert.doesNotMatch(xml, /secret internals|at .*\.ts/);
      assert.equal(logged.length, 1);
      assert.equal(logged[0].requestId, id);
      assert.match(String(logged[0].error), name === 'crash' ? /secret internals\n\s+at / : /GetUser\.User: User needs an object/);
    }
  });

  it('makes a request id when the middleware did not', async () => {
    const { headers, xml } = await post('Action=GetUser&Version=2010-05-08', appFor(silentLogger, false));
    assert.match(headers.get('x-amzn-RequestId') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(element(xml, 'RequestId'), headers.get('x-amzn-RequestId'));
  });
});
