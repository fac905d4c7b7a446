import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { compilePolicy, PolicyCache } from './compile-policy.ts';
import { parsePolicyDocument } from './policy-document.ts';

const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Invoke', Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: '*' }] });
const isMalformed = (pattern: RegExp) => (error: unknown) => error instanceof DomainError && error.code === 'MalformedPolicyDocument' && pattern.test(error.message);

describe('compilePolicy', () => {
  it('keeps the document and labels every statement with the policy id', () => {
    const document = parsePolicyDocument(POLICY);
    const compiled = compilePolicy(document, { policyId: 'inline:invoke' });
    assert.equal(compiled.document, document);
    assert.equal(compiled.policyId, 'inline:invoke');
    assert.deepEqual(compiled.statements[0].ref, { policyId: 'inline:invoke', statementIndex: 0, sid: 'Invoke', effect: 'Allow' });
    assert.ok(Object.isFrozen(compiled.statements[0].ref));
  });
  it('rejects an unknown condition operator, naming the statement', () => {
    const document = parsePolicyDocument({ Version: '2012-10-17', Statement: [{ Sid: 'A', Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEqualsAny: { 'aws:username': 'x' } } }] });
    assert.throws(() => compilePolicy(document), isMalformed(/^Statement 2 has Condition StringEqualsAny: unknown operator/));
  });
  it('rejects a partly wildcarded principal', () => {
    const document = parsePolicyDocument({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/*' }, Action: '*', Resource: '*' }] }, 'resource');
    assert.throws(() => compilePolicy(document), isMalformed(/Principal "arn:aws:iam::111122223333:user\/\*": a principal cannot be partly wildcarded/));
  });
});

describe('PolicyCache: compile once, reuse', () => {
  it('returns the same compiled object for the same text', () => {
    const cache = new PolicyCache(10);
    const first = cache.compile(POLICY, { policyId: 'p' });
    assert.equal(cache.compile(POLICY, { policyId: 'p' }), first);
    assert.equal(cache.size, 1);
  });
  it('keys by kind and label as well as text, or by the key the caller gives', () => {
    const cache = new PolicyCache(10);
    const a = cache.compile(POLICY, { policyId: 'a' });
    const b = cache.compile(POLICY, { policyId: 'b' });
    assert.notEqual(a, b);
    assert.equal(b.statements[0].ref.policyId, 'b');
    const keyed = cache.compile(POLICY, { cacheKey: 'arn:aws:iam::111122223333:policy/p#v1' });
    assert.equal(cache.compile('ignored when the key is known', { cacheKey: 'arn:aws:iam::111122223333:policy/p#v1' }), keyed);
  });
  it('takes parsed policy values too', () => {
    const cache = new PolicyCache(10);
    const value = JSON.parse(POLICY) as unknown;
    assert.equal(cache.compile(value), cache.compile(JSON.parse(POLICY)));
  });
  it('drops the least recently used beyond its bound', () => {
    const cache = new PolicyCache(2);
    const texts = ['a', 'b', 'c'].map((name) => POLICY.replace('Invoke"', `${name}"`));
    const first = cache.compile(texts[0]);
    cache.compile(texts[1]);
    assert.equal(cache.compile(texts[0]), first, 'a use refreshes the entry');
    cache.compile(texts[2]);
    assert.equal(cache.size, 2);
    assert.equal(cache.compile(texts[0]), first, 'the refreshed entry stayed');
    assert.notEqual(cache.compile(texts[1]), undefined);
    assert.equal(cache.size, 2);
  });
  it('does not cache a policy that fails, and throws again', () => {
    const cache = new PolicyCache(10);
    const bad = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Nope: { a: 'b' } } }] });
    assert.throws(() => cache.compile(bad), isMalformed(/unknown operator/));
    assert.throws(() => cache.compile(bad), isMalformed(/unknown operator/));
    assert.throws(() => cache.compile('{not json'), isMalformed(/not valid JSON/));
    assert.equal(cache.size, 0);
  });
  it('refuses a bound below one', () => {
    assert.throws(() => new PolicyCache(0), (error: unknown) => error instanceof DomainError && error.code === 'ValidationError');
  });
});
