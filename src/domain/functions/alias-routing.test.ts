import assert from 'node:assert/strict';
import { refusal } from '../../testing/assert-domain-error.ts';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { pickAliasVersion, validateRoutingConfig, type AliasRoutingConfiguration } from './alias-routing.ts';

const versions = { publishedVersions: ['1', '2', '3'], functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:dogs' };

describe('validateRoutingConfig', () => {
  const accepted: [string, string, AliasRoutingConfiguration | undefined, Record<string, number> | undefined][] = [
    ['no routing config', '2', undefined, undefined],
    ['no weights', '2', {}, undefined],
    ['an empty map, which clears the routing', '2', { AdditionalVersionWeights: {} }, undefined],
    ['a canary of 10 % to version 3', '2', { AdditionalVersionWeights: { '3': 0.1 } }, { '3': 0.1 }],
    ['weight 0', '2', { AdditionalVersionWeights: { '1': 0 } }, { '1': 0 }],
    ['weight 1', '2', { AdditionalVersionWeights: { '1': 1 } }, { '1': 1 }],
  ];
  for (const [name, primary, config, expected] of accepted) {
    it(`accepts ${name}`, () => assert.deepEqual(validateRoutingConfig(primary, config, versions), expected));
  }

  const refused: [string, string, AliasRoutingConfiguration, DomainError['code'], string, RegExp][] = [
    ['two additional versions', '1', { AdditionalVersionWeights: { '2': 0.1, '3': 0.1 } }, 'ValidationError', 'InvalidParameterValueException', /^Number of items in AdditionalVersionWeights cannot be greater than 1$/],
    ['a weight over 1', '1', { AdditionalVersionWeights: { '2': 1.5 } }, 'ValidationError', 'ValidationException', /^1 validation error detected: Value '\{2=1\.5\}' at 'routingConfig\.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: \[Member must have value less than or equal to 1\.0/],
    ['a negative weight', '1', { AdditionalVersionWeights: { '2': -0.1 } }, 'ValidationError', 'ValidationException', /Map value must satisfy constraint/],
    ['an alias as the additional version', '1', { AdditionalVersionWeights: { live: 0.5 } }, 'ValidationError', 'ValidationException', /Value '\{live=0\.5\}' .* Map keys must satisfy constraint: \[.*regular expression pattern: \[0-9\]\+/],
    ['$LATEST as the additional version', '1', { AdditionalVersionWeights: { $LATEST: 0.5 } }, 'ValidationError', 'ValidationException', /Map keys/],
    ['the primary version again', '2', { AdditionalVersionWeights: { '2': 0.5 } }, 'ValidationError', 'InvalidParameterValueException', /^Invalid function version 2\. Function version 2 is already included in routing configuration\.$/],
    ['routing from $LATEST', '$LATEST', { AdditionalVersionWeights: { '2': 0.5 } }, 'ValidationError', 'InvalidParameterValueException', /^\$LATEST is not supported for an alias pointing to more than 1 version$/],
    ['a version not published', '1', { AdditionalVersionWeights: { '9': 0.5 } }, 'NotFound', 'ResourceNotFoundException', /^Function not found: arn:aws:lambda:us-east-1:000000000000:function:dogs:9$/],
  ];
  for (const [name, primary, config, code, lambdaError, message] of refused) {
    it(`refuses ${name}`, () => {
      const error = refusal(() => validateRoutingConfig(primary, config, versions));
      assert.equal(error.code, code);
      assert.equal(error.details.lambdaError, lambdaError);
      assert.match(error.message, message);
    });
  }
});

describe('pickAliasVersion', () => {
  const canary = { functionVersion: '2', additionalVersionWeights: { '3': 0.1 } };
  const cases: [string, Parameters<typeof pickAliasVersion>[0], number, string][] = [
    ['no routing: always the primary', { functionVersion: '2' }, 0, '2'],
    ['below the weight: the additional version', canary, 0, '3'],
    ['just below the weight', canary, 0.0999, '3'],
    ['at the weight: the primary', canary, 0.1, '2'],
    ['above it', canary, 0.99, '2'],
    ['weight 0 never picks it', { functionVersion: '2', additionalVersionWeights: { '3': 0 } }, 0, '2'],
    ['weight 1 always picks it', { functionVersion: '2', additionalVersionWeights: { '3': 1 } }, 0.999, '3'],
  ];
  for (const [name, alias, random, expected] of cases) it(name, () => assert.equal(pickAliasVersion(alias, random), expected));

  it('sends the weight’s share of evenly spread invocations', () => {
    let canaryCount = 0;
    for (let i = 0; i < 1000; i++) if (pickAliasVersion(canary, (i + 0.5) / 1000) === '3') canaryCount++;
    assert.equal(canaryCount, 100);
  });
});
