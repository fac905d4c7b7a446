import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyCache } from './compile-policy.ts';
import { simulateCase, simulateCases } from './simulation-cases.ts';

const A = '111122223333';
const ALICE = `arn:aws:iam::${A}:user/alice`;
const ENDPOINT = `arn:aws:sagemaker:us-east-1:${A}:endpoint/dogs`;
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

const identity = (statement: Record<string, unknown>) => ({ Version: '2012-10-17', Statement: [statement] });
const INVOKE_ALLOW = identity({ Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: ENDPOINT });

function line(fields: Record<string, unknown>): string {
  return JSON.stringify({ id: 'c', identityPolicies: [], resourcePolicy: null, ...fields, request: { principal: ALICE, action: 'sagemaker:InvokeEndpoint', resource: ENDPOINT, context: {}, ...(fields.request as object) } });
}

const run = (text: string) => JSON.parse(simulateCase(text, NOW, new PolicyCache(10))) as Record<string, unknown>;

describe('simulateCase: decisions', () => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ['no policies: implicit deny', {}, 'ImplicitDeny'],
    ['an identity policy object allows', { identityPolicies: [INVOKE_ALLOW] }, 'Allow'],
    ['an identity policy as JSON text allows', { identityPolicies: [JSON.stringify(INVOKE_ALLOW)] }, 'Allow'],
    ['a deny wins', { identityPolicies: [INVOKE_ALLOW, identity({ Effect: 'Deny', Action: 'sagemaker:*', Resource: '*' })] }, 'ExplicitDeny'],
    ['a resource policy alone allows within the account', { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'sagemaker:InvokeEndpoint', Resource: ENDPOINT }] } }, 'Allow'],
    ['a resource policy as JSON text', { resourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ALICE }, Action: 'sagemaker:*', Resource: '*' }] }) }, 'Allow'],
    ['a resource policy naming the account delegates to identity policies', { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: A }, Action: 'sagemaker:*', Resource: '*' }] } }, 'ImplicitDeny'],
    [
      'a resource policy naming the account, with an identity policy that allows',
      { identityPolicies: [INVOKE_ALLOW], resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: A }, Action: 'sagemaker:*', Resource: '*' }] } },
      'Allow',
    ],
    ['a resource policy for another principal', { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:user/bob` }, Action: '*', Resource: '*' }] } }, 'ImplicitDeny'],
    ['aws:username comes from a user ARN', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:username': 'alice' } } })] }, 'Allow'],
    ['aws:PrincipalArn comes from the principal', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': ALICE } } })] }, 'Allow'],
    ['aws:PrincipalAccount comes from the ARN', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': A } } })] }, 'Allow'],
    ['the context may override a derived key', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:username': 'alice' } } })], request: { context: { 'aws:username': 'bob' } } }, 'ImplicitDeny'],
    ['aws:CurrentTime defaults to now', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2024-05-01T11:59:59Z' } } })] }, 'Allow'],
    ['aws:CurrentTime from the context', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2024-05-01T11:59:59Z' } } })], request: { context: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }, 'ImplicitDeny'],
    ['aws:EpochTime follows a given aws:CurrentTime', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThan: { 'aws:EpochTime': '1600000000' } } })], request: { context: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }, 'Allow'],
    ['numbers and booleans in the context', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThanEquals: { 's3:max-keys': '10' }, Bool: { 'aws:SecureTransport': 'true' } } })], request: { context: { 's3:max-keys': 10, 'aws:SecureTransport': true } } }, 'Allow'],
    ['a list in the context is multivalued', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } } })], request: { context: { 'aws:TagKeys': ['a', 'c'] } } }, 'ImplicitDeny'],
    ['context key names in any case', { identityPolicies: [identity({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })], request: { context: { 'AWS:SOURCEIP': '203.0.113.1' } } }, 'Allow'],
    ['a role session principal', { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:role/Deployer` }, Action: '*', Resource: '*' }] }, request: { principal: `arn:aws:sts::${A}:assumed-role/Deployer/ci` } }, 'Allow'],
    ['a service principal', { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: '*', Resource: '*' }] }, request: { principal: 'lambda.amazonaws.com' } }, 'Allow'],
  ];
  for (const [name, fields, decision] of rows) it(name, () => assert.deepEqual(run(line(fields)), { id: 'c', decision }));
});

