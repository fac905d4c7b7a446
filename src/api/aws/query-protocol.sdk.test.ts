import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  DeleteUserCommand,
  EntityAlreadyExistsException,
  GetPolicyVersionCommand,
  GetUserCommand,
  IAMClient,
  ListUsersCommand,
  NoSuchEntityException,
  SimulateCustomPolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { DomainError, type ErrorCode } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import type { ApiEnv } from '../env.ts';
import { requestId } from '../middleware/request-id/index.ts';
import { dispatchQueryOperation, readQueryParams, type QueryError, type QueryOperation, type QueryService } from './query-protocol.ts';
import { loadServiceModel } from './service-model.ts';

/**
 * The codec against the real AWS SDK v3 clients over HTTP: what they send
 * decodes to exactly what was passed, what Kennel answers parses to the objects
 * the SDK documents, and errors become the SDK's exception classes. Handlers
 * record their input and answer fixed outputs; signatures are not checked here.
 */
const KEY = { accessKeyId: 'AKIDQUERYTEST', secretAccessKey: 'query/secret' };
const CREATED = new Date('2026-12-01T18:25:17Z');
const EXPIRES = new Date('2026-12-01T19:25:17.359Z');
const DOCUMENT = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a&b/<c>/\'d\'+e"}]}\r\n\t';
const user = (UserName: string) => ({ UserName, Path: '/', UserId: `AIDA${UserName.toUpperCase()}`, Arn: `arn:aws:iam::000000000000:user/${UserName}`, CreateDate: CREATED });

const ERRORS: Partial<Record<ErrorCode, Omit<QueryError, 'message'>>> = {
  ValidationError: { status: 400, code: 'ValidationError' },
  NotFound: { status: 404, code: 'NoSuchEntity' },
  AlreadyExists: { status: 409, code: 'EntityAlreadyExists' },
};
const errorFor = (code: ErrorCode, message: string): QueryError => ({ ...(ERRORS[code] ?? { status: 500, code: 'ServiceFailure' }), message });

/** The last input each operation received. */
const received = new Map<string, unknown>();
function recording(operations: Record<string, (input: never) => unknown>): Record<string, QueryOperation> {
  return Object.fromEntries(
    Object.entries(operations).map(([name, answer]) => [name, { handler: (input: never) => (received.set(name, input), answer(input)) }]),
  );
}

const iamService: QueryService = {
  signingName: 'iam',
  model: loadServiceModel('iam'),
  errorFor,
  operations: recording({
    CreateUser: (input: { UserName: string; Tags?: unknown[] }) => ({ User: { ...user(input.UserName), Tags: input.Tags } }),
    GetUser: (input: { UserName?: string }) => {
      if (input.UserName === 'nobody') throw new DomainError('NotFound', 'The user with name nobody cannot be found.');
      const boundary = { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: 'arn:aws:iam::aws:policy/PowerUserAccess' };
      return { User: { ...user(input.UserName ?? 'me'), PasswordLastUsed: EXPIRES, PermissionsBoundary: boundary, Tags: [] } };
    },
    ListUsers: () => ({ Users: [user('a'), user('b')], IsTruncated: true, Marker: 'next&page' }),
    DeleteUser: () => undefined,
    CreateGroup: (input: { GroupName: string }) => {
      throw new DomainError('AlreadyExists', `Group with name ${input.GroupName} already exists.`);
    },
    CreatePolicy: (input: { PolicyName: string }) => ({
      Policy: { PolicyName: input.PolicyName, PolicyId: 'ANPA1', Arn: `arn:aws:iam::000000000000:policy/${input.PolicyName}`, AttachmentCount: 0, IsAttachable: true, CreateDate: CREATED },
    }),
    GetPolicyVersion: () => ({ PolicyVersion: { Document: DOCUMENT, VersionId: 'v1', IsDefaultVersion: true, CreateDate: CREATED } }),
    SimulateCustomPolicy: () => ({
      EvaluationResults: [
        {
          EvalActionName: 's3:GetObject',
          EvalResourceName: '*',
          EvalDecision: 'allowed',
          EvalDecisionDetails: { IAM: 'allowed', 'Resource policy': 'implicitDeny' },
          MatchedStatements: [{ SourcePolicyId: 'PolicyInputList.1', StartPosition: { Line: 1, Column: 10 } }],
          MissingContextValues: [],
        },
      ],
      IsTruncated: false,
    }),
  }),
};

