import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statementLabel, type PolicyKind } from './policy-document.ts';
import { blocksAttachment, validatePolicy, type Finding, type FindingCode, type FindingSeverity } from './validate-policy.ts';

const ENDPOINT = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dog-breeds';
const ENDPOINTS = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/*';
const ROLE = 'arn:aws:iam::000000000000:role/KennelExecutionRole';

type Json = Record<string, unknown>;
const policy = (...statements: Json[]): Json => ({ Version: '2012-10-17', Statement: statements });
const allow = (action: unknown, resource: unknown = ENDPOINT, extra: Json = {}): Json => ({ Effect: 'Allow', Action: action, Resource: resource, ...extra });
const deny = (action: unknown, resource: unknown = ENDPOINT, extra: Json = {}): Json => ({ Effect: 'Deny', Action: action, Resource: resource, ...extra });

interface Row {
  name: string;
  source: Json | string;
  kind?: PolicyKind;
  /** Every finding's code, in the order validatePolicy returns them. */
  codes: FindingCode[];
  /** The finding the row is about. */
  focus: { code: FindingCode; severity: FindingSeverity; statement?: number; sid?: string; message: RegExp };
}

const rows: Row[] = [
  {
    name: 'text that is not JSON is one SYNTAX error',
    source: '{"Version": "2012-10-17", "Statement": [',
    codes: ['SYNTAX'],
    focus: { code: 'SYNTAX', severity: 'ERROR', message: /not valid JSON/ },
  },
  {
    name: "a grammar error points at the parser's statement",
    source: policy(allow('sagemaker:InvokeEndpoint'), { Sid: 'Broken', Effect: 'Allow', Resource: '*' }),
    codes: ['SYNTAX'],
    focus: { code: 'SYNTAX', severity: 'ERROR', statement: 1, sid: 'Broken', message: /has neither Action nor NotAction/ },
  },
  {
    name: 'a misspelt action is an unknown action, with the likely name',
    source: policy(allow('sagemaker:InvokeEndpoints')),
    codes: ['UNKNOWN_ACTION'],
    focus: { code: 'UNKNOWN_ACTION', severity: 'ERROR', statement: 0, message: /sagemaker:InvokeEndpoints.*did you mean sagemaker:InvokeEndpoint\?/ },
  },
  {
    name: 'a wildcard that matches no catalog action is an unknown action',
    source: policy(allow('sagemaker:Get*')),
    codes: ['UNKNOWN_ACTION'],
    focus: { code: 'UNKNOWN_ACTION', severity: 'ERROR', statement: 0, message: /sagemaker:Get\*, which matches no action Kennel authorises/ },
  },
  {
    name: 'an unknown NotAction excludes nothing',
    source: policy({ Effect: 'Deny', NotAction: ['sagemaker:InvokeEndpoint', 'sagemaker:DescribeEverything'], Resource: '*' }),
    codes: ['UNKNOWN_ACTION'],
    focus: { code: 'UNKNOWN_ACTION', severity: 'ERROR', statement: 0, message: /NotAction sagemaker:DescribeEverything.*excludes nothing/ },
  },
  {
    name: 'a service Kennel does not run is a warning: the policy may be meant for AWS too',
    source: policy(allow('ec2:RunInstances', '*')),
    codes: ['UNKNOWN_SERVICE'],
    focus: { code: 'UNKNOWN_SERVICE', severity: 'WARNING', statement: 0, message: /no service with the prefix ec2 \(it serves sagemaker, application-autoscaling.*no effect here/ },
  },
  {
    name: 'a misspelt service prefix suggests the right one',
    source: policy(allow('sagemker:InvokeEndpoint')),
    codes: ['UNKNOWN_SERVICE'],
    focus: { code: 'UNKNOWN_SERVICE', severity: 'ERROR', statement: 0, message: /did you mean sagemaker:InvokeEndpoint\?/ },
  },
  {
    name: 'action names match case-insensitively, as AWS matches them',
    source: policy(allow('SageMaker:invokeendpoint')),
    codes: [],
    focus: { code: 'UNKNOWN_ACTION', severity: 'ERROR', message: /never/ },
  },
  {
    name: 'an unknown condition operator, with the likely name',
    source: policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Condition: { StringEqulas: { 'aws:SourceIp': 'x' } } })),
    codes: ['UNKNOWN_CONDITION_OPERATOR'],
    focus: { code: 'UNKNOWN_CONDITION_OPERATOR', severity: 'ERROR', statement: 0, message: /StringEqulas.*did you mean StringEquals\?/ },
  },
  {
    name: 'qualifiers and IfExists are part of known operators',
    source: policy(
      allow('sagemaker:InvokeEndpoint', ENDPOINT, {
        Condition: { 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': 'team*' }, ArnNotLikeIfExists: { 'aws:SourceArn': ENDPOINTS }, DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } },
      }),
    ),
    codes: [],
    focus: { code: 'UNKNOWN_CONDITION_OPERATOR', severity: 'ERROR', message: /never/ },
  },
  {
    name: 'NullIfExists',
    source: policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Condition: { NullIfExists: { 'aws:TokenIssueTime': 'true' } } })),
    codes: ['NULL_WITH_IF_EXISTS'],
    focus: { code: 'NULL_WITH_IF_EXISTS', severity: 'ERROR', statement: 0, message: /NullIfExists.*use Null$/ },
  },
  {
    name: 'a condition key without a service prefix',
    source: policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Condition: { Bool: { SecureTransport: 'true' } } })),
    codes: ['INVALID_CONDITION_KEY'],
    focus: { code: 'INVALID_CONDITION_KEY', severity: 'ERROR', statement: 0, message: /"SecureTransport" under Bool.*service:Name/ },
  },
  {
    name: 'condition values of the wrong type',
    source: policy(
      allow('sagemaker:InvokeEndpoint', ENDPOINT, {
        Condition: {
          NumericLessThan: { 'aws:MultiFactorAuthAge': 'an hour' },
          Bool: { 'aws:SecureTransport': 'yes' },
          DateLessThan: { 'aws:CurrentTime': '2026-13-45' },
          IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '300.0.0.1', '2001:db8::/32'] },
          StringEquals: { 'aws:username': '${aws:username}' },
        },
      }),
    ),
    codes: ['CONDITION_TYPE_MISMATCH', 'CONDITION_TYPE_MISMATCH', 'CONDITION_TYPE_MISMATCH', 'CONDITION_TYPE_MISMATCH'],
    focus: { code: 'CONDITION_TYPE_MISMATCH', severity: 'ERROR', statement: 0, message: /aws:MultiFactorAuthAge with NumericLessThan against "an hour", which is not a number/ },
  },
  {
    name: 'a trust policy may name only sts actions',
    source: policy({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: ['sts:AssumeRole', 'lambda:InvokeFunction'] }),
    kind: 'trust',
    codes: ['TRUST_POLICY_NON_STS_ACTION'],
    focus: { code: 'TRUST_POLICY_NON_STS_ACTION', severity: 'ERROR', statement: 0, message: /lambda:InvokeFunction in a role's trust policy/ },
  },
  {
    name: '"*" as the action',
    source: policy(allow('*', '*')),
    codes: ['ALLOW_ALL_ACTIONS', 'PASS_ROLE_WITH_STAR_RESOURCE'],
    focus: { code: 'ALLOW_ALL_ACTIONS', severity: 'SECURITY_WARNING', statement: 0, message: /allows every action \(\*\).*administrator/ },
  },
  {
    name: 'a Deny of "*" is no warning',
    source: policy(allow('sagemaker:InvokeEndpoint'), deny('*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })),
    codes: [],
    focus: { code: 'ALLOW_ALL_ACTIONS', severity: 'SECURITY_WARNING', message: /never/ },
  },
  {
    name: 'service:* as the action',
    source: policy(allow('sagemaker:*', ENDPOINT, { Sid: 'Everything' })),
    codes: ['ALLOW_ALL_SERVICE_ACTIONS'],
    focus: { code: 'ALLOW_ALL_SERVICE_ACTIONS', severity: 'WARNING', statement: 0, sid: 'Everything', message: /every sagemaker action.*including sagemaker:CreateTrainingJob/ },
  },
  {
    name: 'a wildcard in the service prefix',
    source: policy(allow('sage*:DescribeEndpoint')),
    codes: ['WILDCARD_IN_SERVICE_NAME'],
    focus: { code: 'WILDCARD_IN_SERVICE_NAME', severity: 'SUGGESTION', statement: 0, message: /sage\*:DescribeEndpoint.*e\.g\. sagemaker:DescribeEndpoint/ },
  },
  {
    name: 'write actions on "*"',
    source: policy(allow(['sagemaker:InvokeEndpoint', 'sagemaker:DescribeEndpoint'], '*')),
    codes: ['WRITE_ACTIONS_ON_STAR_RESOURCE'],
    focus: { code: 'WRITE_ACTIONS_ON_STAR_RESOURCE', severity: 'WARNING', statement: 0, message: /\(sagemaker:InvokeEndpoint\) on every resource.*endpoint\/NAME/ },
  },
  {
    name: 'write actions on "*" under a condition are only a suggestion',
    source: policy(allow('lambda:InvokeFunction', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'vision' } } })),
    codes: ['WRITE_ACTIONS_ON_STAR_RESOURCE'],
    focus: { code: 'WRITE_ACTIONS_ON_STAR_RESOURCE', severity: 'SUGGESTION', statement: 0, message: /limited only by its Condition.*function:NAME/ },
  },
  {
    name: 'reads on "*" are fine',
    source: policy(allow(['sagemaker:ListEndpoints', 'sagemaker:Describe*', 'sts:GetCallerIdentity'], '*')),
    codes: [],
    focus: { code: 'WRITE_ACTIONS_ON_STAR_RESOURCE', severity: 'WARNING', message: /never/ },
  },
  {
    name: 'iam:PassRole on "*"',
    source: policy(allow('iam:PassRole', '*', { Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } } })),
    codes: ['PASS_ROLE_WITH_STAR_RESOURCE'],
    focus: { code: 'PASS_ROLE_WITH_STAR_RESOURCE', severity: 'SECURITY_WARNING', statement: 0, message: /iam:PassRole on every role.*the Condition limits where/ },
  },
  {
    name: 'a wildcard that matches iam:PassRole, on "*"',
    source: policy(allow('iam:Pass*', '*')),
    codes: ['PASS_ROLE_WITH_STAR_RESOURCE'],
    focus: { code: 'PASS_ROLE_WITH_STAR_RESOURCE', severity: 'SECURITY_WARNING', statement: 0, message: /name the role ARNs in Resource/ },
  },
  {
    name: 'iam:PassRole on named roles is fine',
    source: policy(allow('iam:PassRole', ROLE)),
    codes: [],
    focus: { code: 'PASS_ROLE_WITH_STAR_RESOURCE', severity: 'SECURITY_WARNING', message: /never/ },
  },
  {
    name: 'iam:PassRole with NotResource',
    source: policy({ Effect: 'Allow', Action: 'iam:PassRole', NotResource: ROLE }),
    codes: ['PASS_ROLE_WITH_NOT_RESOURCE', 'ALLOW_WITH_NOT_RESOURCE'],
    focus: { code: 'PASS_ROLE_WITH_NOT_RESOURCE', severity: 'SECURITY_WARNING', statement: 0, message: /every role not listed in NotResource/ },
  },
  {
    name: 'Allow with NotAction',
    source: policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: ENDPOINTS }),
    codes: ['ALLOW_WITH_NOT_ACTION'],
    focus: { code: 'ALLOW_WITH_NOT_ACTION', severity: 'SECURITY_WARNING', statement: 0, message: /every action except iam:\*.*list the allowed actions in Action/ },
  },
  {
    name: 'Deny with NotAction is the usual guard, no warning',
    source: policy(allow('sagemaker:InvokeEndpoint'), { Effect: 'Deny', NotAction: 'sagemaker:InvokeEndpoint', Resource: '*' }),
    codes: [],
    focus: { code: 'ALLOW_WITH_NOT_ACTION', severity: 'SECURITY_WARNING', message: /never/ },
  },
  {
    name: 'Allow with NotResource',
    source: policy({ Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', NotResource: ENDPOINT }),
    codes: ['ALLOW_WITH_NOT_RESOURCE'],
    focus: { code: 'ALLOW_WITH_NOT_RESOURCE', severity: 'WARNING', statement: 0, message: /every resource except .*dog-breeds.*name the resources it is for in Resource/ },
  },
  {
    name: 'a resource policy open to everyone',
    source: policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'lambda:InvokeFunction', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:classify' }),
    kind: 'resource',
    codes: ['ALLOW_ANY_PRINCIPAL'],
    focus: { code: 'ALLOW_ANY_PRINCIPAL', severity: 'SECURITY_WARNING', statement: 0, message: /allows any principal of any account/ },
  },
  {
    name: 'a trust policy anyone may assume',
    source: policy({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }),
    kind: 'trust',
    codes: ['ALLOW_ANY_PRINCIPAL'],
    focus: { code: 'ALLOW_ANY_PRINCIPAL', severity: 'SECURITY_WARNING', statement: 0, message: /lets any principal of any account assume this role/ },
  },
  {
    name: 'Allow with NotPrincipal',
    source: policy({ Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::000000000000:user/mallory' }, Action: 'lambda:InvokeFunction', Resource: '*' }),
    kind: 'resource',
    codes: ['ALLOW_WITH_NOT_PRINCIPAL', 'WRITE_ACTIONS_ON_STAR_RESOURCE'],
    focus: { code: 'ALLOW_WITH_NOT_PRINCIPAL', severity: 'SECURITY_WARNING', statement: 0, message: /everyone except the principals in NotPrincipal/ },
  },
  {
    name: 'an Allow that an unconditional Deny covers',
    source: policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Sid: 'Invoke' }), deny('sagemaker:*', ENDPOINTS, { Sid: 'NoEndpoints' })),
    codes: ['SHADOWED_STATEMENT'],
    focus: { code: 'SHADOWED_STATEMENT', severity: 'WARNING', statement: 0, sid: 'Invoke', message: /can never allow anything: Statement 2 \(Sid NoEndpoints\) denies all of it/ },
  },
  {
    name: 'a Deny with a condition shadows nothing',
    source: policy(allow('sagemaker:InvokeEndpoint'), deny('sagemaker:*', ENDPOINTS, { Condition: { Bool: { 'aws:SecureTransport': 'false' } } })),
    codes: [],
    focus: { code: 'SHADOWED_STATEMENT', severity: 'WARNING', message: /never/ },
  },
  {
    name: 'a Deny of other resources shadows nothing',
    source: policy(allow('sagemaker:InvokeEndpoint'), deny('sagemaker:*', 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/other-*')),
    codes: [],
    focus: { code: 'SHADOWED_STATEMENT', severity: 'WARNING', message: /never/ },
  },
  {
    name: 'a duplicate statement: the later one is reported',
    source: policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Sid: 'First' }), allow(['sagemaker:InvokeEndpoint'], [ENDPOINT], { Sid: 'Second' })),
    codes: ['REDUNDANT_STATEMENT'],
    focus: { code: 'REDUNDANT_STATEMENT', severity: 'SUGGESTION', statement: 1, sid: 'Second', message: /Statement 2 \(Sid Second\) duplicates Statement 1 \(Sid First\)/ },
  },
  {
    name: 'a duplicate with its conditions is redundant too',
    source: policy(
      allow('sagemaker:InvokeEndpoint', ENDPOINT, { Condition: { Bool: { 'aws:SecureTransport': 'true' } } }),
      allow('sagemaker:InvokeEndpoint', ENDPOINT, { Condition: { Bool: { 'aws:SecureTransport': true } } }),
    ),
    codes: ['REDUNDANT_STATEMENT'],
    focus: { code: 'REDUNDANT_STATEMENT', severity: 'SUGGESTION', statement: 1, message: /Statement 2 duplicates Statement 1/ },
  },
  {
    name: 'a statement another covers, wherever it stands',
    source: policy(allow('sagemaker:DescribeEndpoint', ENDPOINTS), allow(['sagemaker:Describe*', 'sagemaker:List*'], '*')),
    codes: ['REDUNDANT_STATEMENT'],
    focus: { code: 'REDUNDANT_STATEMENT', severity: 'SUGGESTION', statement: 0, message: /Statement 1 allows nothing that Statement 2 does not already allow without conditions/ },
  },
  {
    name: 'a conditional statement covers nothing',
    source: policy(allow('sagemaker:DescribeEndpoint', ENDPOINTS), allow('sagemaker:Describe*', '*', { Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } })),
    codes: [],
    focus: { code: 'REDUNDANT_STATEMENT', severity: 'SUGGESTION', message: /never/ },
  },
  {
    name: 'an action another in the same list covers',
    source: policy(allow(['sagemaker:Describe*', 'sagemaker:DescribeEndpoint'])),
    codes: ['REDUNDANT_ACTION'],
    focus: { code: 'REDUNDANT_ACTION', severity: 'SUGGESTION', statement: 0, message: /lists sagemaker:DescribeEndpoint in Action, which sagemaker:Describe\* in the same list already covers/ },
  },
  {
    name: 'a resource another in the same list covers',
    source: policy(allow('sagemaker:InvokeEndpoint', [ENDPOINTS, ENDPOINT])),
    codes: ['REDUNDANT_RESOURCE'],
    focus: { code: 'REDUNDANT_RESOURCE', severity: 'SUGGESTION', statement: 0, message: /lists .*dog-breeds in Resource, which .*endpoint\/\* in the same list already covers/ },
  },
  {
    name: 'no Version',
    source: { Statement: [allow('sagemaker:InvokeEndpoint')] },
    codes: ['MISSING_VERSION'],
    focus: { code: 'MISSING_VERSION', severity: 'SUGGESTION', message: /2008-10-17.*add "Version": "2012-10-17"/ },
  },
  {
    name: 'a policy variable in a 2008-10-17 policy',
    source: { Statement: [allow('iam:GetUser', 'arn:aws:iam::000000000000:user/${aws:username}')] },
    codes: ['MISSING_VERSION', 'VARIABLE_UNSUPPORTED_IN_VERSION'],
    focus: { code: 'VARIABLE_UNSUPPORTED_IN_VERSION', severity: 'WARNING', statement: 0, message: /user\/\$\{aws:username\}.*plain text/ },
  },
  {
    name: 'an empty Sid',
    source: policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Sid: '' })),
    codes: ['EMPTY_SID'],
    focus: { code: 'EMPTY_SID', severity: 'SUGGESTION', statement: 0, sid: '', message: /empty Sid/ },
  },
  {
    name: 'a Sid with spaces in an identity policy',
    source: policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Sid: 'Invoke one endpoint' })),
    codes: ['UNSUPPORTED_SID'],
    focus: { code: 'UNSUPPORTED_SID', severity: 'WARNING', statement: 0, sid: 'Invoke one endpoint', message: /alpha-numeric/ },
  },
];

