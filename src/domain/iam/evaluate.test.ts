import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, type CompiledPolicy } from './compile-policy.ts';
import { evaluatePolicies, requestContextKeys, type AuthorizationPrincipal, type AuthorizationRequest, type Decision, type PolicySet } from './evaluate.ts';
import { parsePolicyDocument, type PolicyKind } from './policy-document.ts';
import type { ContextValue } from './request-context.ts';

const A = '111122223333';
const OTHER = '444455556666';
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

const alice: AuthorizationPrincipal = { arn: `arn:aws:iam::${A}:user/alice`, accountId: A, type: 'User', userName: 'alice' };
const bob: AuthorizationPrincipal = { arn: `arn:aws:iam::${A}:user/team/bob`, accountId: A, type: 'User', userName: 'bob' };
const deployer: AuthorizationPrincipal = { arn: `arn:aws:sts::${A}:assumed-role/Deployer/ci-run`, accountId: A, type: 'AssumedRole' };
const otherSession: AuthorizationPrincipal = { arn: `arn:aws:sts::${A}:assumed-role/Reader/ci-run`, accountId: A, type: 'AssumedRole' };
const root: AuthorizationPrincipal = { arn: `arn:aws:iam::${A}:root`, accountId: A, type: 'Root' };
const stranger: AuthorizationPrincipal = { arn: `arn:aws:iam::${OTHER}:user/mallory`, accountId: OTHER, type: 'User', userName: 'mallory' };
const lambdaService: AuthorizationPrincipal = { arn: 'lambda.amazonaws.com', accountId: '', type: 'Service' };

const ENDPOINT = `arn:aws:sagemaker:us-east-1:${A}:endpoint/dogs`;
const INVOKE = 'sagemaker:InvokeEndpoint';

let counter = 0;
function policy(statements: unknown[], kind: PolicyKind = 'identity', policyId = `p${++counter}`): CompiledPolicy {
  return compilePolicy(parsePolicyDocument({ Version: '2012-10-17', Statement: statements }, kind), { policyId });
}

function request(principal: AuthorizationPrincipal, action = INVOKE, resource = ENDPOINT, extra: Record<string, ContextValue> = {}): AuthorizationRequest {
  return { principal, action, resource, context: requestContextKeys({ principal, nowMs: NOW, extra }) };
}

const allow = (action: unknown = INVOKE, resource: unknown = ENDPOINT, more: Record<string, unknown> = {}) => ({ Effect: 'Allow', Action: action, Resource: resource, ...more });
const deny = (action: unknown = INVOKE, resource: unknown = ENDPOINT, more: Record<string, unknown> = {}) => ({ Effect: 'Deny', Action: action, Resource: resource, ...more });
const grantTo = (principal: unknown, effect = 'Allow', more: Record<string, unknown> = {}) => ({ Effect: effect, Principal: principal, Action: INVOKE, Resource: ENDPOINT, ...more });

interface Row {
  name: string;
  policies: () => PolicySet;
  request: AuthorizationRequest;
  expected: Decision;
}

function table(title: string, rows: Row[]): void {
  describe(title, () => {
    for (const row of rows) it(row.name, () => assert.equal(evaluatePolicies(row.policies(), row.request).decision, row.expected));
  });
}

