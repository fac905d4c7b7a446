import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from './compile-policy.ts';
import { evaluatePolicies, requestContextKeys, type AuthorizationPrincipal, type Decision } from './evaluate.ts';
import { parsePolicyDocument } from './policy-document.ts';
import { parseTemplate, resolveTemplate } from './policy-variables.ts';
import { ConditionContext, type ContextValue } from './request-context.ts';

const ACCOUNT = '111122223333';
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const alice: AuthorizationPrincipal = { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, accountId: ACCOUNT, type: 'User', userName: 'alice' };
const session: AuthorizationPrincipal = { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Deployer/ci`, accountId: ACCOUNT, type: 'AssumedRole' };

function decide(policy: unknown, principal: AuthorizationPrincipal, action: string, resource: string, extra: Record<string, ContextValue> = {}): Decision {
  const compiled = compilePolicy(parsePolicyDocument(policy));
  const context = requestContextKeys({ principal, nowMs: NOW, extra });
  return evaluatePolicies({ identityPolicies: [compiled] }, { principal, action, resource, context }).decision;
}

describe('parseTemplate', () => {
  it('splits text, variables, defaults and escapes', () => {
    assert.deepEqual(parseTemplate("arn:aws:s3:::b-${aws:PrincipalTag/team, 'company-wide'}/${aws:username}/${*}", '2012-10-17'), [
      { kind: 'pattern', text: 'arn:aws:s3:::b-' },
      { kind: 'variable', key: 'aws:principaltag/team', name: 'aws:PrincipalTag/team', defaultValue: 'company-wide' },
      { kind: 'pattern', text: '/' },
      { kind: 'variable', key: 'aws:username', name: 'aws:username' },
      { kind: 'pattern', text: '/' },
      { kind: 'literal', text: '*' },
    ]);
  });
  it('in 2008-10-17 policies ${...} is plain text', () => {
    assert.deepEqual(parseTemplate('home/${aws:username}/*', '2008-10-17'), [{ kind: 'pattern', text: 'home/${aws:username}/*' }]);
  });
  it('text that only looks like a variable stays text', () => {
    assert.deepEqual(parseTemplate('a${}b${two words}c$d', '2012-10-17'), [{ kind: 'pattern', text: 'a${}b${two words}c$d' }]);
  });
  it('resolves with context values (names in any case), defaults, and not at all without them', () => {
    const context = new ConditionContext([['AWS:UserName', 'alice']]);
    assert.equal(resolveTemplate(parseTemplate('home/${aws:username}/', '2012-10-17'), context), 'home/alice/');
    assert.equal(resolveTemplate(parseTemplate('${AWS:USERNAME}', '2012-10-17'), context), 'alice');
    assert.equal(resolveTemplate(parseTemplate("${aws:PrincipalTag/team, 'none'}", '2012-10-17'), context), 'none');
    assert.equal(resolveTemplate(parseTemplate("${aws:PrincipalTag/team,'none'}", '2012-10-17'), context), 'none');
    assert.equal(resolveTemplate(parseTemplate('${aws:PrincipalTag/team}', '2012-10-17'), context), undefined);
    assert.equal(resolveTemplate(parseTemplate('${$}{x}', '2012-10-17'), context), '${x}');
  });
  it('a multivalued key has no single value to put in', () => {
    const context = new ConditionContext([['aws:TagKeys', ['a', 'b']]]);
    assert.equal(resolveTemplate(parseTemplate('${aws:TagKeys}', '2012-10-17'), context), undefined);
    assert.equal(resolveTemplate(parseTemplate("${aws:TagKeys, 'd'}", '2012-10-17'), context), 'd');
  });
});

// The doc's example: each user reads and writes only their own home folder.
const HOME_FOLDER = {
  Version: '2012-10-17',
  Statement: [
    { Action: ['s3:ListBucket'], Effect: 'Allow', Resource: ['arn:aws:s3:::amzn-s3-demo-bucket'], Condition: { StringLike: { 's3:prefix': ['${aws:username}/*'] } } },
    { Action: ['s3:GetObject', 's3:PutObject'], Effect: 'Allow', Resource: ['arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*'] },
  ],
};

// The doc's example of a default: users without a team tag get the company-wide bucket.
const TEAM_BUCKET = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: "arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}" }],
};

const ABAC = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/project': '${aws:PrincipalTag/project}' } } }],
};

describe('policy variables in evaluation', () => {
  const tagged = (tags: Record<string, string>): AuthorizationPrincipal => ({ ...alice, tags });
  const rows: Array<{ name: string; policy: unknown; principal: AuthorizationPrincipal; action: string; resource: string; extra?: Record<string, ContextValue>; expected: Decision }> = [
    { name: 'home folder: own object', policy: HOME_FOLDER, principal: alice, action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/alice/notes.txt', expected: 'Allow' },
    { name: 'home folder: nested own object', policy: HOME_FOLDER, principal: alice, action: 's3:PutObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/alice/a/b.txt', expected: 'Allow' },
    { name: "home folder: another user's object", policy: HOME_FOLDER, principal: alice, action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/bob/notes.txt', expected: 'ImplicitDeny' },
    { name: 'home folder: a role session has no aws:username, so the variable matches nothing', policy: HOME_FOLDER, principal: session, action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket/ci/x', expected: 'ImplicitDeny' },
    { name: 'home folder: listing the own prefix', policy: HOME_FOLDER, principal: alice, action: 's3:ListBucket', resource: 'arn:aws:s3:::amzn-s3-demo-bucket', extra: { 's3:prefix': 'alice/photos' }, expected: 'Allow' },
    { name: "home folder: listing another's prefix", policy: HOME_FOLDER, principal: alice, action: 's3:ListBucket', resource: 'arn:aws:s3:::amzn-s3-demo-bucket', extra: { 's3:prefix': 'bob/' }, expected: 'ImplicitDeny' },
    { name: 'home folder: listing with no prefix', policy: HOME_FOLDER, principal: alice, action: 's3:ListBucket', resource: 'arn:aws:s3:::amzn-s3-demo-bucket', expected: 'ImplicitDeny' },
    { name: 'default: a tagged user gets the team bucket', policy: TEAM_BUCKET, principal: tagged({ team: 'yellow' }), action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket-yellow', expected: 'Allow' },
    { name: 'default: a tagged user does not get the company-wide bucket', policy: TEAM_BUCKET, principal: tagged({ team: 'yellow' }), action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket-company-wide', expected: 'ImplicitDeny' },
    { name: 'default: an untagged user gets the company-wide bucket', policy: TEAM_BUCKET, principal: alice, action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket-company-wide', expected: 'Allow' },
    { name: 'default: an untagged user does not get a team bucket', policy: TEAM_BUCKET, principal: alice, action: 's3:GetObject', resource: 'arn:aws:s3:::amzn-s3-demo-bucket-yellow', expected: 'ImplicitDeny' },
    { name: 'ABAC: principal and resource tags agree', policy: ABAC, principal: tagged({ project: 'dogs' }), action: 'sagemaker:InvokeEndpoint', resource: 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/e', extra: { 'aws:ResourceTag/project': 'dogs' }, expected: 'Allow' },
    { name: 'ABAC: they differ', policy: ABAC, principal: tagged({ project: 'cats' }), action: 'sagemaker:InvokeEndpoint', resource: 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/e', extra: { 'aws:ResourceTag/project': 'dogs' }, expected: 'ImplicitDeny' },
    { name: 'ABAC: an untagged principal matches nothing', policy: ABAC, principal: alice, action: 'sagemaker:InvokeEndpoint', resource: 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/e', extra: { 'aws:ResourceTag/project': 'dogs' }, expected: 'ImplicitDeny' },
    {
      name: 'a multivalued key in a variable matches nothing',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:TagKeys}' }] },
      principal: alice,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/team',
      extra: { 'aws:TagKeys': ['team'] },
      expected: 'ImplicitDeny',
    },
    {
      name: 'the IAM self-service example: "arn:aws:iam::*:user/${aws:username}"',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:*AccessKey*'], Resource: 'arn:aws:iam::*:user/${aws:username}' }] },
      principal: alice,
      action: 'iam:CreateAccessKey',
      resource: `arn:aws:iam::${ACCOUNT}:user/alice`,
      expected: 'Allow',
    },
    {
      name: 'the same for another user',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:*AccessKey*'], Resource: 'arn:aws:iam::*:user/${aws:username}' }] },
      principal: alice,
      action: 'iam:CreateAccessKey',
      resource: `arn:aws:iam::${ACCOUNT}:user/bob`,
      expected: 'ImplicitDeny',
    },
    {
      name: '${*} in a resource is a literal *',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/star-${*}' }] },
      principal: alice,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/star-*',
      expected: 'Allow',
    },
    {
      name: '${*} in a resource is no wildcard',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/star-${*}' }] },
      principal: alice,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/star-anything',
      expected: 'ImplicitDeny',
    },
    {
      name: 'Version 2008-10-17: ${aws:username} is literal text in the resource',
      policy: { Version: '2008-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' }] },
      principal: alice,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/alice/x',
      expected: 'ImplicitDeny',
    },
    {
      name: 'Version 2008-10-17: the literal text matches itself',
      policy: { Version: '2008-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' }] },
      principal: alice,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/${aws:username}/x',
      expected: 'Allow',
    },
    {
      name: 'an unversioned policy is 2008-10-17: literal in conditions too',
      policy: { Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: { StringEquals: { 's3:prefix': '${aws:username}' } } }] },
      principal: alice,
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::b',
      extra: { 's3:prefix': 'alice' },
      expected: 'ImplicitDeny',
    },
    {
      name: 'condition keys are never variables',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: { StringEquals: { '${aws:username}': 'x' } } }] },
      principal: alice,
      action: 's3:ListBucket',
      resource: 'arn:aws:s3:::b',
      extra: { alice: 'x' },
      expected: 'ImplicitDeny',
    },
    {
      name: 'a negated operator whose only value cannot be resolved is false',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } }, { Effect: 'Allow', Action: '*', Resource: '*' }] },
      principal: alice,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/x',
      extra: { 'aws:ResourceTag/team': 'red' },
      expected: 'Allow',
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.equal(decide(row.policy, row.principal, row.action, row.resource, row.extra), row.expected));
  }
});
