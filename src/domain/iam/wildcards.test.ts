import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogSpelling, expandActionPattern, matchesWildcard, wildcardCovers } from './wildcards.ts';

describe('matchesWildcard', () => {
  const cases: Array<[pattern: string, text: string, ignoreCase: boolean, expected: boolean]> = [
    ['sagemaker:Describe*', 'sagemaker:DescribeEndpoint', true, true],
    ['sagemaker:describe*', 'sagemaker:DescribeEndpoint', true, true],
    ['sagemaker:Describe*', 'sagemaker:ListEndpoints', true, false],
    ['sagemaker:Describe?ndpoint', 'sagemaker:DescribeEndpoint', true, true],
    ['sagemaker:Describe?', 'sagemaker:DescribeEndpoint', true, false],
    ['*', 'anything:AtAll', false, true],
    ['arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b.jpg', false, true],
    ['arn:aws:s3:::Bucket/*', 'arn:aws:s3:::bucket/a', false, false],
    ['arn:aws:s3:::a.b(c)+', 'arn:aws:s3:::a.b(c)+', false, true],
    ['arn:aws:s3:::a.b', 'arn:aws:s3:::axb', false, false],
  ];
  for (const [pattern, text, ignoreCase, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${text}`, () => assert.equal(matchesWildcard(pattern, text, { ignoreCase }), expected));
  }
});

describe('wildcardCovers', () => {
  const cases: Array<[general: string, specific: string, expected: boolean]> = [
    ['sagemaker:*', 'sagemaker:Describe*', true],
    ['sagemaker:Describe*', 'sagemaker:*', false],
    ['sagemaker:Describe*', 'sagemaker:DescribeEndpoint', true],
    ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpoint', true],
    ['sagemaker:Describe?ndpoint', 'sagemaker:Describe*ndpoint', false],
    ['sagemaker:Describe*ndpoint', 'sagemaker:Describe?ndpoint', true],
    ['a*', 'a*b', true],
    ['*a*', '*a', true],
    ['*a', '*a*', false],
    ['arn:aws:s3:::*sagemaker*', 'arn:aws:s3:::sagemaker-us-east-1-000000000000/*', true],
    ['arn:aws:s3:::bucket/?', 'arn:aws:s3:::bucket/??', false],
  ];
  for (const [general, specific, expected] of cases) {
    it(`${general} ${expected ? 'covers' : 'does not cover'} ${specific}`, () => assert.equal(wildcardCovers(general, specific, { ignoreCase: true }), expected));
  }

  it('compares ARNs case-sensitively when asked to', () => {
    assert.equal(wildcardCovers('arn:aws:s3:::Bucket/*', 'arn:aws:s3:::bucket/key', { ignoreCase: false }), false);
    assert.equal(wildcardCovers('arn:aws:s3:::Bucket/*', 'arn:aws:s3:::bucket/key', { ignoreCase: true }), true);
  });
});

describe('catalog lookups', () => {
  const known = ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:InvokeEndpoint', 'lambda:InvokeFunction'];
  it('expands a pattern to the catalog actions it matches, in catalog order', () => {
    assert.deepEqual(expandActionPattern('sagemaker:DescribeEndpoint*', known), ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig']);
    assert.deepEqual(expandActionPattern('*:Invoke*', known), ['sagemaker:InvokeEndpoint', 'lambda:InvokeFunction']);
    assert.deepEqual(expandActionPattern('s3:*', known), []);
  });
  it("spells a name as the catalog does", () => {
    assert.equal(catalogSpelling('LAMBDA:invokefunction', known), 'lambda:InvokeFunction');
    assert.equal(catalogSpelling('lambda:Invoke*', known), undefined);
  });
});
