import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from './compile-policy.ts';
import { evaluatePolicies } from './evaluate.ts';
import { parsePolicyDocument } from './policy-document.ts';
import { ConditionContext, requestContextKeys, toConditionContext, type AuthorizationPrincipal, type RequestFacts } from './request-context.ts';

const A = '111122223333';
const NOW = Date.UTC(2024, 4, 1, 12, 30, 15, 250);
const alice: AuthorizationPrincipal = {
  arn: `arn:aws:iam::${A}:user/team/alice`,
  accountId: A,
  type: 'User',
  userName: 'alice',
  userId: 'AIDAEXAMPLEALICE',
  tags: { team: 'vision', CostCenter: '42' },
};
const session: AuthorizationPrincipal = { arn: `arn:aws:sts::${A}:assumed-role/Deployer/ci`, accountId: A, type: 'AssumedRole', userId: 'AROAEXAMPLE:ci' };

describe('requestContextKeys: the global condition keys', () => {
  it('fills every key the request has a value for', () => {
    const context = requestContextKeys({
      principal: alice,
      nowMs: NOW,
      sourceIp: '203.0.113.9',
      secureTransport: true,
      region: 'us-east-1',
      requestTags: { project: 'dogs', stage: 'prod' },
      resourceTags: { owner: 'vision' },
      extra: { 'sagemaker:InstanceTypes': ['ml.m5.large'] },
    });
    assert.deepEqual(Object.fromEntries(context), {
      'aws:currenttime': '2024-05-01T12:30:15Z',
      'aws:epochtime': '1714566615',
      'aws:securetransport': 'true',
      'aws:sourceip': '203.0.113.9',
      'aws:requestedregion': 'us-east-1',
      'aws:principalisawsservice': 'false',
      'aws:principalarn': alice.arn,
      'aws:principalaccount': A,
      'aws:principaltype': 'User',
      'aws:username': 'alice',
      'aws:userid': 'AIDAEXAMPLEALICE',
      'aws:principaltag/team': 'vision',
      'aws:principaltag/costcenter': '42',
      'aws:requesttag/project': 'dogs',
      'aws:requesttag/stage': 'prod',
      'aws:tagkeys': ['project', 'stage'],
      'aws:resourcetag/owner': 'vision',
      'sagemaker:instancetypes': ['ml.m5.large'],
    });
  });
  it('leaves out what the request does not have', () => {
    const context = requestContextKeys({ principal: session, nowMs: NOW });
    for (const key of ['aws:SourceIp', 'aws:SecureTransport', 'aws:RequestedRegion', 'aws:username', 'aws:TagKeys']) assert.equal(context.has(key), false, key);
  });
  it('gives a role session the role ARN as aws:PrincipalArn, and no aws:username', () => {
    const context = requestContextKeys({ principal: session, nowMs: NOW });
    assert.equal(context.get('aws:PrincipalArn'), `arn:aws:iam::${A}:role/Deployer`);
    assert.equal(context.get('aws:PrincipalType'), 'AssumedRole');
    assert.equal(context.get('aws:userid'), 'AROAEXAMPLE:ci');
    const withPath = requestContextKeys({ principal: { ...session, roleArn: `arn:aws:iam::${A}:role/ops/Deployer` }, nowMs: NOW });
    assert.equal(withPath.get('aws:PrincipalArn'), `arn:aws:iam::${A}:role/ops/Deployer`);
  });
  it('names the root user Account and a service by its name', () => {
    assert.equal(requestContextKeys({ principal: { arn: `arn:aws:iam::${A}:root`, accountId: A, type: 'Root' }, nowMs: NOW }).get('aws:PrincipalType'), 'Account');
    const service = requestContextKeys({ principal: { arn: 'lambda.amazonaws.com', accountId: '', type: 'Service' }, nowMs: NOW });
    assert.equal(service.get('aws:PrincipalIsAWSService'), 'true');
    assert.equal(service.get('aws:PrincipalServiceName'), 'lambda.amazonaws.com');
    assert.equal(service.has('aws:PrincipalArn'), false);
  });
  it('lets extra keys override the global ones', () => {
    assert.equal(requestContextKeys({ principal: alice, nowMs: NOW, extra: new Map([['AWS:CurrentTime', '2020-01-01T00:00:00Z']]) }).get('aws:CurrentTime'), '2020-01-01T00:00:00Z');
  });
});

describe('ConditionContext: key names in any case, values as given', () => {
  it('get, has, set and delete ignore the case of names', () => {
    const context = new ConditionContext([['AWS:SourceIp', '203.0.113.9']]);
    assert.equal(context.get('aws:sourceip'), '203.0.113.9');
    assert.equal(context.has('Aws:SOURCEIP'), true);
    context.set('aws:SOURCEIP', '198.51.100.1');
    assert.equal(context.size, 1);
    assert.equal(context.lookup('aws:sourceip'), '198.51.100.1');
    assert.equal(context.delete('AWS:SourceIP'), true);
    assert.equal(context.size, 0);
  });
  it('a single value for variables, never a list', () => {
    const context = new ConditionContext([['a', 'x'], ['b', ['x']]]);
    assert.equal(context.singleValue('a'), 'x');
    assert.equal(context.singleValue('b'), undefined);
  });
  it('toConditionContext keeps one it is given and converts the rest', () => {
    const built = new ConditionContext();
    assert.equal(toConditionContext(built), built);
    assert.equal(toConditionContext({ 'AWS:X': 'y' }).get('aws:x'), 'y');
    assert.equal(toConditionContext(new Map([['AWS:X', 'y']])).get('aws:x'), 'y');
    assert.equal(toConditionContext({ get: 'a key named get' }).get('GET'), 'a key named get');
  });
});

