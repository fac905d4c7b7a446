import assert from 'node:assert/strict';
import { refusal } from '../../testing/assert-domain-error.ts';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { functionArn, isAliasName, isVersionNumber, parseFunctionName, validateAliasName, validateQualifier, type FunctionRef } from './function-names.ts';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:my-function';

describe('parseFunctionName: the name formats', () => {
  const cases: [string, string | undefined, FunctionRef][] = [
    ['my-function', undefined, { functionName: 'my-function' }],
    ['my_function-2', undefined, { functionName: 'my_function-2' }],
    ['my-function:v1', undefined, { functionName: 'my-function', qualifier: 'v1' }],
    ['my-function:3', undefined, { functionName: 'my-function', qualifier: '3' }],
    ['my-function:$LATEST', undefined, { functionName: 'my-function', qualifier: '$LATEST' }],
    ['my-function', '7', { functionName: 'my-function', qualifier: '7' }],
    ['my-function', '', { functionName: 'my-function' }],
    ['my-function:prod', 'prod', { functionName: 'my-function', qualifier: 'prod' }],
    [ARN, undefined, { functionName: 'my-function' }],
    [`${ARN}:live`, undefined, { functionName: 'my-function', qualifier: 'live' }],
    [ARN, '$LATEST', { functionName: 'my-function', qualifier: '$LATEST' }],
    ['000000000000:function:my-function', undefined, { functionName: 'my-function' }],
    ['000000000000:function:my-function:12', undefined, { functionName: 'my-function', qualifier: '12' }],
    ['a'.repeat(64), undefined, { functionName: 'a'.repeat(64) }],
  ];
  for (const [value, qualifier, expected] of cases) {
    it(`${value}${qualifier === undefined ? '' : ` with Qualifier ${JSON.stringify(qualifier)}`}`, () => {
      assert.deepEqual(parseFunctionName(value, qualifier, scope), expected);
    });
  }
});

describe('parseFunctionName: refusals', () => {
  const cases: [string, string | undefined, DomainError['code'], string, RegExp][] = [
    ['my function', undefined, 'ValidationError', 'ValidationException', /Value 'my function' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['my.function', undefined, 'ValidationError', 'ValidationException', /regular expression pattern/],
    ['', undefined, 'ValidationError', 'ValidationException', /regular expression pattern/],
    ['a'.repeat(65), undefined, 'ValidationError', 'ValidationException', /Member must have length less than or equal to 64/],
    [`arn:aws:lambda:us-east-1:000000000000:function:${'a'.repeat(130)}`, undefined, 'ValidationError', 'ValidationException', /less than or equal to 140/],
    ['a:b:c', undefined, 'ValidationError', 'ValidationException', /regular expression pattern/],
    ['my-function:v.1', undefined, 'ValidationError', 'ValidationException', /regular expression pattern/],
    ['arn:aws:s3:us-east-1:000000000000:function:my-function', undefined, 'ValidationError', 'ValidationException', /regular expression pattern/],
    ['arn:aws:lambda:us-east-1:000000000000:layer:my-function', undefined, 'ValidationError', 'ValidationException', /regular expression pattern/],
    ['my-function:v1', 'v2', 'ValidationError', 'InvalidParameterValueException', /^The derived qualifier from the function name does not match the specified qualifier\.$/],
    [`${ARN}:3`, '4', 'ValidationError', 'InvalidParameterValueException', /derived qualifier/],
    ['my-function', 'bad qualifier', 'ValidationError', 'ValidationException', /Value 'bad qualifier' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \(\|\[a-zA-Z0-9\$_-\]\+\)/],
    ['my-function', '$NEXT', 'ValidationError', 'InvalidParameterValueException', /Invalid qualifier \$NEXT: use \$LATEST, a version number/],
    ['my-function', 'a'.repeat(129), 'ValidationError', 'ValidationException', /less than or equal to 128/],
    ['arn:aws:lambda:eu-west-1:000000000000:function:my-function', undefined, 'NotFound', 'ResourceNotFoundException', /^Functions from 'eu-west-1' are not reachable in this region \('us-east-1'\)$/],
    ['arn:aws:lambda:us-east-1:111111111111:function:my-function:2', undefined, 'NotFound', 'ResourceNotFoundException', /^Function not found: arn:aws:lambda:us-east-1:111111111111:function:my-function:2$/],
    ['111111111111:function:my-function', undefined, 'NotFound', 'ResourceNotFoundException', /Function not found: arn:aws:lambda:us-east-1:111111111111:function:my-function$/],
    ['arn:aws-cn:lambda:us-east-1:000000000000:function:my-function', undefined, 'NotFound', 'ResourceNotFoundException', /Function not found: arn:aws-cn:/],
  ];
  for (const [value, qualifier, code, lambdaError, message] of cases) {
    it(`${value.slice(0, 60)}${qualifier === undefined ? '' : ` with Qualifier ${qualifier.slice(0, 20)}`}`, () => {
      const error = refusal(() => parseFunctionName(value, qualifier, scope));
      assert.equal(error.code, code);
      assert.equal(error.details.lambdaError, lambdaError);
      assert.match(error.message, message);
    });
  }
});

describe('functionArn', () => {
  it('builds unqualified and qualified ARNs in the scope', () => {
    assert.equal(functionArn('my-function', scope), ARN);
    assert.equal(functionArn('my-function', { region: 'eu-west-1', accountId: '123456789012' }, '$LATEST'), 'arn:aws:lambda:eu-west-1:123456789012:function:my-function:$LATEST');
  });
  it('round-trips through parseFunctionName', () => {
    assert.deepEqual(parseFunctionName(functionArn('f', scope, 'blue'), undefined, scope), { functionName: 'f', qualifier: 'blue' });
  });
});

describe('qualifier kinds', () => {
  const cases: [string, boolean, boolean][] = [
    ['1', true, false],
    ['0042', true, false],
    ['live', false, true],
    ['v1', false, true],
    ['1a', false, true],
    ['a-b_c', false, true],
    ['$LATEST', false, false],
    ['', false, false],
    ['a'.repeat(129), false, false],
  ];
  for (const [qualifier, version, alias] of cases) {
    it(`${JSON.stringify(qualifier.slice(0, 12))}: version ${version}, alias ${alias}`, () => {
      assert.equal(isVersionNumber(qualifier), version);
      assert.equal(isAliasName(qualifier), alias);
    });
  }
  it('validateQualifier accepts each kind and refuses the rest', () => {
    for (const good of ['$LATEST', '5', 'prod']) validateQualifier(good);
    assert.equal(refusal(() => validateQualifier('$latest')).code, 'ValidationError');
  });
});

describe('validateAliasName', () => {
  it('accepts names that cannot be mistaken for versions', () => {
    for (const name of ['live', 'v2', '2b', 'blue-green_1', 'a'.repeat(128)]) validateAliasName(name);
  });
  const cases: [string, RegExp][] = [
    ['1', /^1 validation error detected: Value '1' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: \(\?!\^\[0-9\]\+\$\)\(\[a-zA-Z0-9-_\]\+\)$/],
    ['$LATEST', /regular expression pattern/],
    ['has space', /regular expression pattern/],
    ['', /length greater than or equal to 1/],
    ['a'.repeat(129), /length less than or equal to 128/],
  ];
  for (const [name, message] of cases) {
    it(`refuses ${JSON.stringify(name.slice(0, 12))}`, () => {
      const error = refusal(() => validateAliasName(name));
      assert.equal(error.details.lambdaError, 'ValidationException');
      assert.equal(error.details.field, 'Name');
      assert.match(error.message, message);
    });
  }
});