table('explicit deny wins, default deny', [
  { name: 'no policy at all: implicit deny', policies: () => ({ identityPolicies: [] }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'an identity policy allows', policies: () => ({ identityPolicies: [policy([allow()])] }), request: request(alice), expected: 'Allow' },
  { name: 'an allow for another action', policies: () => ({ identityPolicies: [policy([allow('sagemaker:CreateEndpoint')])] }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'an allow for another resource', policies: () => ({ identityPolicies: [policy([allow(INVOKE, `${ENDPOINT}-2`)])] }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'allow and deny in one policy', policies: () => ({ identityPolicies: [policy([allow(), deny()])] }), request: request(alice), expected: 'ExplicitDeny' },
  { name: 'allow in one policy, deny in another', policies: () => ({ identityPolicies: [policy([allow('*', '*')]), policy([deny('sagemaker:*', '*')])] }), request: request(alice), expected: 'ExplicitDeny' },
  { name: 'a deny alone is still a deny', policies: () => ({ identityPolicies: [policy([deny()])] }), request: request(alice), expected: 'ExplicitDeny' },
  {
    name: 'a deny whose condition does not hold does not apply',
    policies: () => ({ identityPolicies: [policy([allow(), deny(INVOKE, ENDPOINT, { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })])] }),
    request: request(alice, INVOKE, ENDPOINT, { 'aws:SecureTransport': 'true' }),
    expected: 'Allow',
  },
  {
    name: 'the doc example: deny over plain HTTP',
    policies: () => ({ identityPolicies: [policy([allow(), deny('*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })])] }),
    request: request(alice, INVOKE, ENDPOINT, { 'aws:SecureTransport': 'false' }),
    expected: 'ExplicitDeny',
  },
  { name: 'a deny in the resource policy beats an identity allow', policies: () => ({ identityPolicies: [policy([allow()])], resourcePolicy: policy([grantTo('*', 'Deny')], 'resource') }), request: request(alice), expected: 'ExplicitDeny' },
  { name: 'an identity deny beats a resource-policy allow', policies: () => ({ identityPolicies: [policy([deny()])], resourcePolicy: policy([grantTo({ AWS: alice.arn })], 'resource') }), request: request(alice), expected: 'ExplicitDeny' },
  {
    name: 'a resource-policy deny for someone else does not apply',
    policies: () => ({ identityPolicies: [policy([allow()])], resourcePolicy: policy([grantTo({ AWS: bob.arn }, 'Deny')], 'resource') }),
    request: request(alice),
    expected: 'Allow',
  },
  { name: 'actions are case-insensitive', policies: () => ({ identityPolicies: [policy([allow('SageMaker:invokeendpoint')])] }), request: request(alice, 'sagemaker:InvokeEndpoint'), expected: 'Allow' },
  { name: 'resources are case-sensitive', policies: () => ({ identityPolicies: [policy([allow(INVOKE, ENDPOINT.toUpperCase().replace('ARN:AWS', 'arn:aws'))])] }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'an action on no resource needs Resource "*"', policies: () => ({ identityPolicies: [policy([allow('sagemaker:ListEndpoints', 'arn:aws:sagemaker:*:*:*')])] }), request: request(alice, 'sagemaker:ListEndpoints', '*'), expected: 'ImplicitDeny' },
  { name: 'Resource "*" covers an action on no resource', policies: () => ({ identityPolicies: [policy([allow('sagemaker:List*', '*')])] }), request: request(alice, 'sagemaker:ListEndpoints', '*'), expected: 'Allow' },
]);

table('NotAction and NotResource', [
  // The doc's example: everything except IAM.
  { name: 'NotAction: an action outside the list is allowed', policies: () => ({ identityPolicies: [policy([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }])] }), request: request(alice, 's3:ListAllMyBuckets', '*'), expected: 'Allow' },
  { name: 'NotAction: an action in the list is not', policies: () => ({ identityPolicies: [policy([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }])] }), request: request(alice, 'iam:CreateUser', '*'), expected: 'ImplicitDeny' },
  { name: 'NotAction is case-insensitive too', policies: () => ({ identityPolicies: [policy([{ Effect: 'Allow', NotAction: 'IAM:*', Resource: '*' }])] }), request: request(alice, 'iam:CreateUser', '*'), expected: 'ImplicitDeny' },
  ...[false, true].flatMap((mfa): Row[] => {
    // The doc's example: deny everything but IAM and sts:GetSessionToken without MFA.
    const mfaPolicies = () => ({
      identityPolicies: [
        policy([
          allow('*', '*'),
          { Effect: 'Deny', NotAction: ['iam:*', 'sts:GetSessionToken'], Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } },
        ]),
      ],
    });
    const context: Record<string, ContextValue> = mfa ? { 'aws:MultiFactorAuthPresent': 'true' } : {};
    return [
      { name: `NotAction deny without MFA (MFA ${mfa}): sagemaker:ListModels`, policies: mfaPolicies, request: request(alice, 'sagemaker:ListModels', '*', context), expected: mfa ? 'Allow' : 'ExplicitDeny' },
      { name: `NotAction deny without MFA (MFA ${mfa}): iam:ListUsers`, policies: mfaPolicies, request: request(alice, 'iam:ListUsers', '*', context), expected: 'Allow' },
      { name: `NotAction deny without MFA (MFA ${mfa}): sts:GetSessionToken`, policies: mfaPolicies, request: request(alice, 'sts:GetSessionToken', '*', context), expected: 'Allow' },
    ];
  }),
  ...(() => {
    // The doc's example: deny everything outside the payroll folder.
    const payroll = () => ({
      identityPolicies: [policy([allow('s3:*', '*'), { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'] }])],
    });
    return [
      { name: 'NotResource deny: inside the payroll folder', policies: payroll, request: request(alice, 's3:GetObject', 'arn:aws:s3:::HRBucket/Payroll/2024.csv'), expected: 'Allow' },
      { name: 'NotResource deny: the folder itself', policies: payroll, request: request(alice, 's3:ListBucket', 'arn:aws:s3:::HRBucket/Payroll'), expected: 'Allow' },
      { name: 'NotResource deny: another folder', policies: payroll, request: request(alice, 's3:GetObject', 'arn:aws:s3:::HRBucket/Other/x'), expected: 'ExplicitDeny' },
      { name: 'NotResource deny: another bucket', policies: payroll, request: request(alice, 's3:GetObject', 'arn:aws:s3:::OtherBucket/Payroll/x'), expected: 'ExplicitDeny' },
    ] satisfies Row[];
  })(),
  { name: 'NotResource allow: everything but the listed endpoint', policies: () => ({ identityPolicies: [policy([{ Effect: 'Allow', Action: INVOKE, NotResource: ENDPOINT }])] }), request: request(alice, INVOKE, `${ENDPOINT}-2`), expected: 'Allow' },
  { name: 'NotResource allow: not the listed endpoint', policies: () => ({ identityPolicies: [policy([{ Effect: 'Allow', Action: INVOKE, NotResource: ENDPOINT }])] }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'NotResource with wildcards', policies: () => ({ identityPolicies: [policy([{ Effect: 'Allow', Action: INVOKE, NotResource: 'arn:aws:sagemaker:*:*:endpoint/prod-*' }])] }), request: request(alice, INVOKE, `arn:aws:sagemaker:us-east-1:${A}:endpoint/prod-dogs`), expected: 'ImplicitDeny' },
  { name: 'NotAction and NotResource together', policies: () => ({ identityPolicies: [policy([{ Effect: 'Allow', NotAction: 'sagemaker:Delete*', NotResource: ENDPOINT }])] }), request: request(alice, 'sagemaker:DescribeModel', `arn:aws:sagemaker:us-east-1:${A}:model/m`), expected: 'Allow' },
]);

/** Resource-policy-only grants: no identity policy, so only the Principal decides. */
const onlyResource = (principal: unknown) => () => ({ identityPolicies: [], resourcePolicy: policy([grantTo(principal)], 'resource') });
table('Principal forms (in a resource policy, no identity policy)', [
  { name: '"*" names everyone', policies: onlyResource('*'), request: request(alice), expected: 'Allow' },
  { name: '{"AWS": "*"} names everyone', policies: onlyResource({ AWS: '*' }), request: request(deployer), expected: 'Allow' },
  { name: '"*" names a service too', policies: onlyResource('*'), request: request(lambdaService), expected: 'Allow' },
  // Naming the account delegates to its identity policies: alone it grants its users and roles nothing.
  { name: 'an account id delegates to its users’ own policies', policies: onlyResource({ AWS: A }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'an account id delegates to its role sessions’ own policies', policies: onlyResource({ AWS: A }), request: request(deployer), expected: 'ImplicitDeny' },
  { name: 'an account id does not name another account', policies: onlyResource({ AWS: A }), request: request(stranger), expected: 'ImplicitDeny' },
  { name: 'the account root ARN delegates to its users’ own policies', policies: onlyResource({ AWS: `arn:aws:iam::${A}:root` }), request: request(bob), expected: 'ImplicitDeny' },
  { name: 'the account root ARN names the root user', policies: onlyResource({ AWS: `arn:aws:iam::${A}:root` }), request: request(root), expected: 'Allow' },
  { name: 'the account root ARN does not name another account', policies: onlyResource({ AWS: `arn:aws:iam::${A}:root` }), request: request(stranger), expected: 'ImplicitDeny' },
  { name: 'a user ARN names that user', policies: onlyResource({ AWS: alice.arn }), request: request(alice), expected: 'Allow' },
  { name: 'a user ARN with a path', policies: onlyResource({ AWS: bob.arn }), request: request(bob), expected: 'Allow' },
  { name: 'a user ARN does not name another user', policies: onlyResource({ AWS: alice.arn }), request: request(bob), expected: 'ImplicitDeny' },
  { name: 'one of a list of ARNs', policies: onlyResource({ AWS: [bob.arn, alice.arn] }), request: request(alice), expected: 'Allow' },
  { name: 'a role ARN names its sessions', policies: onlyResource({ AWS: `arn:aws:iam::${A}:role/Deployer` }), request: request(deployer), expected: 'Allow' },
  { name: 'a role ARN with a path names its sessions', policies: onlyResource({ AWS: `arn:aws:iam::${A}:role/ops/Deployer` }), request: request(deployer), expected: 'Allow' },
  { name: "a role ARN does not name another role's sessions", policies: onlyResource({ AWS: `arn:aws:iam::${A}:role/Deployer` }), request: request(otherSession), expected: 'ImplicitDeny' },
  { name: 'a role ARN of another account', policies: onlyResource({ AWS: `arn:aws:iam::${OTHER}:role/Deployer` }), request: request(deployer), expected: 'ImplicitDeny' },
  { name: 'a session ARN names that session', policies: onlyResource({ AWS: deployer.arn }), request: request(deployer), expected: 'Allow' },
  { name: 'a session ARN does not name another session of the role', policies: onlyResource({ AWS: `arn:aws:sts::${A}:assumed-role/Deployer/other` }), request: request(deployer), expected: 'ImplicitDeny' },
  { name: 'a service principal', policies: onlyResource({ Service: 'lambda.amazonaws.com' }), request: request(lambdaService), expected: 'Allow' },
  { name: 'another service principal', policies: onlyResource({ Service: 'sagemaker.amazonaws.com' }), request: request(lambdaService), expected: 'ImplicitDeny' },
  { name: 'a service principal does not name users', policies: onlyResource({ Service: 'lambda.amazonaws.com' }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'an account does not name a service', policies: onlyResource({ AWS: A }), request: request(lambdaService), expected: 'ImplicitDeny' },
  {
    name: 'a resource-policy grant still needs its action, resource and conditions',
    policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo('*', 'Allow', { Condition: { StringEquals: { 'aws:PrincipalAccount': OTHER } } })], 'resource') }),
    request: request(alice),
    expected: 'ImplicitDeny',
  },
]);

/** A deny to everyone but the listed principals, over an identity allow. */
const denyAllBut = (listed: string[]) => () => ({
  identityPolicies: [policy([allow()])],
  resourcePolicy: policy([{ Effect: 'Deny', NotPrincipal: { AWS: listed }, Action: INVOKE, Resource: ENDPOINT }], 'resource'),
});
const DEPLOYER_ROLE = `arn:aws:iam::${A}:role/Deployer`;
const ROOT = `arn:aws:iam::${A}:root`;
table('NotPrincipal: everyone but the listed identities', [
  // The doc: with Deny, "you must also specify the account ARN of the not-denied principal".
  { name: 'a user listed with their account is left out of the deny', policies: denyAllBut([alice.arn, ROOT]), request: request(alice), expected: 'Allow' },
  { name: 'another user of the account is denied', policies: denyAllBut([alice.arn, ROOT]), request: request(bob), expected: 'ExplicitDeny' },
  { name: 'a user listed without the account is still denied', policies: denyAllBut([alice.arn]), request: request(alice), expected: 'ExplicitDeny' },
  { name: 'the account alone does not leave out its users', policies: denyAllBut([ROOT]), request: request(alice), expected: 'ExplicitDeny' },
  { name: 'the account alone leaves out its root user', policies: denyAllBut([ROOT]), request: request(root), expected: 'Allow' },
  // The doc's example for a role session: the session, the role and the account.
  { name: 'a session listed with its role and account is left out', policies: denyAllBut([deployer.arn, DEPLOYER_ROLE, ROOT]), request: request(deployer), expected: 'Allow' },
  { name: 'a session listed without its role is denied', policies: denyAllBut([deployer.arn, ROOT]), request: request(deployer), expected: 'ExplicitDeny' },
  { name: 'a role and account without the session ARN', policies: denyAllBut([DEPLOYER_ROLE, ROOT]), request: request(deployer), expected: 'ExplicitDeny' },
  { name: 'NotPrincipal "*" applies to nobody', policies: () => ({ identityPolicies: [policy([allow()])], resourcePolicy: policy([{ Effect: 'Deny', NotPrincipal: '*', Action: INVOKE, Resource: ENDPOINT }], 'resource') }), request: request(alice), expected: 'Allow' },
  {
    name: 'NotPrincipal with Allow grants to everyone else',
    policies: () => ({ identityPolicies: [], resourcePolicy: policy([{ Effect: 'Allow', NotPrincipal: { AWS: [bob.arn, ROOT] }, Action: INVOKE, Resource: ENDPOINT }], 'resource') }),
    request: request(alice),
    expected: 'Allow',
  },
  {
    name: 'NotPrincipal with Allow leaves out the listed',
    policies: () => ({ identityPolicies: [], resourcePolicy: policy([{ Effect: 'Allow', NotPrincipal: { AWS: [bob.arn, ROOT] }, Action: INVOKE, Resource: ENDPOINT }], 'resource') }),
    request: request(bob),
    expected: 'ImplicitDeny',
  },
  { name: 'NotPrincipal Service leaves out that service', policies: () => ({ identityPolicies: [], resourcePolicy: policy([{ Effect: 'Deny', NotPrincipal: { Service: 'lambda.amazonaws.com' }, Action: INVOKE, Resource: ENDPOINT }, grantTo('*')], 'resource') }), request: request(lambdaService), expected: 'Allow' },
]);

const BOUNDARY_OTHER = () => [policy([allow('sagemaker:Describe*', '*')])];
const BOUNDARY_INVOKE = () => [policy([allow('sagemaker:*', '*')])];
table('permissions boundaries', [
  { name: 'identity allows, boundary allows', policies: () => ({ identityPolicies: [policy([allow()])], permissionsBoundaries: BOUNDARY_INVOKE() }), request: request(alice), expected: 'Allow' },
  { name: 'identity allows, boundary does not', policies: () => ({ identityPolicies: [policy([allow()])], permissionsBoundaries: BOUNDARY_OTHER() }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'boundary allows, identity does not: a boundary grants nothing', policies: () => ({ identityPolicies: [policy([allow('sagemaker:ListModels', '*')])], permissionsBoundaries: BOUNDARY_INVOKE() }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'a deny in the boundary', policies: () => ({ identityPolicies: [policy([allow()])], permissionsBoundaries: [policy([allow('*', '*'), deny()])] }), request: request(alice), expected: 'ExplicitDeny' },
  { name: 'an empty list of boundaries is no boundary', policies: () => ({ identityPolicies: [policy([allow()])], permissionsBoundaries: [] }), request: request(alice), expected: 'Allow' },
  { name: 'several boundary policies: one allowing is enough', policies: () => ({ identityPolicies: [policy([allow()])], permissionsBoundaries: [...BOUNDARY_OTHER(), ...BOUNDARY_INVOKE()] }), request: request(alice), expected: 'Allow' },
  // "Within the same account, resource-based policies that grant permissions to an IAM user ARN ... are not limited by an implicit deny in an identity-based policy or permissions boundary."
  { name: 'a resource policy naming the user ARN is not limited by the boundary', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: alice.arn })], 'resource'), permissionsBoundaries: BOUNDARY_OTHER() }), request: request(alice), expected: 'Allow' },
  // "Resource-based policies that grant permissions to an IAM role session ARN are not limited by an implicit deny in a permissions boundary."
  { name: 'a resource policy naming the session ARN is not limited by the boundary', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: deployer.arn })], 'resource'), permissionsBoundaries: BOUNDARY_OTHER() }), request: request(deployer), expected: 'Allow' },
  // "Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary or session policy."
  { name: 'a resource policy naming the role ARN is limited by the boundary', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: DEPLOYER_ROLE })], 'resource'), permissionsBoundaries: BOUNDARY_OTHER() }), request: request(deployer), expected: 'ImplicitDeny' },
  { name: 'a resource policy naming the role ARN, within the boundary', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: DEPLOYER_ROLE })], 'resource'), permissionsBoundaries: BOUNDARY_INVOKE() }), request: request(deployer), expected: 'Allow' },
  { name: 'a resource policy naming the account is limited by the boundary', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: A })], 'resource'), permissionsBoundaries: BOUNDARY_OTHER() }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'a resource policy naming everyone is limited by the boundary', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo('*')], 'resource'), permissionsBoundaries: BOUNDARY_OTHER() }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'a boundary deny beats a resource policy naming the user', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: alice.arn })], 'resource'), permissionsBoundaries: [policy([deny()])] }), request: request(alice), expected: 'ExplicitDeny' },
]);