const stsService: QueryService = {
  signingName: 'sts',
  model: loadServiceModel('sts'),
  errorFor,
  operations: recording({
    GetCallerIdentity: () => ({ UserId: 'AIDAME', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:user/me' }),
    AssumeRole: (input: { RoleArn: string; RoleSessionName: string }) => ({
      Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: EXPIRES },
      AssumedRoleUser: { AssumedRoleId: `AROA1:${input.RoleSessionName}`, Arn: `arn:aws:sts::000000000000:assumed-role/r/${input.RoleSessionName}` },
      PackedPolicySize: 6,
    }),
    GetSessionToken: () => ({ Credentials: { AccessKeyId: 'ASIA2', SecretAccessKey: 'secret2', SessionToken: 'token2', Expiration: EXPIRES } }),
  }),
};

describe('the query protocol with the real AWS SDK v3 clients', () => {
  let server: ServerType;
  let iam: IAMClient;
  let sts: STSClient;

  before(async () => {
    const app = new Hono<ApiEnv>();
    app.use(requestId());
    // The two services on two paths, so one server answers both without routing by signature.
    app.post('/iam/', async (c) => dispatchQueryOperation(c, iamService, await readQueryParams(c), silentLogger, () => {}));
    app.post('/sts/', async (c) => dispatchQueryOperation(c, stsService, await readQueryParams(c), silentLogger, () => {}));
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve(info.port));
    });
    const options = { region: 'us-east-1', credentials: KEY, maxAttempts: 1 };
    iam = new IAMClient({ ...options, endpoint: `http://127.0.0.1:${port}/iam/` });
    sts = new STSClient({ ...options, endpoint: `http://127.0.0.1:${port}/sts/` });
  });
  after(async () => {
    iam.destroy();
    sts.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('CreateUser: tags go over as list members and come back in the user', async () => {
    const Tags = [
      { Key: 'team', Value: 'dogs and cats' },
      { Key: 'cost-centre', Value: '=42+@' },
    ];
    const result = await iam.send(new CreateUserCommand({ UserName: 'bob', Path: '/', Tags }));
    assert.deepEqual(received.get('CreateUser'), { UserName: 'bob', Path: '/', Tags });
    assert.deepEqual(result.User, { ...user('bob'), Tags });
    assert.ok(result.User?.CreateDate instanceof Date);
    assert.match(result.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
  });

  it('CreatePolicy: a JSON document with markup characters and line ends arrives unchanged, and comes back unchanged', async () => {
    const result = await iam.send(new CreatePolicyCommand({ PolicyName: 'read', PolicyDocument: DOCUMENT, Description: 'a "quoted" <description>' }));
    assert.deepEqual(received.get('CreatePolicy'), { PolicyName: 'read', PolicyDocument: DOCUMENT, Description: 'a "quoted" <description>' });
    assert.equal(result.Policy?.IsAttachable, true);
    assert.equal(result.Policy?.AttachmentCount, 0);
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: 'arn:aws:iam::000000000000:policy/read', VersionId: 'v1' }));
    assert.deepEqual(version.PolicyVersion, { Document: DOCUMENT, VersionId: 'v1', IsDefaultVersion: true, CreateDate: CREATED });
  });

  it('SimulateCustomPolicy: policy lists, and context entries with their own value lists', async () => {
    const input = {
      PolicyInputList: [DOCUMENT, '{"Version":"2012-10-17","Statement":[]}'],
      ActionNames: ['s3:GetObject', 's3:PutObject'],
      ResourceArns: ['arn:aws:s3:::bucket/*'],
      ContextEntries: [
        { ContextKeyName: 'aws:SourceIp', ContextKeyType: 'ip' as const, ContextKeyValues: ['10.0.0.1'] },
        { ContextKeyName: 'aws:PrincipalTag/team', ContextKeyType: 'stringList' as const, ContextKeyValues: ['dogs', 'cats'] },
      ],
      MaxItems: 10,
    };
    const result = await iam.send(new SimulateCustomPolicyCommand(input));
    assert.deepEqual(received.get('SimulateCustomPolicy'), input);
    assert.deepEqual(result.EvaluationResults, [
      {
        EvalActionName: 's3:GetObject',
        EvalResourceName: '*',
        EvalDecision: 'allowed',
        EvalDecisionDetails: { IAM: 'allowed', 'Resource policy': 'implicitDeny' },
        MatchedStatements: [{ SourcePolicyId: 'PolicyInputList.1', StartPosition: { Line: 1, Column: 10 } }],
        MissingContextValues: [],
      },
    ]);
    assert.equal(result.IsTruncated, false);
  });

  it('GetUser: a nested user with dates, a permissions boundary and an empty tag list', async () => {
    const result = await iam.send(new GetUserCommand({ UserName: 'carol' }));
    assert.deepEqual(result.User, {
      ...user('carol'),
      PasswordLastUsed: EXPIRES,
      PermissionsBoundary: { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: 'arn:aws:iam::aws:policy/PowerUserAccess' },
      Tags: [],
    });
    await iam.send(new GetUserCommand({}));
    assert.deepEqual(received.get('GetUser'), {});
  });

  it('ListUsers and DeleteUser: lists of structures, booleans, and an answer without output', async () => {
    const result = await iam.send(new ListUsersCommand({ MaxItems: 2, PathPrefix: '/' }));
    assert.deepEqual(received.get('ListUsers'), { MaxItems: 2, PathPrefix: '/' });
    assert.deepEqual(result.Users, [user('a'), user('b')]);
    assert.equal(result.IsTruncated, true);
    assert.equal(result.Marker, 'next&page');
    const deleted = await iam.send(new DeleteUserCommand({ UserName: 'bob' }));
    assert.equal(deleted.$metadata.httpStatusCode, 200);
  });

  it('errors become the modelled exception classes, with code, message and status', async () => {
    await assert.rejects(iam.send(new GetUserCommand({ UserName: 'nobody' })), (error: NoSuchEntityException) => {
      assert.ok(error instanceof NoSuchEntityException);
      assert.equal(error.name, 'NoSuchEntityException');
      // The wire's code, as the SDK keeps it beside the class.
      assert.deepEqual((error as unknown as { Error: unknown }).Error, { Type: 'Sender', Code: 'NoSuchEntity', Message: 'The user with name nobody cannot be found.' });
      assert.equal(error.message, 'The user with name nobody cannot be found.');
      assert.equal(error.$metadata.httpStatusCode, 404);
      assert.equal(error.$fault, 'client');
      assert.match(error.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
      return true;
    });
    await assert.rejects(iam.send(new CreateGroupCommand({ GroupName: 'admins' })), (error: EntityAlreadyExistsException) => {
      assert.ok(error instanceof EntityAlreadyExistsException);
      assert.equal(error.name, 'EntityAlreadyExistsException');
      assert.equal(error.message, 'Group with name admins already exists.');
      assert.equal(error.$metadata.httpStatusCode, 409);
      return true;
    });
  });

  it('a ValidationError, which IAM does not model, reaches the SDK by its code', async () => {
    await assert.rejects(iam.send(new ListUsersCommand({ MaxItems: 0 })), (error: Error & { $metadata: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'ValidationError');
      assert.equal(
        error.message,
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1 (in SDK terms: MaxItems)",
      );
      assert.equal(error.$metadata.httpStatusCode, 400);
      return true;
    });
  });

  it('STS: GetCallerIdentity, AssumeRole with its session inputs, GetSessionToken', async () => {
    assert.deepEqual((await sts.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:iam::000000000000:user/me');
    const input = {
      RoleArn: 'arn:aws:iam::000000000000:role/reader',
      RoleSessionName: 'session-1',
      DurationSeconds: 900,
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}',
      Tags: [{ Key: 'project', Value: 'kennel' }],
      TransitiveTagKeys: ['project'],
    };
    const assumed = await sts.send(new AssumeRoleCommand(input));
    assert.deepEqual(received.get('AssumeRole'), input);
    assert.deepEqual(assumed.Credentials, { AccessKeyId: 'ASIA1', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: EXPIRES });
    assert.ok(assumed.Credentials?.Expiration instanceof Date);
    assert.equal(assumed.AssumedRoleUser?.Arn, 'arn:aws:sts::000000000000:assumed-role/r/session-1');
    assert.equal(assumed.PackedPolicySize, 6);
    const session = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 3600 }));
    assert.deepEqual(received.get('GetSessionToken'), { DurationSeconds: 3600 });
    assert.equal(session.Credentials?.SessionToken, 'token2');
  });
});
