import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suggestPolicy, unusedPermissions, type UsageRecord } from './least-privilege.ts';
import { compilePolicy } from './compile-policy.ts';
import { evaluatePolicies, requestContextKeys } from './evaluate.ts';
import { managedPolicy } from './managed-policies.ts';
import { parsePolicyDocument } from './policy-document.ts';
import { validatePolicy } from './validate-policy.ts';

const DOG_BREEDS = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dog-breeds';
const CATS = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/cats';
const CLASSIFY = 'arn:aws:lambda:us-east-1:000000000000:function:classify';
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

const used = (action: string, resource: string, decision: UsageRecord['decision'] = 'Allow', timeMs = T0): UsageRecord => ({ action, resource, decision, timeMs });

describe('suggestPolicy', () => {
  const cases: Array<{ name: string; records: UsageRecord[]; statements: unknown[] }> = [
    {
      name: 'a client that only invoked one endpoint gets exactly that one statement',
      records: [used('sagemaker:InvokeEndpoint', DOG_BREEDS), used('sagemaker:InvokeEndpoint', DOG_BREEDS, 'Allow', T0 + 1000)],
      statements: [{ Sid: 'SagemakerInvokeEndpoint', Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint'], Resource: [DOG_BREEDS] }],
    },
    {
      name: 'actions used on the same resources share a statement; others get their own',
      records: [
        used('sagemaker:InvokeEndpoint', DOG_BREEDS),
        used('sagemaker:DescribeEndpoint', DOG_BREEDS),
        used('sagemaker:DescribeEndpoint', CATS),
        used('sagemaker:UpdateEndpoint', DOG_BREEDS),
      ],
      statements: [
        { Sid: 'SagemakerDescribeEndpoint', Effect: 'Allow', Action: ['sagemaker:DescribeEndpoint'], Resource: [CATS, DOG_BREEDS] },
        { Sid: 'SagemakerInvokeEndpointAndUpdateEndpoint', Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint', 'sagemaker:UpdateEndpoint'], Resource: [DOG_BREEDS] },
      ],
    },
    {
      name: 'several services; actions that name no resource share one "*" statement',
      records: [
        used('lambda:InvokeFunction', CLASSIFY),
        used('sts:GetCallerIdentity', '*'),
        used('sagemaker:ListEndpoints', '*'),
        used('sagemaker:InvokeEndpoint', DOG_BREEDS),
        used('lambda:ListFunctions', '*'),
      ],
      statements: [
        { Sid: 'LambdaInvokeFunction', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: [CLASSIFY] },
        { Sid: 'LambdaAndSagemakerAndStsActions', Effect: 'Allow', Action: ['lambda:ListFunctions', 'sagemaker:ListEndpoints', 'sts:GetCallerIdentity'], Resource: ['*'] },
        { Sid: 'SagemakerInvokeEndpoint', Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint'], Resource: [DOG_BREEDS] },
      ],
    },
    {
      name: 'an action used on "*" and on ARNs needs only "*"',
      records: [used('s3:ListBucket', 'arn:aws:s3:::sagemaker-us-east-1-000000000000'), used('s3:ListBucket', '*')],
      statements: [{ Sid: 'S3ListBucket', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ['*'] }],
    },
    {
      name: 'three or more actions of one service name the first and count the rest; hyphenated prefixes become one word',
      records: ['RegisterScalableTarget', 'PutScalingPolicy', 'DescribeScalableTargets'].map((name) =>
        used(`application-autoscaling:${name}`, 'arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/x'),
      ),
      statements: [
        {
          Sid: 'ApplicationAutoscalingDescribeScalableTargetsAnd2More',
          Effect: 'Allow',
          Action: ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:PutScalingPolicy', 'application-autoscaling:RegisterScalableTarget'],
          Resource: ['arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/x'],
        },
      ],
    },
    {
      name: 'Sids stay unique when two statements would share one',
      records: [used('lambda:ListFunctions', '*'), used('sts:GetCallerIdentity', '*'), used('lambda:GetFunction', CLASSIFY), used('sts:AssumeRole', CLASSIFY)],
      statements: [
        { Sid: 'LambdaAndStsActions', Effect: 'Allow', Action: ['lambda:GetFunction', 'sts:AssumeRole'], Resource: [CLASSIFY] },
        { Sid: 'LambdaAndStsActions2', Effect: 'Allow', Action: ['lambda:ListFunctions', 'sts:GetCallerIdentity'], Resource: ['*'] },
      ],
    },
    {
      name: 'action names are spelt as the catalog spells them',
      records: [used('sagemaker:invokeendpoint', DOG_BREEDS), used('SageMaker:InvokeEndpoint', DOG_BREEDS)],
      statements: [{ Sid: 'SagemakerInvokeEndpoint', Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint'], Resource: [DOG_BREEDS] }],
    },
  ];
  for (const { name, records, statements } of cases) {
    it(name, () => {
      const { policy } = suggestPolicy(records);
      assert.deepEqual(policy, { Version: '2012-10-17', Statement: statements });
      assert.deepEqual(validatePolicy(JSON.stringify(policy)).filter((finding) => finding.severity === 'ERROR'), []);
    });
  }

  it('denied calls do not widen the policy but are listed, per action, with counts', () => {
    const suggestion = suggestPolicy([
      used('sagemaker:InvokeEndpoint', DOG_BREEDS),
      used('sagemaker:DeleteEndpoint', DOG_BREEDS, 'ImplicitDeny', T0 + 10),
      used('sagemaker:DeleteEndpoint', CATS, 'ExplicitDeny', T0 + 30),
      used('sagemaker:DeleteEndpoint', DOG_BREEDS, 'ImplicitDeny', T0 + 20),
      used('iam:PassRole', 'arn:aws:iam::000000000000:role/Admin', 'ImplicitDeny', T0 + 5),
    ]);
    assert.deepEqual(suggestion.policy?.Statement.map((statement) => statement.Action), [['sagemaker:InvokeEndpoint']]);
    assert.equal(suggestion.usedActions, 1);
    assert.deepEqual(suggestion.deniedActions, [
      { action: 'iam:PassRole', resources: ['arn:aws:iam::000000000000:role/Admin'], count: 1, explicitDenies: 0, implicitDenies: 1, lastDeniedMs: T0 + 5 },
      { action: 'sagemaker:DeleteEndpoint', resources: [CATS, DOG_BREEDS], count: 3, explicitDenies: 1, implicitDenies: 2, lastDeniedMs: T0 + 30 },
    ]);
  });

  it('with no allowed call there is no policy to suggest', () => {
    assert.deepEqual(suggestPolicy([used('sagemaker:InvokeEndpoint', DOG_BREEDS, 'ImplicitDeny')]), {
      policy: undefined,
      usedActions: 0,
      deniedActions: [{ action: 'sagemaker:InvokeEndpoint', resources: [DOG_BREEDS], count: 1, explicitDenies: 0, implicitDenies: 1, lastDeniedMs: T0 }],
    });
    assert.deepEqual(suggestPolicy([]), { policy: undefined, usedActions: 0, deniedActions: [] });
  });

  it('is deterministic: the order of the records does not matter', () => {
    const records = [
      used('lambda:InvokeFunction', CLASSIFY),
      used('sagemaker:InvokeEndpoint', DOG_BREEDS),
      used('sagemaker:DescribeEndpoint', CATS),
      used('sts:GetCallerIdentity', '*'),
      used('sagemaker:InvokeEndpoint', CATS),
      used('sagemaker:DeleteEndpoint', CATS, 'ExplicitDeny'),
      used('iam:PassRole', '*', 'ImplicitDeny'),
    ];
    const expected = JSON.stringify(suggestPolicy(records));
    for (let shift = 1; shift < records.length; shift++) {
      const rotated = [...records.slice(shift), ...records.slice(0, shift)];
      assert.equal(JSON.stringify(suggestPolicy(rotated)), expected);
      assert.equal(JSON.stringify(suggestPolicy([...rotated].reverse())), expected);
    }
  });
});

describe('unusedPermissions', () => {
  const fullAccess = managedPolicy('arn:aws:iam::aws:policy/AmazonSageMakerFullAccess')!;
  const labelled = { label: fullAccess.arn, document: parsePolicyDocument(fullAccess.document) };

  it('AmazonSageMakerFullAccess with only InvokeEndpoint used lists DeleteEndpoint and the rest, not InvokeEndpoint', () => {
    const unused = unusedPermissions([labelled], [used('sagemaker:InvokeEndpoint', DOG_BREEDS)]);
    const actions = unused.map((permission) => permission.action);
    assert.ok(!actions.includes('sagemaker:InvokeEndpoint'));
    for (const action of ['sagemaker:DeleteEndpoint', 'sagemaker:CreateTrainingJob', 'iam:PassRole', 'kennel:RegisterDataset', 's3:PutObject']) assert.ok(actions.includes(action), action);
    const deleteEndpoint = unused.find((permission) => permission.action === 'sagemaker:DeleteEndpoint')!;
    assert.deepEqual(deleteEndpoint.statement, { policyLabel: fullAccess.arn, index: 0, sid: 'AllowAllNonAdminSageMakerActions' });
    assert.deepEqual(deleteEndpoint.resourcePatterns, ['*']);
    assert.ok(deleteEndpoint.notResourcePatterns?.includes('arn:aws:sagemaker:*:*:domain/*'));
    const passRole = unused.find((permission) => permission.action === 'iam:PassRole')!;
    assert.deepEqual(passRole, {
      action: 'iam:PassRole',
      resourcePatterns: ['arn:aws:iam::*:role/*'],
      statement: { policyLabel: fullAccess.arn, index: 5, sid: 'AllowPassRoleToSageMaker' },
    });
  });

  const document = (statements: unknown[]) => parsePolicyDocument({ Version: '2012-10-17', Statement: statements });
  const cases: Array<{ name: string; statements: unknown[]; records: UsageRecord[]; unused: string[] }> = [
    {
      name: 'a wildcard expands to every catalog action it matches',
      statements: [{ Effect: 'Allow', Action: 'sagemaker:Describe*', Resource: '*' }],
      records: [used('sagemaker:DescribeEndpoint', DOG_BREEDS)],
      unused: [
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:DescribeHyperParameterTuningJob',
        'sagemaker:DescribeModel',
        'sagemaker:DescribeTrainingJob',
      ],
    },
    {
      name: 'a call that was denied is not a use',
      statements: [{ Effect: 'Allow', Action: ['sagemaker:InvokeEndpoint', 'sagemaker:DescribeEndpoint'], Resource: DOG_BREEDS }],
      records: [used('sagemaker:InvokeEndpoint', CATS, 'ImplicitDeny'), used('sagemaker:DescribeEndpoint', DOG_BREEDS)],
      unused: ['sagemaker:InvokeEndpoint'],
    },
    {
      name: 'Deny statements grant nothing to be unused',
      statements: [
        { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: CLASSIFY },
        { Effect: 'Deny', Action: 'lambda:DeleteFunction', Resource: '*' },
      ],
      records: [],
      unused: ['lambda:InvokeFunction'],
    },
    {
      name: 'NotAction grants every catalog action it does not name',
      statements: [{ Effect: 'Allow', NotAction: ['sagemaker:*', 'iam:*', 'lambda:*', 'application-autoscaling:*', 'kennel:*', 's3:*'], Resource: '*' }],
      records: [used('sts:GetCallerIdentity', '*'), used('logs:PutLogEvents', '*')],
      unused: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'sts:AssumeRole', 'sts:GetSessionToken', 'sts:TagSession'],
    },
    {
      name: 'an action outside the catalog is listed as written',
      statements: [{ Effect: 'Allow', Action: ['ec2:RunInstances', 'sagemaker:invokeendpoint'], Resource: '*' }],
      records: [used('sagemaker:InvokeEndpoint', DOG_BREEDS)],
      unused: ['ec2:RunInstances'],
    },
  ];
  for (const { name, statements, records, unused } of cases) {
    it(name, () => {
      assert.deepEqual(
        unusedPermissions([document(statements)], records).map((permission) => permission.action),
        unused,
      );
    });
  }

  it('reports each granting statement, in policy order, without a label when none was given', () => {
    const first = document([{ Sid: 'Invoke', Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: DOG_BREEDS }]);
    const second = document([{ Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: CATS }]);
    assert.deepEqual(unusedPermissions([first, { label: 'inline:cats', document: second }], []), [
      { action: 'sagemaker:InvokeEndpoint', resourcePatterns: [DOG_BREEDS], statement: { index: 0, sid: 'Invoke' } },
      { action: 'sagemaker:InvokeEndpoint', resourcePatterns: [CATS], statement: { policyLabel: 'inline:cats', index: 0 } },
    ]);
  });
});

describe('suggested resources are literal', () => {
  it('writes *, ? and $ in a used resource as the variables for those characters, so the policy grants that resource only', () => {
    const used = 'arn:aws:s3:::bucket/odd*key?$';
    const { policy } = suggestPolicy([{ action: 's3:GetObject', resource: used, decision: 'Allow', timeMs: 1 }]);
    assert.deepEqual(policy!.Statement[0]!.Resource, ['arn:aws:s3:::bucket/odd${*}key${?}${$}']);
    const compiled = compilePolicy(parsePolicyDocument(policy, 'identity'));
    const principal = { arn: 'arn:aws:iam::000000000000:user/dev', accountId: '000000000000', type: 'User' };
    const decide = (resource: string) =>
      evaluatePolicies({ identityPolicies: [compiled] }, { principal, action: 's3:GetObject', resource, context: requestContextKeys({ principal, nowMs: 0 }) }).decision;
    assert.equal(decide(used), 'Allow');
    assert.equal(decide('arn:aws:s3:::bucket/oddXkeyY$'), 'ImplicitDeny');
  });
});