describe('simulateCase: errors', () => {
  const rows: Array<[string, string, unknown, RegExp]> = [
    ['a line that is not JSON', '{"id": "x", ', null, /^The line is not valid JSON/],
    ['a JSON value that is not an object', '[1, 2]', null, /must be a JSON object/],
    ['no id', JSON.stringify({ identityPolicies: [], request: {} }), null, /no id/],
    ['an invalid identity policy', line({ id: 7, identityPolicies: [INVOKE_ALLOW, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bogus: { a: 'b' } } }] }] }), 7, /^identityPolicies\[1\]: Statement 1 has Condition Bogus: unknown operator/],
    ['an identity policy that is not JSON', line({ identityPolicies: ['{oops'] }), 'c', /^identityPolicies\[0\]: The policy is not valid JSON/],
    ['a resource policy without Principal', line({ resourcePolicy: INVOKE_ALLOW }), 'c', /^resourcePolicy: Statement 1 has no Principal/],
    ['an identity policy with a Principal', line({ identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] }] }), 'c', /names a Principal/],
    ['identityPolicies not a list', line({ identityPolicies: INVOKE_ALLOW }), 'c', /identityPolicies must be a list/],
    ['a policy that is a number', line({ identityPolicies: [5] }), 'c', /identityPolicies\[0\] must be a policy object/],
    ['a principal that is not an ARN', line({ request: { principal: 'alice' } }), 'c', /request.principal "alice" is not a principal ARN/],
    ['no action', line({ request: { action: '' } }), 'c', /request.action must be a non-empty string/],
    ['a context value that is an object', line({ request: { context: { 'aws:username': { a: 1 } } } }), 'c', /request.context aws:username has a value/],
    ['a context that is a list', line({ request: { context: [] } }), 'c', /request.context must be an object/],
  ];
  for (const [name, text, id, message] of rows) {
    it(name, () => {
      const result = run(text);
      assert.deepEqual(Object.keys(result), ['id', 'error']);
      assert.equal(result.id, id);
      assert.match(String(result.error), message);
    });
  }
});

describe('simulateCases: a batch', () => {
  it('answers every non-blank line in order, going on after bad ones', () => {
    const input = [
      line({ id: 'one', identityPolicies: [INVOKE_ALLOW] }),
      '',
      'not json',
      '   ',
      line({ id: 'two', identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'x', Resource: '*' }] }] }),
      line({ id: 'three', identityPolicies: [INVOKE_ALLOW, identity({ Effect: 'Deny', Action: '*', Resource: '*' })] }),
      line({ id: 4 }),
    ];
    const output = [...simulateCases(input, NOW)].map((text) => JSON.parse(text) as Record<string, unknown>);
    assert.deepEqual(output.map((result) => result.id), ['one', null, 'two', 'three', 4]);
    assert.equal(output[0].decision, 'Allow');
    assert.match(String(output[1].error), /not valid JSON/);
    assert.match(String(output[2].error), /invalid action "x"/);
    assert.equal(output[3].decision, 'ExplicitDeny');
    assert.equal(output[4].decision, 'ImplicitDeny');
  });
  it('compiles a policy repeated across lines once', () => {
    const cache = new PolicyCache(10);
    const lines = Array.from({ length: 5 }, (_, index) => line({ id: index, identityPolicies: [INVOKE_ALLOW] }));
    assert.deepEqual([...simulateCases(lines, NOW, cache)].map((text) => JSON.parse(text).decision), Array(5).fill('Allow'));
    assert.equal(cache.size, 1);
  });
  it('writes each answer as one line of JSON with id first', () => {
    assert.equal(simulateCase(line({ id: 'x', identityPolicies: [INVOKE_ALLOW] }), NOW), '{"id":"x","decision":"Allow"}');
  });
});