const SESSION_OTHER = () => [policy([allow('sagemaker:Describe*', '*')])];
table('session policies', [
  { name: 'identity and session policy allow', policies: () => ({ identityPolicies: [policy([allow()])], sessionPolicies: [policy([allow('sagemaker:Invoke*', '*')])] }), request: request(deployer), expected: 'Allow' },
  { name: 'identity allows, the session policy does not', policies: () => ({ identityPolicies: [policy([allow()])], sessionPolicies: SESSION_OTHER() }), request: request(deployer), expected: 'ImplicitDeny' },
  { name: 'the session policy allows, identity does not', policies: () => ({ identityPolicies: [], sessionPolicies: [policy([allow()])] }), request: request(deployer), expected: 'ImplicitDeny' },
  { name: 'a deny in a session policy', policies: () => ({ identityPolicies: [policy([allow()])], sessionPolicies: [policy([allow('*', '*'), deny()])] }), request: request(deployer), expected: 'ExplicitDeny' },
  { name: 'with a boundary too, all three must allow', policies: () => ({ identityPolicies: [policy([allow()])], permissionsBoundaries: BOUNDARY_OTHER(), sessionPolicies: [policy([allow()])] }), request: request(deployer), expected: 'ImplicitDeny' },
  // "The resource-based policy permissions [for the session ARN] are not limited by the session policy."
  { name: 'a resource policy naming the session ARN is not limited by the session policy', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: deployer.arn })], 'resource'), sessionPolicies: SESSION_OTHER() }), request: request(deployer), expected: 'Allow' },
  { name: 'a resource policy naming the role ARN is limited by the session policy', policies: () => ({ identityPolicies: [], resourcePolicy: policy([grantTo({ AWS: DEPLOYER_ROLE })], 'resource'), sessionPolicies: SESSION_OTHER() }), request: request(deployer), expected: 'ImplicitDeny' },
]);

