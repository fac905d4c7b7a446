import assert from 'node:assert/strict';
import { refusal } from '../../testing/assert-domain-error.ts';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { compilePolicy } from '../iam/compile-policy.ts';
import { evaluatePolicies, requestContextKeys, type AuthorizationPrincipal } from '../iam/evaluate.ts';
import { parsePolicyDocument } from '../iam/policy-document.ts';
import {
  addPermissionStatement,
  policySize,
  policyText,
  removePermissionStatement,
  type AddPermissionInput,
  type LambdaPolicyStatement,
  type LambdaResourcePolicy,
} from './resource-policy.ts';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function:dogs';
const BUCKET = 'arn:aws:s3:::dog-uploads';

const add = (input: Partial<AddPermissionInput>, policy?: LambdaResourcePolicy) =>
  addPermissionStatement(policy, { StatementId: 'Grant', Action: 'lambda:InvokeFunction', Principal: '*', ...input }, FN);

describe('addPermissionStatement writes statements as Lambda does', () => {
  const cases: [string, Partial<AddPermissionInput>, LambdaPolicyStatement][] = [
    [
      'a service with its source bucket and account',
      { StatementId: 's3-invoke', Principal: 's3.amazonaws.com', SourceArn: BUCKET, SourceAccount: '000000000000' },
      {
        Sid: 's3-invoke',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Resource: FN,
        Condition: { StringEquals: { 'AWS:SourceAccount': '000000000000' }, ArnLike: { 'AWS:SourceArn': BUCKET } },
      },
    ],
    ['an account, as its root', { Principal: '123456789012' }, { Sid: 'Grant', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'lambda:InvokeFunction', Resource: FN }],
    ['a role ARN', { Principal: 'arn:aws:iam::000000000000:role/caller' }, { Sid: 'Grant', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:role/caller' }, Action: 'lambda:InvokeFunction', Resource: FN }],
    ['everyone', { Action: 'lambda:GetFunction' }, { Sid: 'Grant', Effect: 'Allow', Principal: '*', Action: 'lambda:GetFunction', Resource: FN }],
    ['a version, which qualifies the Resource', { Qualifier: '3', Action: 'lambda:*' }, { Sid: 'Grant', Effect: 'Allow', Principal: '*', Action: 'lambda:*', Resource: `${FN}:3` }],
    [
      'a public function URL inside an organization',
      { Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', PrincipalOrgID: 'o-a1b2c3d4e5', Qualifier: 'live' },
      {
        Sid: 'Grant',
        Effect: 'Allow',
        Principal: '*',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: `${FN}:live`,
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE', 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      },
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const policy = add(input);
      assert.equal(JSON.stringify(policy), JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: [expected] }));
    });
  }

  it('appends to an existing policy, keeping the earlier statements', () => {
    const policy = add({ StatementId: 'Second' }, add({ StatementId: 'First' }));
    assert.deepEqual(policy.Statement.map((statement) => statement.Sid), ['First', 'Second']);
  });
  it('leaves the policy it was given untouched', () => {
    const first = add({ StatementId: 'First' });
    add({ StatementId: 'Second' }, first);
    assert.equal(first.Statement.length, 1);
  });
});

describe('addPermissionStatement refusals', () => {
  const existing = add({ StatementId: 'taken' });
  const cases: [string, Partial<AddPermissionInput>, DomainError['code'], string, RegExp][] = [
    ['a statement id in use', { StatementId: 'taken' }, 'AlreadyExists', 'ResourceConflictException', /^The statement id \(taken\) provided already exists\. Please provide a new statement id, or remove the existing statement\.$/],
    ['a statement id with a space', { StatementId: 'my grant' }, 'ValidationError', 'ValidationException', /^1 validation error detected: Value 'my grant' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: \(\[a-zA-Z0-9-_\]\+\)$/],
    ['a statement id over 100 characters', { StatementId: 's'.repeat(101) }, 'ValidationError', 'ValidationException', /Member must have length less than or equal to 100$/],
    ['an action of another service', { Action: 's3:GetObject' }, 'ValidationError', 'ValidationException', /Value 's3:GetObject' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: \(lambda:\[\*\]\|lambda:\[a-zA-Z\]\+\|\[\*\]\)$/],
    ['a principal that is none of the forms', { Principal: 'alice' }, 'ValidationError', 'InvalidParameterValueException', /^The provided principal was invalid\. Please check the principal and try again\.$/],
    ['a source account that is not 12 digits', { SourceAccount: '1234' }, 'ValidationError', 'ValidationException', /Value '1234' at 'sourceAccount'/],
    ['a source ARN that is no ARN', { SourceArn: 'dog-uploads' }, 'ValidationError', 'ValidationException', /Value 'dog-uploads' at 'sourceArn'/],
    ['an organization id of the wrong shape', { PrincipalOrgID: 'org-1' }, 'ValidationError', 'ValidationException', /at 'principalOrgID'/],
    ['an unknown function URL auth type', { FunctionUrlAuthType: 'IAM' }, 'ValidationError', 'ValidationException', /Member must satisfy enum value set: \[NONE, AWS_IAM\]$/],
    ['$LATEST', { Qualifier: '$LATEST' }, 'ValidationError', 'InvalidParameterValueException', /^We currently do not support adding policies for \$LATEST\.$/],
    ['a malformed qualifier', { Qualifier: 'a b' }, 'ValidationError', 'ValidationException', /at 'qualifier'/],
  ];
  for (const [name, input, code, lambdaError, message] of cases) {
    it(`refuses ${name}`, () => {
      const error = refusal(() => add(input, existing));
      assert.equal(error.code, code);
      assert.equal(error.details.lambdaError, lambdaError);
      assert.match(error.message, message);
    });
  }

  it('refuses a policy over 20 KB, saying how large it would be', () => {
    let policy: LambdaResourcePolicy | undefined;
    let count = 0;
    for (;;) {
      try {
        policy = add({ StatementId: `grant${count}`, Principal: 's3.amazonaws.com', SourceArn: `${BUCKET}-${'x'.repeat(60)}-${count}` }, policy);
        count++;
      } catch (error) {
        assert.ok(error instanceof DomainError);
        assert.equal(error.code, 'LimitExceeded');
        assert.equal(error.details.lambdaError, 'PolicyLengthExceededException');
        assert.match(error.message, /^The final policy size \((\d+)\) is bigger than the limit \(20480\)\.$/);
        assert.ok(Number(/\((\d+)\)/.exec(error.message)![1]) > 20480);
        break;
      }
    }
    assert.ok(policySize(policy!) <= 20480);
    assert.ok(count > 50);
  });
});

describe('removePermissionStatement and policyText', () => {
  const policy = add({ StatementId: 'Second' }, add({ StatementId: 'First' }));
  it('removes one statement', () => {
    assert.deepEqual(removePermissionStatement(policy, 'First')?.Statement.map((statement) => statement.Sid), ['Second']);
  });
  it('leaves no policy once the last statement goes', () => {
    assert.equal(removePermissionStatement(add({ StatementId: 'Only' }), 'Only'), undefined);
  });
  it('refuses a statement that is not there', () => {
    const error = refusal(() => removePermissionStatement(policy, 'Third'));
    assert.equal(error.code, 'NotFound');
    assert.equal(error.details.lambdaError, 'ResourceNotFoundException');
    assert.equal(error.message, 'Statement Third is not found in resource policy.');
  });
  it('refuses when there is no policy', () => {
    assert.equal(refusal(() => removePermissionStatement(undefined, 'First')).message, 'No policy is associated with the given resource.');
  });
  it('GetPolicy returns the document as JSON, or NotFound', () => {
    assert.deepEqual(JSON.parse(policyText(policy)), policy);
    assert.equal(refusal(() => policyText(undefined)).message, 'The resource you requested does not exist.');
  });
});

describe('the documents are resource policies Kennel evaluates', () => {
  const grants: Partial<AddPermissionInput>[] = [
    { StatementId: 's3-invoke_1', Principal: 's3.amazonaws.com', SourceArn: BUCKET, SourceAccount: '000000000000' },
    { StatementId: 'AccountInvoke', Principal: '000000000000' },
    { StatementId: 'RoleInvoke', Principal: 'arn:aws:iam::000000000000:role/caller', Qualifier: '2' },
    { StatementId: 'PublicUrl', Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', PrincipalOrgID: 'o-a1b2c3d4e5' },
  ];
  const policy = grants.reduce<LambdaResourcePolicy | undefined>((current, input) => add(input, current), undefined)!;

  it('parses as kind resource, every principal and condition form included', () => {
    const document = parsePolicyDocument(policyText(policy), 'resource');
    assert.equal(document.statements.length, grants.length);
    assert.deepEqual(document.statements[0].conditions, [
      { operator: 'StringEquals', key: 'AWS:SourceAccount', values: ['000000000000'] },
      { operator: 'ArnLike', key: 'AWS:SourceArn', values: [BUCKET] },
    ]);
  });

  const compiled = compilePolicy(parsePolicyDocument(policy, 'resource'), { policyId: 'dogs' });
  const s3: AuthorizationPrincipal = { arn: 's3.amazonaws.com', accountId: '', type: 'Service' };
  const caller: AuthorizationPrincipal = {
    arn: 'arn:aws:sts::000000000000:assumed-role/caller/run',
    accountId: '000000000000',
    type: 'AssumedRole',
    roleArn: 'arn:aws:iam::000000000000:role/caller',
  };
  const decide = (principal: AuthorizationPrincipal, resource: string, extra: Record<string, string> = {}, action = 'lambda:InvokeFunction') =>
    evaluatePolicies(
      { identityPolicies: [], resourcePolicy: compiled },
      { principal, action, resource, context: requestContextKeys({ principal, nowMs: 0, extra }) },
    ).decision;

  const cases: [string, AuthorizationPrincipal, string, Record<string, string>, string, string][] = [
    ['the service, from the named bucket and account', s3, FN, { 'aws:SourceArn': BUCKET, 'aws:SourceAccount': '000000000000' }, 'lambda:InvokeFunction', 'Allow'],
    ['the service, from another bucket', s3, FN, { 'aws:SourceArn': 'arn:aws:s3:::someone-elses', 'aws:SourceAccount': '000000000000' }, 'lambda:InvokeFunction', 'ImplicitDeny'],
    ['the service, from another account', s3, FN, { 'aws:SourceArn': BUCKET, 'aws:SourceAccount': '111111111111' }, 'lambda:InvokeFunction', 'ImplicitDeny'],
    ['the service, on the version the grant does not name', s3, `${FN}:2`, { 'aws:SourceArn': BUCKET, 'aws:SourceAccount': '000000000000' }, 'lambda:InvokeFunction', 'ImplicitDeny'],
    ['the role, on the version it was granted', caller, `${FN}:2`, {}, 'lambda:InvokeFunction', 'Allow'],
    ['the function URL, from inside the organization', s3, FN, { 'lambda:FunctionUrlAuthType': 'NONE', 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' }, 'lambda:InvokeFunctionUrl', 'Allow'],
    ['the function URL, from outside it', s3, FN, { 'lambda:FunctionUrlAuthType': 'NONE', 'aws:PrincipalOrgID': 'o-0000000000' }, 'lambda:InvokeFunctionUrl', 'ImplicitDeny'],
    ['no grant names another action', caller, `${FN}:2`, {}, 'lambda:DeleteFunction', 'ImplicitDeny'],
  ];
  for (const [name, principal, resource, extra, action, expected] of cases) {
    it(name, () => assert.equal(decide(principal, resource, extra, action), expected));
  }
  it('"*" as the action parses and grants every action', () => {
    const everything = compilePolicy(parsePolicyDocument(add({ StatementId: 'Everything', Action: '*' }), 'resource'), { policyId: 'all' });
    const decision = evaluatePolicies(
      { identityPolicies: [], resourcePolicy: everything },
      { principal: caller, action: 'lambda:DeleteFunction', resource: FN, context: requestContextKeys({ principal: caller, nowMs: 0 }) },
    );
    assert.equal(decision.decision, 'Allow');
  });
});