function check(row: Row): Finding[] {
  const source = typeof row.source === 'string' ? row.source : JSON.stringify(row.source);
  return validatePolicy(source, { kind: row.kind ?? 'identity' });
}

describe('validatePolicy: one row per rule', () => {
  for (const row of rows) {
    it(row.name, () => {
      const findings = check(row);
      assert.deepEqual(
        findings.map((finding) => finding.code),
        row.codes,
        findings.map((finding) => `${finding.code}: ${finding.message}`).join('\n'),
      );
      for (const finding of findings) {
        if (finding.statement) assert.ok(finding.message.startsWith(statementLabel(finding.statement.index, finding.statement.sid)), finding.message);
      }
      if (!row.codes.includes(row.focus.code)) return;
      const focus = findings.find((finding) => finding.code === row.focus.code)!;
      assert.equal(focus.severity, row.focus.severity);
      assert.match(focus.message, row.focus.message);
      assert.equal(focus.statement?.index, row.focus.statement);
      assert.equal(focus.statement?.sid, row.focus.sid);
    });
  }
});

describe('validatePolicy: clean policies and options', () => {
  it('the invoke-only policy the reference function needs has no findings', () => {
    const findings = validatePolicy(
      JSON.stringify(policy(allow('sagemaker:InvokeEndpoint', ENDPOINT, { Sid: 'InvokeDogBreeds' }), allow('logs:CreateLogStream', 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/classify:*'))),
    );
    assert.deepEqual(findings, []);
  });

  it('a typical trust policy has no findings', () => {
    const trust = policy({ Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 'sts:AssumeRole' });
    assert.deepEqual(validatePolicy(trust, { kind: 'trust' }), []);
  });

  it('the kind is passed to the parser: a Principal in an identity policy is a SYNTAX error', () => {
    const findings = validatePolicy(policy({ Effect: 'Allow', Principal: '*', Action: 'lambda:InvokeFunction', Resource: '*' }));
    assert.deepEqual(
      findings.map((finding) => [finding.code, finding.statement?.index]),
      [['SYNTAX', 0]],
    );
  });

  it('knownActions replaces the catalog', () => {
    const knownActions = ['sagemaker:InvokeEndpoint', 'ec2:RunInstances'];
    assert.deepEqual(validatePolicy(policy(allow(['ec2:RunInstances', 'sagemaker:InvokeEndpoint'])), { knownActions }), []);
    assert.deepEqual(
      validatePolicy(policy(allow('sagemaker:DescribeEndpoint')), { knownActions }).map((finding) => finding.code),
      ['UNKNOWN_ACTION'],
    );
  });

  it('orders findings: the document first, then by statement, then by severity', () => {
    const findings = validatePolicy({
      Statement: [allow(['sagemaker:Describe*', 'sagemaker:DescribeEndpoint', 'iam:PassRole'], '*'), allow('sagemaker:NoSuchThing')],
    });
    assert.deepEqual(
      findings.map((finding) => [finding.statement?.index, finding.severity, finding.code]),
      [
        [undefined, 'SUGGESTION', 'MISSING_VERSION'],
        [0, 'SECURITY_WARNING', 'PASS_ROLE_WITH_STAR_RESOURCE'],
        [0, 'SUGGESTION', 'REDUNDANT_ACTION'],
        [1, 'ERROR', 'UNKNOWN_ACTION'],
      ],
    );
  });

  it('blocksAttachment is true exactly when a finding is an ERROR', () => {
    assert.equal(blocksAttachment(validatePolicy(policy(allow('sagemaker:InvokeEndpoints')))), true);
    assert.equal(blocksAttachment(validatePolicy('not json')), true);
    assert.equal(blocksAttachment(validatePolicy(policy(allow('*', '*')))), false);
    assert.equal(blocksAttachment([]), false);
  });
});