describe('every global key, read by a policy condition', () => {
  const decide = (condition: Record<string, unknown>, facts: Partial<RequestFacts> = {}) => {
    const policy = compilePolicy(parsePolicyDocument({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition }] }));
    const principal = facts.principal ?? alice;
    const context = requestContextKeys({ nowMs: NOW, ...facts, principal });
    return evaluatePolicies({ identityPolicies: [policy] }, { principal, action: 'sagemaker:InvokeEndpoint', resource: '*', context }).decision;
  };
  const rows: Array<[string, Record<string, unknown>, Partial<RequestFacts>, 'Allow' | 'ImplicitDeny']> = [
    ['aws:SourceIp in range', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { sourceIp: '203.0.113.9' }, 'Allow'],
    ['aws:SourceIp out of range', { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }, { sourceIp: '198.51.100.9' }, 'ImplicitDeny'],
    ['aws:SourceIp unknown', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, {}, 'ImplicitDeny'],
    ['aws:CurrentTime after', { DateGreaterThan: { 'aws:CurrentTime': '2024-05-01T12:00:00Z' } }, {}, 'Allow'],
    ['aws:CurrentTime before', { DateLessThan: { 'aws:CurrentTime': '2024-05-01T12:00:00Z' } }, {}, 'ImplicitDeny'],
    ['aws:CurrentTime within a window', { DateGreaterThan: { 'aws:CurrentTime': '2024-05-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2024-05-02T00:00:00Z' } }, {}, 'Allow'],
    ['aws:EpochTime', { NumericGreaterThanEquals: { 'aws:EpochTime': '1714566615' } }, {}, 'Allow'],
    ['aws:EpochTime as a date', { DateLessThan: { 'aws:EpochTime': '1714566616' } }, {}, 'Allow'],
    ['aws:SecureTransport true', { Bool: { 'aws:SecureTransport': 'true' } }, { secureTransport: true }, 'Allow'],
    ['aws:SecureTransport false', { Bool: { 'aws:SecureTransport': 'true' } }, { secureTransport: false }, 'ImplicitDeny'],
    ['aws:username', { StringEquals: { 'aws:username': 'alice' } }, {}, 'Allow'],
    ['aws:username of a role session is absent', { StringEquals: { 'aws:username': 'ci' } }, { principal: session }, 'ImplicitDeny'],
    ['aws:userid', { StringLike: { 'aws:userid': 'AROAEXAMPLE:*' } }, { principal: session }, 'Allow'],
    ['aws:PrincipalArn', { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/team/*` } }, {}, 'Allow'],
    ['aws:PrincipalArn of a role session is the role', { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/Deployer` } }, { principal: session }, 'Allow'],
    ['aws:PrincipalAccount', { StringEquals: { 'aws:PrincipalAccount': A } }, {}, 'Allow'],
    ['aws:PrincipalAccount of another account', { StringEquals: { 'aws:PrincipalAccount': '444455556666' } }, {}, 'ImplicitDeny'],
    ['aws:PrincipalTag/team', { StringEquals: { 'aws:PrincipalTag/team': 'vision' } }, {}, 'Allow'],
    ['aws:PrincipalTag/TEAM: tag keys are names, case-insensitive', { StringEquals: { 'aws:PrincipalTag/TEAM': 'vision' } }, {}, 'Allow'],
    ['aws:PrincipalTag/team: values are case-sensitive', { StringEquals: { 'aws:PrincipalTag/team': 'Vision' } }, {}, 'ImplicitDeny'],
    ['aws:RequestedRegion', { StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } }, { region: 'eu-west-1' }, 'Allow'],
    ['aws:RequestedRegion outside the list', { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } }, { region: 'ap-south-1' }, 'ImplicitDeny'],
    ['aws:RequestTag/project', { StringEquals: { 'aws:RequestTag/project': 'dogs' } }, { requestTags: { project: 'dogs' } }, 'Allow'],
    ['aws:TagKeys: only allowed tags (ForAllValues)', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['project', 'stage'] } }, { requestTags: { project: 'dogs', owner: 'x' } }, 'ImplicitDeny'],
    ['aws:TagKeys: a required tag (ForAnyValue)', { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['project'] } }, { requestTags: { project: 'dogs', owner: 'x' } }, 'Allow'],
    ['aws:TagKeys: ForAllValues and no tags at all', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['project'] } }, {}, 'Allow'],
    ['aws:TagKeys: ForAllValues with Null false requires tags', { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['project'] }, Null: { 'aws:TagKeys': 'false' } }, {}, 'ImplicitDeny'],
    ['aws:ResourceTag/owner', { StringEquals: { 'aws:ResourceTag/owner': '${aws:PrincipalTag/team}' } }, { resourceTags: { owner: 'vision' } }, 'Allow'],
    ['aws:ResourceTag/owner of another team', { StringEquals: { 'aws:ResourceTag/owner': '${aws:PrincipalTag/team}' } }, { resourceTags: { owner: 'audio' } }, 'ImplicitDeny'],
  ];
  for (const [name, condition, facts, expected] of rows) it(name, () => assert.equal(decide(condition, facts), expected));
});
