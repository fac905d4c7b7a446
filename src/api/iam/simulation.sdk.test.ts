import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AttachUserPolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  PutRolePolicyCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  SimulateCustomPolicyCommand,
  SimulatePrincipalPolicyCommand,
  type EvaluationResult,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { AwsClientPool, policy, closeKennelWithClients, startKennelWithClients } from '../../testing/aws-clients.ts';

/**
 * SimulatePrincipalPolicy and SimulateCustomPolicy through @aws-sdk/client-iam
 * against a real Kennel: the three decisions, the statements that made them,
 * boundaries, context keys and errors.
 */
const ACCOUNT = '000000000000';
const SAGEMAKER_READ = 'arn:aws:iam::aws:policy/AmazonSageMakerReadOnly';
const endpoint = (name: string) => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${name}`;

/** `action on resource: decision` for each result, the way a reader compares them. */
const decisions = (results: EvaluationResult[] | undefined) => results?.map((r) => `${r.EvalActionName} on ${r.EvalResourceName}: ${r.EvalDecision}`);

describe('IAM policy simulation through @aws-sdk/client-iam', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let iam: IAMClient;

  before(async () => {
    ({ test, pool, iam } = await startKennelWithClients());
    await iam.send(new CreateUserCommand({ UserName: 'analyst' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'analyst', PolicyArn: SAGEMAKER_READ }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'analyst',
        PolicyName: 'hide-secret',
        PolicyDocument: policy({ Sid: 'HideSecret', Effect: 'Deny', Action: 'sagemaker:DescribeEndpoint', Resource: endpoint('secret') }),
      }),
    );
  });
  after(() => closeKennelWithClients(test, pool));

  it('SimulatePrincipalPolicy: a user’s policies allow, deny explicitly and deny implicitly, naming the statements', async () => {
    const result = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/analyst`,
        ActionNames: ['sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint'],
        ResourceArns: [endpoint('public'), endpoint('secret')],
      }),
    );
    assert.deepEqual(decisions(result.EvaluationResults), [
      `sagemaker:DescribeEndpoint on ${endpoint('public')}: allowed`,
      `sagemaker:DescribeEndpoint on ${endpoint('secret')}: explicitDeny`,
      `sagemaker:DeleteEndpoint on ${endpoint('public')}: implicitDeny`,
      `sagemaker:DeleteEndpoint on ${endpoint('secret')}: implicitDeny`,
    ]);
    assert.equal(result.IsTruncated, false);
    const [allowed, denied, implicit] = result.EvaluationResults!;
    assert.deepEqual(allowed!.MatchedStatements?.map((s) => s.SourcePolicyType), ['aws-managed']);
    assert.match(allowed!.MatchedStatements![0]!.SourcePolicyId!, /AmazonSageMakerReadOnly/);
    assert.deepEqual(denied!.MatchedStatements?.map((s) => s.SourcePolicyType), ['user']);
    assert.match(denied!.MatchedStatements![0]!.SourcePolicyId!, /hide-secret/);
    assert.deepEqual(implicit!.MatchedStatements, []);
    assert.deepEqual(allowed!.MissingContextValues, []);
  });

  it('SimulatePrincipalPolicy adds PolicyInputList to the stored policies and applies a boundary', async () => {
    const withInput = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/analyst`,
        PolicyInputList: [policy({ Effect: 'Allow', Action: 'sagemaker:DeleteEndpoint', Resource: endpoint('public') })],
        ActionNames: ['sagemaker:DeleteEndpoint'],
        ResourceArns: [endpoint('public')],
      }),
    );
    assert.deepEqual(decisions(withInput.EvaluationResults), [`sagemaker:DeleteEndpoint on ${endpoint('public')}: allowed`]);
    assert.deepEqual(withInput.EvaluationResults![0]!.MatchedStatements?.map((s) => s.SourcePolicyId), ['PolicyInputList.1']);

    await iam.send(new CreateUserCommand({ UserName: 'bounded-admin' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'bounded-admin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'bounded-admin', PermissionsBoundary: SAGEMAKER_READ }));
    const bounded = await iam.send(
      new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/bounded-admin`, ActionNames: ['sagemaker:ListEndpoints', 'iam:CreateUser'] }),
    );
    assert.deepEqual(decisions(bounded.EvaluationResults), ['sagemaker:ListEndpoints on *: allowed', 'iam:CreateUser on *: implicitDeny']);
  });

  it('SimulatePrincipalPolicy on a role reads the role’s policies', async () => {
    await iam.send(
      new CreateRoleCommand({ RoleName: 'tagger', AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' }) }),
    );
    await iam.send(new PutRolePolicyCommand({ RoleName: 'tagger', PolicyName: 'tags', PolicyDocument: policy({ Effect: 'Allow', Action: 'sagemaker:AddTags', Resource: '*' }) }));
    const result = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/tagger`, ActionNames: ['sagemaker:AddTags', 'sagemaker:DeleteTags'] }));
    assert.deepEqual(decisions(result.EvaluationResults), ['sagemaker:AddTags on *: allowed', 'sagemaker:DeleteTags on *: implicitDeny']);
    assert.deepEqual(result.EvaluationResults![0]!.MatchedStatements?.map((s) => s.SourcePolicyType), ['role']);
  });

  it('SimulateCustomPolicy: allowed, explicitDeny and implicitDeny from the policies passed in, within a boundary, with context keys', async () => {
    const objects = policy(
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' },
      { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/private/*' },
    );
    const result = await iam.send(
      new SimulateCustomPolicyCommand({
        PolicyInputList: [objects],
        ActionNames: ['s3:GetObject', 's3:PutObject'],
        ResourceArns: ['arn:aws:s3:::data/public.csv', 'arn:aws:s3:::data/private/salaries.csv'],
      }),
    );
    assert.deepEqual(decisions(result.EvaluationResults), [
      's3:GetObject on arn:aws:s3:::data/public.csv: allowed',
      's3:GetObject on arn:aws:s3:::data/private/salaries.csv: explicitDeny',
      's3:PutObject on arn:aws:s3:::data/public.csv: implicitDeny',
      's3:PutObject on arn:aws:s3:::data/private/salaries.csv: implicitDeny',
    ]);
    assert.deepEqual(result.EvaluationResults![0]!.MatchedStatements?.map((s) => s.SourcePolicyId), ['PolicyInputList.1']);

    const boundary = await iam.send(
      new SimulateCustomPolicyCommand({
        PolicyInputList: [policy({ Effect: 'Allow', Action: '*', Resource: '*' })],
        PermissionsBoundaryPolicyInputList: [policy({ Effect: 'Allow', Action: 'sagemaker:List*', Resource: '*' })],
        ActionNames: ['sagemaker:ListEndpoints', 'sagemaker:DeleteEndpoint'],
      }),
    );
    assert.deepEqual(decisions(boundary.EvaluationResults), ['sagemaker:ListEndpoints on *: allowed', 'sagemaker:DeleteEndpoint on *: implicitDeny']);

    const fromOffice = policy({ Effect: 'Allow', Action: 'sagemaker:ListEndpoints', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
    const at = async (ip: string) =>
      decisions(
        (
          await iam.send(
            new SimulateCustomPolicyCommand({
              PolicyInputList: [fromOffice],
              ActionNames: ['sagemaker:ListEndpoints'],
              ContextEntries: [{ ContextKeyName: 'aws:SourceIp', ContextKeyType: 'ip', ContextKeyValues: [ip] }],
            }),
          )
        ).EvaluationResults,
      );
    assert.deepEqual(await at('10.1.2.3'), ['sagemaker:ListEndpoints on *: allowed']);
    assert.deepEqual(await at('192.168.1.1'), ['sagemaker:ListEndpoints on *: implicitDeny']);
  });

  it('results page with MaxItems and Marker', async () => {
    const input = { PolicyInputList: [policy({ Effect: 'Allow', Action: 'sagemaker:List*', Resource: '*' })], ActionNames: ['sagemaker:ListEndpoints', 'sagemaker:ListModels', 'sagemaker:DeleteModel'] };
    const first = await iam.send(new SimulateCustomPolicyCommand({ ...input, MaxItems: 2 }));
    assert.equal(first.IsTruncated, true);
    assert.deepEqual(decisions(first.EvaluationResults), ['sagemaker:ListEndpoints on *: allowed', 'sagemaker:ListModels on *: allowed']);
    const rest = await iam.send(new SimulateCustomPolicyCommand({ ...input, MaxItems: 2, Marker: first.Marker }));
    assert.equal(rest.IsTruncated, false);
    assert.deepEqual(decisions(rest.EvaluationResults), ['sagemaker:DeleteModel on *: implicitDeny']);
  });

  it('a principal that does not exist is NoSuchEntity; a policy that does not parse is refused', async () => {
    const missing = await sdkFailure(iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/ghost`, ActionNames: ['sagemaker:ListEndpoints'] })));
    assert.deepEqual(missing, { name: 'NoSuchEntityException', status: 404, message: `The principal arn:aws:iam::${ACCOUNT}:user/ghost cannot be found.` });
    const broken = await sdkFailure(iam.send(new SimulateCustomPolicyCommand({ PolicyInputList: ['{"Statement": ['], ActionNames: ['sagemaker:ListEndpoints'] })));
    assert.deepEqual([broken.name, broken.status], ['MalformedPolicyDocumentException', 400]);
    assert.match(broken.message, /PolicyInputList member 1/);
  });
});
