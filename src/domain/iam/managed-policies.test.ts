import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTION_CATALOG } from './action-catalog.ts';
import { MANAGED_POLICIES, managedPolicy } from './managed-policies.ts';
import { parsePolicyDocument } from './policy-document.ts';
import { validatePolicy } from './validate-policy.ts';
import { actionMatches } from './wildcards.ts';

const grants = (arn: string, action: string, resource = '*'): boolean => {
  const document = parsePolicyDocument(managedPolicy(arn)!.document);
  return document.statements.some(
    (statement) =>
      statement.effect === 'Allow' &&
      (statement.action ?? []).some((pattern) => actionMatches(pattern, action)) &&
      (statement.resource ?? []).some((pattern) => pattern === '*' || pattern === resource),
  );
};

describe('MANAGED_POLICIES', () => {
  for (const policy of MANAGED_POLICIES) {
    it(`${policy.name} parses and has no ERROR findings`, () => {
      parsePolicyDocument(policy.document);
      const errors = validatePolicy(JSON.stringify(policy.document)).filter((finding) => finding.severity === 'ERROR');
      assert.deepEqual(errors, []);
    });
  }

  it("names each policy by AWS's ARN, path included", () => {
    for (const policy of MANAGED_POLICIES) {
      assert.match(policy.path, /^\/([\w-]+\/)*$/);
      assert.equal(policy.arn, `arn:aws:iam::aws:policy${policy.path}${policy.name}`);
      assert.ok(policy.description.length > 0);
    }
    assert.equal(new Set(MANAGED_POLICIES.map((policy) => policy.arn)).size, MANAGED_POLICIES.length);
    assert.deepEqual(
      MANAGED_POLICIES.filter((policy) => policy.path !== '/').map((policy) => policy.arn),
      ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole', 'arn:aws:iam::aws:policy/service-role/AWSLambdaRole'],
    );
  });

  it('looks policies up by ARN', () => {
    assert.equal(managedPolicy('arn:aws:iam::aws:policy/service-role/AWSLambdaRole')?.name, 'AWSLambdaRole');
    assert.equal(managedPolicy('arn:aws:iam::aws:policy/AWSLambdaRole'), undefined);
    assert.equal(managedPolicy('arn:aws:iam::000000000000:policy/AdministratorAccess'), undefined);
  });

  it('names only services Kennel runs', () => {
    const services = new Set(Object.keys(ACTION_CATALOG));
    for (const policy of MANAGED_POLICIES) {
      for (const statement of parsePolicyDocument(policy.document).statements) {
        for (const action of statement.action ?? []) {
          if (action !== '*') assert.ok(services.has(action.slice(0, action.indexOf(':'))), `${policy.name}: ${action}`);
        }
      }
    }
  });

  it('grants what the AWS originals grant, within Kennel', () => {
    const table: Array<[string, string, boolean, string?]> = [
      ['AdministratorAccess', 'iam:DeleteUser', true],
      ['ReadOnlyAccess', 'sagemaker:DescribeEndpoint', true],
      ['ReadOnlyAccess', 'kennel:GetTrainingJobMetrics', true],
      ['ReadOnlyAccess', 'sagemaker:InvokeEndpoint', false],
      ['ReadOnlyAccess', 'iam:PassRole', false],
      ['IAMReadOnlyAccess', 'iam:GetRole', true],
      ['IAMReadOnlyAccess', 'iam:CreateRole', false],
      ['AmazonSageMakerReadOnly', 'sagemaker:ListEndpoints', true],
      ['AmazonSageMakerReadOnly', 'sagemaker:DeleteEndpoint', false],
      ['AmazonSageMakerFullAccess', 'iam:PassRole', true, 'arn:aws:iam::*:role/*'],
      ['AmazonSageMakerFullAccess', 's3:GetObject', true, 'arn:aws:s3:::*sagemaker*'],
      ['AmazonSageMakerFullAccess', 'kennel:RegisterDataset', true],
      ['AWSLambda_FullAccess', 'lambda:PutFunctionConcurrency', true],
      ['AWSLambda_ReadOnlyAccess', 'lambda:GetFunctionConcurrency', true],
      ['AWSLambda_ReadOnlyAccess', 'lambda:InvokeFunction', false],
      ['service-role/AWSLambdaBasicExecutionRole', 'logs:PutLogEvents', true],
      ['service-role/AWSLambdaBasicExecutionRole', 's3:GetObject', false],
      ['service-role/AWSLambdaRole', 'lambda:InvokeFunction', true],
      ['AWSLambdaExecute', 's3:PutObject', true, 'arn:aws:s3:::*'],
      ['AmazonS3ReadOnlyAccess', 's3:GetObject', true],
      ['AmazonS3ReadOnlyAccess', 's3:PutObject', false],
      ['AmazonS3FullAccess', 's3:DeleteObject', true],
    ];
    for (const [name, action, expected, resource] of table) {
      assert.equal(grants(`arn:aws:iam::aws:policy/${name}`, action, resource), expected, `${name} ${action}`);
    }
  });

  it('passes roles in AmazonSageMakerFullAccess only to SageMaker, as AWS does', () => {
    const statement = managedPolicy('arn:aws:iam::aws:policy/AmazonSageMakerFullAccess')!.document.Statement.find((s) => s.Sid === 'AllowPassRoleToSageMaker');
    assert.deepEqual(statement?.Condition, { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
  });

  it('cannot be changed by a caller', () => {
    const policy = managedPolicy('arn:aws:iam::aws:policy/AdministratorAccess')!;
    assert.throws(() => {
      (policy.document.Statement as unknown[]).push({ Effect: 'Deny', Action: '*', Resource: '*' });
    }, TypeError);
    assert.equal(policy.document.Statement.length, 1);
  });
});