table('resource policy alone, within the account', [
  { name: 'a resource-policy allow is enough without any identity policy', policies: onlyResource({ AWS: alice.arn }), request: request(alice), expected: 'Allow' },
  { name: 'and without the resource policy there is nothing', policies: () => ({ identityPolicies: [] }), request: request(alice), expected: 'ImplicitDeny' },
  { name: 'a resource-policy allow for another action', policies: () => ({ identityPolicies: [], resourcePolicy: policy([{ ...grantTo({ AWS: alice.arn }), Action: 'sagemaker:DescribeEndpoint' }], 'resource') }), request: request(alice), expected: 'ImplicitDeny' },
  {
    name: 'a trust policy names no resource: it applies to whatever is asked',
    policies: () => ({ identityPolicies: [], resourcePolicy: compilePolicy(parsePolicyDocument({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }, 'trust')) }),
    request: request(lambdaService, 'sts:AssumeRole', `arn:aws:iam::${A}:role/fn`),
    expected: 'Allow',
  },
]);

describe('matched: the statements that decided', () => {
  it('every denying statement for ExplicitDeny, labelled with policy id, index and Sid', () => {
    const identity = policy([allow(), { Sid: 'NoInvoke', ...deny() }], 'identity', 'arn:aws:iam::111122223333:policy/p');
    const resource = policy([grantTo('*', 'Deny')], 'resource', 'endpoint-policy');
    const result = evaluatePolicies({ identityPolicies: [identity], resourcePolicy: resource }, request(alice));
    assert.deepEqual(result, {
      decision: 'ExplicitDeny',
      matched: [
        { policyId: 'arn:aws:iam::111122223333:policy/p', statementIndex: 1, sid: 'NoInvoke', effect: 'Deny' },
        { policyId: 'endpoint-policy', statementIndex: 0, effect: 'Deny' },
      ],
    });
  });
  it('the granting statements for Allow', () => {
    const first = policy([{ Sid: 'Invoke', ...allow() }, allow('sagemaker:*', '*')], 'identity', 'inline:first');
    const resource = policy([grantTo({ AWS: alice.arn })], 'resource', 'endpoint-policy');
    const result = evaluatePolicies({ identityPolicies: [first], resourcePolicy: resource }, request(alice));
    assert.equal(result.decision, 'Allow');
    assert.deepEqual(result.matched, [
      { policyId: 'inline:first', statementIndex: 0, sid: 'Invoke', effect: 'Allow' },
      { policyId: 'inline:first', statementIndex: 1, effect: 'Allow' },
      { policyId: 'endpoint-policy', statementIndex: 0, effect: 'Allow' },
    ]);
  });
  it('only the resource policy when the boundary stops the identity grant', () => {
    const result = evaluatePolicies(
      { identityPolicies: [policy([allow()], 'identity', 'id')], resourcePolicy: policy([grantTo({ AWS: alice.arn })], 'resource', 'res'), permissionsBoundaries: BOUNDARY_OTHER() },
      request(alice),
    );
    assert.deepEqual(result.matched, [{ policyId: 'res', statementIndex: 0, effect: 'Allow' }]);
  });
  it('none for ImplicitDeny', () => {
    assert.deepEqual(evaluatePolicies({ identityPolicies: [policy([allow('s3:*', '*')])] }, request(alice)), { decision: 'ImplicitDeny', matched: [] });
  });
  it('a plain object context works as well as a built one, with names in any case', () => {
    const conditional = policy([allow(INVOKE, ENDPOINT, { Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })]);
    const ask = (context: AuthorizationRequest['context']) => evaluatePolicies({ identityPolicies: [conditional] }, { principal: alice, action: INVOKE, resource: ENDPOINT, context }).decision;
    assert.equal(ask({ 'AWS:SOURCEIP': '203.0.113.7' }), 'Allow');
    assert.equal(ask(new Map([['aws:sourceip', '198.51.100.1']])), 'ImplicitDeny');
  });
});

