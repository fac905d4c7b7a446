import assert from 'node:assert/strict';
import { refusal } from '../../testing/assert-domain-error.ts';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import {
  checkCodeStorage,
  checkUnzippedCodeSize,
  CODE_LIMITS,
  environmentSize,
  RESERVED_ENVIRONMENT_KEYS,
  validateEnvironmentVariables,
  validateFunctionConfig,
  type FunctionConfigInput,
} from './function-config.ts';

const supportedRuntimes = ['nodejs20.x', 'python3.11'];

describe('validateFunctionConfig accepts what Lambda accepts', () => {
  const cases: [string, FunctionConfigInput][] = [
    ['nothing to check', {}],
    ['the bounds of memory and timeout', { MemorySize: 128, Timeout: 1 }],
    ['the other bounds', { MemorySize: 10240, Timeout: 900 }],
    ['a typical function', { MemorySize: 512, Timeout: 30, Handler: 'index.handler', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::000000000000:role/lambda-exec' }],
    ['a role with a path', { Role: 'arn:aws:iam::000000000000:role/service-role/dog-breeds/InvokeEndpoint' }],
    ['a handler of 128 characters', { Handler: 'h'.repeat(128) }],
    ['unreserved variables, TZ and the X-Ray ones included', { Environment: { Variables: { ENDPOINT_NAME: 'dogs', TZ: 'Europe/Paris', AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR', AWS_LAMBDA_EXEC_WRAPPER: '/opt/w' } } }],
    ['an empty map', { Environment: { Variables: {} } }],
  ];
  for (const [name, input] of cases) it(name, () => validateFunctionConfig(input, { supportedRuntimes }));
});

describe('validateFunctionConfig refuses in Lambda words', () => {
  const cases: [string, FunctionConfigInput, string, string, RegExp][] = [
    ['memory under 128', { MemorySize: 127 }, 'MemorySize', 'ValidationException', /^1 validation error detected: Value '127' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128$/],
    ['memory over 10240', { MemorySize: 10241 }, 'MemorySize', 'ValidationException', /Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240$/],
    ['fractional memory', { MemorySize: 256.5 }, 'MemorySize', 'ValidationException', /Value '256.5' at 'memorySize'/],
    ['timeout of 0', { Timeout: 0 }, 'Timeout', 'ValidationException', /Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1$/],
    ['timeout over 15 minutes', { Timeout: 901 }, 'Timeout', 'ValidationException', /Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900$/],
    ['an empty handler', { Handler: '' }, 'Handler', 'ValidationException', /Value '' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: \[\^\\s\]\+$/],
    ['a handler with a space', { Handler: 'index handler' }, 'Handler', 'ValidationException', /regular expression pattern/],
    ['a handler of 129 characters', { Handler: 'h'.repeat(129) }, 'Handler', 'ValidationException', /Member must have length less than or equal to 128$/],
    ['a user ARN for a role', { Role: 'arn:aws:iam::000000000000:user/alice' }, 'Role', 'ValidationException', /at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:\(aws\[a-zA-Z-\]\*\)\?:iam::\\d\{12\}:role/],
    ['a role name alone', { Role: 'lambda-exec' }, 'Role', 'ValidationException', /Value 'lambda-exec' at 'role'/],
    ['a role in a short account', { Role: 'arn:aws:iam::123:role/x' }, 'Role', 'ValidationException', /at 'role'/],
    ['an unknown runtime', { Runtime: 'nodejs4.3' }, 'Runtime', 'InvalidParameterValueException', /^Value nodejs4.3 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[nodejs20.x, python3.11\] or be a valid ARN$/],
    ['a key with a hyphen', { Environment: { Variables: { 'MY-KEY': 'x' } } }, 'Environment.Variables', 'ValidationException', /Map keys must satisfy constraint: \[Member must satisfy regular expression pattern: \[a-zA-Z\]\(\[a-zA-Z0-9_\]\)\+\]$/],
    ['a one-letter key, which the pattern does not allow', { Environment: { Variables: { A: 'x' } } }, 'Environment.Variables', 'ValidationException', /Map keys/],
    ['a key starting with an underscore', { Environment: { Variables: { _HANDLER: 'x' } } }, 'Environment.Variables', 'ValidationException', /Map keys/],
    [
      'reserved keys, listed in request order',
      { Environment: { Variables: { SAFE: '1', AWS_SECRET_ACCESS_KEY: 's', AWS_ACCESS_KEY_ID: 'a' } } },
      'Environment.Variables',
      'InvalidParameterValueException',
      /^Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification\. Reserved keys used in this request: AWS_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID$/,
    ],
    ['AWS_REGION', { Environment: { Variables: { AWS_REGION: 'eu-west-1' } } }, 'Environment.Variables', 'InvalidParameterValueException', /Reserved keys used in this request: AWS_REGION$/],
  ];
  for (const [name, input, field, lambdaError, message] of cases) {
    it(name, () => {
      const error = refusal(() => validateFunctionConfig(input, { supportedRuntimes }));
      assert.equal(error.code, 'ValidationError');
      assert.equal(error.details.field, field);
      assert.equal(error.details.lambdaError, lambdaError);
      assert.match(error.message, message);
    });
  }
});

describe('environment variables: the 4 KB of JSON', () => {
  // {"K1":"<value>"} is 9 bytes of JSON around the value.
  const ofSize = (bytes: number) => ({ K1: 'v'.repeat(bytes - 9) });
  it('measures compact JSON, quotes and braces included', () => {
    assert.equal(environmentSize({}), 2);
    assert.equal(environmentSize({ AB: 'c' }), 10);
    assert.equal(environmentSize(ofSize(4096)), 4096);
  });
  it('counts UTF-8 bytes, not characters', () => {
    assert.equal(environmentSize({ AB: 'é' }), 11);
  });
  it('accepts exactly 4096 bytes', () => validateEnvironmentVariables(ofSize(4096)));
  it('refuses 4097 bytes, without quoting the values', () => {
    const secret = ofSize(4097);
    const error = refusal(() => validateEnvironmentVariables(secret));
    assert.equal(error.details.lambdaError, 'InvalidParameterValueException');
    assert.match(error.message, /^Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit\. Size measured: 4097 bytes/);
    assert.ok(!error.message.includes(secret.K1));
  });
  it('keeps the documented reserved list (no TZ, no AWS_XRAY_*)', () => {
    assert.ok(RESERVED_ENVIRONMENT_KEYS.includes('AWS_LAMBDA_RUNTIME_API'));
    assert.ok(!RESERVED_ENVIRONMENT_KEYS.includes('TZ'));
    assert.ok(!RESERVED_ENVIRONMENT_KEYS.some((key) => key.startsWith('AWS_XRAY_')));
  });
});

describe('code size and storage', () => {
  it('uses the limits GetAccountSettings reports', () => {
    assert.deepEqual(CODE_LIMITS, { codeSizeZipped: 52428800, codeSizeUnzipped: 262144000, totalCodeSize: 80530636800 });
  });
  it('refuses unzipped code of 250 MB or more', () => {
    checkUnzippedCodeSize(262143999);
    const error = refusal(() => checkUnzippedCodeSize(262144000));
    assert.equal(error.details.lambdaError, 'InvalidParameterValueException');
    assert.equal(error.message, 'Unzipped size must be smaller than 262144000 bytes');
  });
  const cases: [string, number, number, boolean][] = [
    ['room to spare', 0, 1000, true],
    ['filling the storage exactly', CODE_LIMITS.totalCodeSize - 10, 10, true],
    ['one byte over', CODE_LIMITS.totalCodeSize - 10, 11, false],
    ['already full', CODE_LIMITS.totalCodeSize, 1, false],
  ];
  for (const [name, total, adding, accepted] of cases) {
    it(`checkCodeStorage: ${name}`, () => {
      if (accepted) return checkCodeStorage(total, adding);
      const error = refusal(() => checkCodeStorage(total, adding));
      assert.equal(error.code, 'LimitExceeded');
      assert.equal(error.details.lambdaError, 'CodeStorageExceededException');
      assert.equal(error.message, 'Code storage limit exceeded.');
    });
  }
  it('takes a smaller limit for a small machine', () => {
    assert.equal(refusal(() => checkCodeStorage(900, 200, 1000)).code, 'LimitExceeded');
  });
});
