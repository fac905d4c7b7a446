import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTemplate } from './policy-variables.ts';
import { ConditionContext } from './request-context.ts';
import { compilePattern, compilePatternList, patternTokens, plainParts, type WildcardMode } from './wildcard.ts';

const NO_VARIABLES = new ConditionContext();

function matches(pattern: string, text: string, mode: WildcardMode, context = NO_VARIABLES): boolean {
  return compilePattern(parseTemplate(pattern, '2012-10-17'), mode)(text, context);
}

type Row = [pattern: string, text: string, expected: boolean];

describe('resource wildcards (IAM User Guide, "Resource": wildcards within ARN segments)', () => {
  const rows: Row[] = [
    // The doc's examples.
    ['arn:aws:s3:::amzn-s3-demo-bucket/*', 'arn:aws:s3:::amzn-s3-demo-bucket/photo.jpg', true],
    ['arn:aws:s3:::amzn-s3-demo-bucket/*', 'arn:aws:s3:::amzn-s3-demo-bucket/2024/01/photo.jpg', true],
    ['arn:aws:s3:::amzn-s3-demo-bucket/*', 'arn:aws:s3:::amzn-s3-demo-bucket', false],
    ['arn:aws:s3:::amzn-s3-demo-bucket/*', 'arn:aws:s3:::amzn-s3-demo-bucket-other/x', false],
    ['arn:aws:iam::123456789012:user/*', 'arn:aws:iam::123456789012:user/Bob', true],
    ['arn:aws:iam::123456789012:user/*', 'arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob', true],
    ['arn:aws:iam::123456789012:user/division_abc/*', 'arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob', true],
    ['arn:aws:iam::123456789012:user/division_abc/*', 'arn:aws:iam::123456789012:user/division_def/Bob', false],
    ['arn:aws:iam::123456789012:user/*', 'arn:aws:iam::123456789012:role/Bob', false],
    ['arn:aws:s3:::amzn-s3-demo-bucket/*/test/*', 'arn:aws:s3:::amzn-s3-demo-bucket/a/b/test/c', true],
    ['arn:aws:s3:::amzn-s3-demo-bucket/*/test/*', 'arn:aws:s3:::amzn-s3-demo-bucket/a/b/c', false],
    ['arn:aws:s3:::amzn-s3-demo-bucket/????/test/*', 'arn:aws:s3:::amzn-s3-demo-bucket/2024/test/x', true],
    ['arn:aws:s3:::amzn-s3-demo-bucket/????/test/*', 'arn:aws:s3:::amzn-s3-demo-bucket/202/test/x', false],
    // "If the * wildcard is the last character of a resource ARN segment, it can expand to match beyond the colon boundaries."
    ['arn:aws:logs:*:*:*', 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:log-stream:2024', true],
    ['arn:aws:sagemaker:*:*:endpoint/*', 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dogs', true],
    ['arn:aws:sagemaker:*:*:endpoint/*', 'arn:aws:sagemaker:us-east-1:000000000000:model/dogs', false],
    ['arn:aws:logs:us-east-1:123456789012:log-group:*', 'arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s', true],
    ['arn:aws:sagemaker:us-east-1:000000000000:*', 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dogs', true],
    ['*', 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dogs', true],
    ['*', '*', true],
    ['arn:aws:sagemaker:*:*:*', '*', false],
    // A * that is not last in its segment stays within it; so does ?.
    ['arn:aws:sagemaker:us-*-1:000000000000:endpoint/dogs', 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dogs', true],
    ['arn:aws:sagemaker:us*1:000000000000:endpoint/dogs', 'arn:aws:sagemaker:us-east-1:x:1:000000000000:endpoint/dogs', false],
    ['arn:aws:s3:::bucket/a*b', 'arn:aws:s3:::bucket/a-x-b', true],
    ['arn:aws:s3:::bucket/a*b', 'arn:aws:s3:::bucket/a:x:b', false],
    ['arn:aws:s3:::bucket/a?b', 'arn:aws:s3:::bucket/a:b', false],
    ['arn:aws:s3:::bucket/a?b', 'arn:aws:s3:::bucket/a/b', true],
    // Case-sensitive; nothing but * and ? is special.
    ['arn:aws:s3:::Bucket/*', 'arn:aws:s3:::bucket/x', false],
    ['arn:aws:s3:::my.bucket/(a)+[b]{2}^$|\\', 'arn:aws:s3:::my.bucket/(a)+[b]{2}^$|\\', true],
    ['arn:aws:s3:::my.bucket/*', 'arn:aws:s3:::myxbucket/x', false],
    ['arn:aws:s3:::b/a.*', 'arn:aws:s3:::b/abc', false],
    // Backtracking: the literal after a star may occur more than once.
    ['arn:aws:s3:::b/*x*x', 'arn:aws:s3:::b/axbxcx', true],
    ['arn:aws:s3:::b/*ab', 'arn:aws:s3:::b/aab', true],
    ['arn:aws:s3:::b/**', 'arn:aws:s3:::b/any/thing', true],
    ['arn:aws:s3:::b/*?', 'arn:aws:s3:::b/', false],
    ['arn:aws:s3:::b/*?', 'arn:aws:s3:::b/x', true],
  ];
  for (const [pattern, text, expected] of rows) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${text}`, () => assert.equal(matches(pattern, text, 'resource'), expected));
  }
});

describe('action wildcards: case-insensitive, * and ?', () => {
  const actionMatches = (patterns: string[], action: string) =>
    compilePatternList(
      patterns.map((name) => plainParts(name.toLowerCase())),
      'plain',
    )(action.toLowerCase(), NO_VARIABLES);
  const rows: Array<[string[], string, boolean]> = [
    [['sagemaker:InvokeEndpoint'], 'sagemaker:InvokeEndpoint', true],
    [['sagemaker:InvokeEndpoint'], 'SageMaker:invokeendpoint', true],
    [['SAGEMAKER:INVOKE*'], 'sagemaker:InvokeEndpointAsync', true],
    [['sagemaker:Invoke*'], 'sagemaker:CreateEndpoint', false],
    [['sagemaker:*'], 'sagemaker:CreateTrainingJob', true],
    [['sagemaker:*'], 'lambda:InvokeFunction', false],
    [['*'], 'lambda:InvokeFunction', true],
    // The doc's example: "iam:*AccessKey*" covers the access-key actions.
    [['iam:*AccessKey*'], 'iam:CreateAccessKey', true],
    [['iam:*AccessKey*'], 'iam:ListAccessKeys', true],
    [['iam:*AccessKey*'], 'iam:CreateUser', false],
    [['s3:Get?bject'], 's3:GetObject', true],
    [['s3:Get?bject'], 's3:GetObbject', false],
    [['lambda:InvokeFunction', 'sagemaker:Describe*'], 'sagemaker:DescribeEndpoint', true],
    [['lambda:InvokeFunction', 'sagemaker:Describe*'], 'lambda:invokefunction', true],
    [['lambda:InvokeFunction', 'sagemaker:Describe*'], 'sagemaker:ListEndpoints', false],
    [['sagemaker:InvokeEndpoint'], 'sagemaker:InvokeEndpointAsync', false],
  ];
  for (const [patterns, action, expected] of rows) {
    it(`${patterns.join(', ')} ${expected ? 'matches' : 'does not match'} ${action}`, () => assert.equal(actionMatches(patterns, action), expected));
  }
});

describe('StringLike wildcards cross every character', () => {
  it('* matches across : and /', () => {
    assert.equal(matches('a*z', 'a:b/c:z', 'plain'), true);
    assert.equal(matches('a?z', 'a:z', 'plain'), true);
  });
});

describe('patterns are compiled once into plain string tests', () => {
  it('tokens: literals merged, runs of * collapsed, wildcards marked by whether they cross a colon', () => {
    assert.deepEqual(patternTokens(parseTemplate('arn:aws:s3:::b/**/x?', '2012-10-17'), 'resource'), [
      'arn:aws:s3:::b/',
      { kind: 'star', crossesColon: false },
      '/x',
      { kind: 'one', crossesColon: false },
    ]);
    assert.deepEqual(patternTokens(parseTemplate('arn:aws:*:*:x', '2012-10-17'), 'resource'), [
      'arn:aws:',
      { kind: 'star', crossesColon: true },
      ':',
      { kind: 'star', crossesColon: true },
      ':x',
    ]);
    assert.deepEqual(patternTokens(parseTemplate('arn:*:s3:::b/*', '2012-10-17'), 'arn'), [
      'arn:',
      { kind: 'star', crossesColon: false },
      ':s3:::b/',
      { kind: 'star', crossesColon: true },
    ]);
  });
  it('the escapes ${*} and ${?} are literal characters, not wildcards', () => {
    assert.deepEqual(patternTokens(parseTemplate('a${*}b${?}c${$}', '2012-10-17'), 'plain'), ['a*b?c$']);
    assert.equal(matches('a${*}', 'a*', 'plain'), true);
    assert.equal(matches('a${*}', 'ab', 'plain'), false);
    assert.equal(matches('a${?}', 'a?', 'plain'), true);
    assert.equal(matches('a${?}', 'ab', 'plain'), false);
  });
  it('an empty pattern matches only the empty text', () => {
    assert.equal(matches('', '', 'plain'), true);
    assert.equal(matches('', 'x', 'plain'), false);
  });
  it('a resolved variable is literal text: a * in its value is no wildcard', () => {
    const context = new ConditionContext([['aws:username', 'a*']]);
    assert.equal(matches('arn:aws:s3:::b/${aws:username}/*', 'arn:aws:s3:::b/a*/x', 'resource', context), true);
    assert.equal(matches('arn:aws:s3:::b/${aws:username}/*', 'arn:aws:s3:::b/abc/x', 'resource', context), false);
  });
  it('a star before a variable tries every split', () => {
    const context = new ConditionContext([['aws:username', 'bob']]);
    assert.equal(matches('*-${aws:username}', 'team-x-bob', 'plain', context), true);
    assert.equal(matches('*-${aws:username}', 'team-x-alice', 'plain', context), false);
  });
  it('many stars cost tokens × positions, not exponentially many tries', () => {
    const text = 'a'.repeat(400);
    assert.equal(matches(`${'*a'.repeat(40)}*b`, text, 'plain'), false);
    assert.equal(matches(`${'*a'.repeat(40)}*`, text, 'plain'), true);
    assert.equal(matches(`arn:aws:s3:::${'*a'.repeat(30)}*b`, `arn:aws:s3:::${text}`, 'resource'), false);
  });
  it('a pattern list with * matches everything, an exact list only its members', () => {
    const all = compilePatternList([plainParts('x'), plainParts('*')], 'resource');
    assert.equal(all('anything', NO_VARIABLES), true);
    const exact = compilePatternList([plainParts('a'), plainParts('b')], 'resource');
    assert.deepEqual(['a', 'b', 'c'].map((text) => exact(text, NO_VARIABLES)), [true, true, false]);
  });
});