/** A role's trust policy for sts:AssumeRole: required, whatever the caller's own policies allow. */
const trust = (principal: unknown, more: Record<string, unknown> = {}) =>
  compilePolicy(parsePolicyDocument({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...more }] }, 'trust'), { policyId: 'trust' });
const ROLE = `arn:aws:iam::${A}:role/Deployer`;
const assume = (principal: AuthorizationPrincipal, extra: Record<string, ContextValue> = {}) => request(principal, 'sts:AssumeRole', ROLE, extra);
const mayAssumeAnything = () => policy([allow('sts:AssumeRole', '*')]);

table('a trust policy must allow', [
  { name: 'an identity allow without the trust policy naming the caller is not enough', policies: () => ({ identityPolicies: [mayAssumeAnything()], resourcePolicy: trust({ Service: 'sagemaker.amazonaws.com' }), resourcePolicyRequired: true }), request: assume(alice), expected: 'ImplicitDeny' },
  { name: 'a trust policy naming the user allows it without an identity policy', policies: () => ({ identityPolicies: [], resourcePolicy: trust({ AWS: alice.arn }), resourcePolicyRequired: true }), request: assume(alice), expected: 'Allow' },
  { name: 'a trust policy naming the account needs the identity policy too', policies: () => ({ identityPolicies: [], resourcePolicy: trust({ AWS: A }), resourcePolicyRequired: true }), request: assume(alice), expected: 'ImplicitDeny' },
  { name: 'a trust policy naming the account, with the identity policy', policies: () => ({ identityPolicies: [mayAssumeAnything()], resourcePolicy: trust({ AWS: `arn:aws:iam::${A}:root` }), resourcePolicyRequired: true }), request: assume(alice), expected: 'Allow' },
  {
    name: 'sts:ExternalId must match when the trust policy asks for it',
    policies: () => ({ identityPolicies: [mayAssumeAnything()], resourcePolicy: trust({ AWS: alice.arn }, { Condition: { StringEquals: { 'sts:ExternalId': 'abc' } } }), resourcePolicyRequired: true }),
    request: assume(alice, { 'sts:ExternalId': 'wrong' }),
    expected: 'ImplicitDeny',
  },
  {
    name: 'the right sts:ExternalId',
    policies: () => ({ identityPolicies: [], resourcePolicy: trust({ AWS: alice.arn }, { Condition: { StringEquals: { 'sts:ExternalId': 'abc' } } }), resourcePolicyRequired: true }),
    request: assume(alice, { 'sts:ExternalId': 'abc' }),
    expected: 'Allow',
  },
  { name: 'an identity deny still wins', policies: () => ({ identityPolicies: [policy([deny('sts:AssumeRole', '*')])], resourcePolicy: trust({ AWS: alice.arn }), resourcePolicyRequired: true }), request: assume(alice), expected: 'ExplicitDeny' },
]);
