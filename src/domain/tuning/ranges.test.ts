import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { seededRandom } from '../../core/random.ts';
import {
  combinationCount,
  formatValues,
  gridSize,
  parseValues,
  resolveScaling,
  validateSearchSpace,
  type NumericRange,
  type TuningStrategy,
} from './ranges.ts';
import type { ParameterRange, SearchSpace } from './search-space.ts';

const lr: ParameterRange = { kind: 'Continuous', name: 'learning_rate', min: 0.001, max: 0.1, scaling: 'Logarithmic' };
const batch: ParameterRange = { kind: 'Categorical', name: 'batch_size', values: ['32', '64', '128', '256', '512'] };
const units: ParameterRange = { kind: 'Integer', name: 'units', min: 16, max: 256, scaling: 'Auto' };
const values = (count: number) => Array.from({ length: count }, (_, i) => `v${i}`);

function refusal(space: SearchSpace, strategy: TuningStrategy = 'Bayesian'): DomainError {
  try {
    validateSearchSpace(space, strategy);
  } catch (error) {
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, 'ValidationError');
    return error;
  }
  assert.fail('the search space was accepted');
}

describe('validateSearchSpace', () => {
  const refused: [string, SearchSpace, TuningStrategy, string, RegExp][] = [
    ['no ranges at all', [], 'Random', 'HyperParameterTuningJobConfig.ParameterRanges', /at least one/],
    [
      'min greater than max',
      [{ kind: 'Continuous', name: 'lr', min: 0.1, max: 0.001, scaling: 'Linear' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].MinValue',
      /"lr".*MinValue 0\.1 is greater than MaxValue 0\.001; swap them/,
    ],
    [
      'an integer min greater than max',
      [lr, { kind: 'Integer', name: 'epochs', min: 10, max: 1, scaling: 'Linear' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0].MinValue',
      /"epochs"/,
    ],
    [
      'Logarithmic scaling from 0',
      [{ kind: 'Continuous', name: 'lr', min: 0, max: 0.1, scaling: 'Logarithmic' }],
      'Bayesian',
      'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].ScalingType',
      /"lr".*Logarithmic scaling needs MinValue greater than 0, got 0; raise MinValue or use Linear/,
    ],
    [
      'Logarithmic scaling from a negative integer',
      [{ kind: 'Integer', name: 'shift', min: -4, max: 100, scaling: 'Logarithmic' }],
      'Bayesian',
      'HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0].ScalingType',
      /"shift".*greater than 0/,
    ],
    [
      'ReverseLogarithmic reaching 1',
      [{ kind: 'Continuous', name: 'momentum', min: 0.5, max: 1, scaling: 'ReverseLogarithmic' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].ScalingType',
      /"momentum".*0 <= x < 1/,
    ],
    [
      'ReverseLogarithmic below 0',
      [{ kind: 'Continuous', name: 'momentum', min: -0.1, max: 0.9, scaling: 'ReverseLogarithmic' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].ScalingType',
      /"momentum"/,
    ],
    [
      'ReverseLogarithmic on an integer range',
      [{ kind: 'Integer', name: 'layers', min: 0, max: 0, scaling: 'ReverseLogarithmic' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0].ScalingType',
      /"layers".*continuous ranges only/,
    ],
    [
      'an integer range with a fractional bound',
      [{ kind: 'Integer', name: 'units', min: 1.5, max: 8, scaling: 'Linear' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0].MinValue',
      /"units".*MinValue must be an integer, got 1\.5/,
    ],
    [
      'a bound that is not a number',
      [{ kind: 'Continuous', name: 'lr', min: 0, max: NaN, scaling: 'Linear' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].MaxValue',
      /"lr".*finite number/,
    ],
    [
      'an empty categorical',
      [lr, { kind: 'Categorical', name: 'optimizer', values: [] }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges[0].Values',
      /"optimizer" has no values; list 1 to 30/,
    ],
    [
      'a categorical value listed twice',
      [{ kind: 'Categorical', name: 'batch_size', values: ['32', '64', '32'] }],
      'Grid',
      'HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges[0].Values',
      /"batch_size" lists "32" twice/,
    ],
    [
      'more than 30 categorical values',
      [{ kind: 'Categorical', name: 'seed', values: values(31) }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges[0].Values',
      /"seed" has 31 values; SageMaker allows at most 30/,
    ],
    [
      'one name in two kinds of range',
      [lr, batch, { kind: 'Integer', name: 'learning_rate', min: 1, max: 3, scaling: 'Linear' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0].Name',
      /"learning_rate" has two ranges \(HyperParameterTuningJobConfig\.ParameterRanges\.ContinuousParameterRanges\[0\] and .*IntegerParameterRanges\[0\]\)/,
    ],
    [
      'one name twice in the same kind',
      [batch, { kind: 'Categorical', name: 'batch_size', values: ['1'] }],
      'Grid',
      'HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges[1].Name',
      /"batch_size" has two ranges/,
    ],
    [
      'an empty name',
      [{ kind: 'Continuous', name: '', min: 0, max: 1, scaling: 'Linear' }],
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0].Name',
      /1 to 256 characters/,
    ],
    [
      'more than 30 ranges',
      Array.from({ length: 31 }, (_, i) => ({ kind: 'Continuous' as const, name: `x${i}`, min: 0, max: 1, scaling: 'Linear' as const })),
      'Random',
      'HyperParameterTuningJobConfig.ParameterRanges',
      /31 ranges; SageMaker tunes at most 30/,
    ],
    [
      'Grid with a continuous range',
      [batch, lr],
      'Grid',
      'HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges[0]',
      /Grid strategy searches only categorical ranges, but "learning_rate" is a Continuous range/,
    ],
    [
      'Grid with an integer range',
      [units],
      'Grid',
      'HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0]',
      /"units" is an Integer range/,
    ],
    [
      'Grid over more than 750 combinations',
      [
        { kind: 'Categorical', name: 'a', values: values(30) },
        { kind: 'Categorical', name: 'b', values: values(26) },
      ],
      'Grid',
      'HyperParameterTuningJobConfig.ParameterRanges',
      /780 training jobs.*limit of 750/,
    ],
  ];
  for (const [what, space, strategy, field, message] of refused) {
    it(`refuses ${what}`, () => {
      const error = refusal(space, strategy);
      assert.equal(error.details.field, field);
      assert.match(error.message, message);
    });
  }

  it('names the parameter in the details of a range error', () => {
    assert.equal(refusal([{ kind: 'Continuous', name: 'lr', min: 2, max: 1, scaling: 'Linear' }]).details.parameter, 'lr');
  });

  const accepted: [string, SearchSpace, TuningStrategy][] = [
    ['the reference workload', [lr, batch], 'Bayesian'],
    ['a constant range (min equal to max)', [{ kind: 'Continuous', name: 'dropout', min: 0.5, max: 0.5, scaling: 'Linear' }], 'Random'],
    ['a constant integer range', [{ kind: 'Integer', name: 'epochs', min: 10, max: 10, scaling: 'Auto' }], 'Hyperband'],
    ['ReverseLogarithmic from 0 to just below 1', [{ kind: 'Continuous', name: 'momentum', min: 0, max: 0.999, scaling: 'ReverseLogarithmic' }], 'Random'],
    ['Auto on a range through zero', [{ kind: 'Continuous', name: 'bias', min: -1, max: 1, scaling: 'Auto' }], 'Bayesian'],
    ['Grid over categorical ranges only', [batch, { kind: 'Categorical', name: 'optimizer', values: ['adam', 'sgd'] }], 'Grid'],
    ['Grid over exactly 750 combinations', [{ kind: 'Categorical', name: 'a', values: values(30) }, { kind: 'Categorical', name: 'b', values: values(25) }], 'Grid'],
    ['30 ranges', Array.from({ length: 30 }, (_, i) => ({ kind: 'Integer' as const, name: `n${i}`, min: 0, max: 9, scaling: 'Linear' as const })), 'Random'],
    ['30 categorical values', [{ kind: 'Categorical', name: 'seed', values: values(30) }], 'Random'],
  ];
  for (const [what, space, strategy] of accepted) {
    it(`accepts ${what}`, () => assert.doesNotThrow(() => validateSearchSpace(space, strategy)));
  }
});

describe('resolveScaling', () => {
  const cases: [string, NumericRange, string][] = [
    ['Auto over two orders of magnitude is Logarithmic', { kind: 'Continuous', name: 'lr', min: 0.001, max: 0.1, scaling: 'Auto' }, 'Logarithmic'],
    ['Auto just under two orders of magnitude is Linear', { kind: 'Continuous', name: 'lr', min: 0.001, max: 0.0999, scaling: 'Auto' }, 'Linear'],
    ['Auto on an integer range over 100x is Logarithmic', { kind: 'Integer', name: 'batch', min: 16, max: 2048, scaling: 'Auto' }, 'Logarithmic'],
    ['Auto on a narrow integer range is Linear', { kind: 'Integer', name: 'layers', min: 1, max: 8, scaling: 'Auto' }, 'Linear'],
    ['Auto from 0 is Linear', { kind: 'Continuous', name: 'dropout', min: 0, max: 1000, scaling: 'Auto' }, 'Linear'],
    ['Auto through negatives is Linear', { kind: 'Continuous', name: 'bias', min: -100, max: -0.001, scaling: 'Auto' }, 'Linear'],
    ['an explicit Linear stays', { kind: 'Continuous', name: 'lr', min: 0.001, max: 1, scaling: 'Linear' }, 'Linear'],
    ['an explicit ReverseLogarithmic stays', { kind: 'Continuous', name: 'm', min: 0, max: 0.9, scaling: 'ReverseLogarithmic' }, 'ReverseLogarithmic'],
  ];
  for (const [what, range, expected] of cases) it(what, () => assert.equal(resolveScaling(range), expected));
});

describe('gridSize and combinationCount', () => {
  it('a grid is the product of the categorical sizes', () => {
    assert.equal(gridSize([batch]), 5);
    assert.equal(gridSize([batch, { kind: 'Categorical', name: 'opt', values: ['adam', 'sgd', 'rmsprop'] }]), 15);
  });

  it('counts integer values and calls a continuous range endless', () => {
    assert.equal(combinationCount([batch, { kind: 'Integer', name: 'layers', min: 2, max: 4, scaling: 'Linear' }]), 15);
    assert.equal(combinationCount([batch, lr]), Infinity);
    assert.equal(combinationCount([{ kind: 'Continuous', name: 'c', min: 1, max: 1, scaling: 'Linear' }]), 1);
  });
});

describe('formatValues and parseValues', () => {
  const space: SearchSpace = [lr, units, batch];

  it('writes integers without decimals and categories as they are', () => {
    assert.deepEqual(formatValues({ learning_rate: 0.01, units: 64, batch_size: '128' }, space), {
      learning_rate: '0.01',
      units: '64',
      batch_size: '128',
    });
  });

  it('writes continuous values so they read back as the same double', () => {
    const random = seededRandom(7);
    const wide: SearchSpace = [{ kind: 'Continuous', name: 'x', min: -1e6, max: 1e6, scaling: 'Linear' }];
    for (const x of [0.1 + 0.2, 1e-7, 1 / 3, 123456.789, -0.000123, ...Array.from({ length: 200 }, () => (random.next() - 0.5) * 2e6)]) {
      const text = formatValues({ x }, wide).x;
      assert.equal(Number(text), x, text);
      assert.deepEqual(parseValues({ x: text }, wide), { x });
    }
  });

  it('reads values back, with JSON quotes as the SageMaker Python SDK writes them, and ignores static hyperparameters', () => {
    assert.deepEqual(parseValues({ learning_rate: '1e-3', units: '"32"', batch_size: '"64"', epochs: '10' }, space), {
      learning_rate: 0.001,
      units: 32,
      batch_size: '64',
    });
  });

  const unreadable: [string, Record<string, string>, string, RegExp][] = [
    ['a missing value', { learning_rate: '0.01', units: '32' }, 'batch_size', /"batch_size" is missing/],
    ['a fractional integer', { learning_rate: '0.01', units: '32.5', batch_size: '64' }, 'units', /"units" must be an integer, got "32\.5"/],
    ['a value that is no number', { learning_rate: 'fast', units: '32', batch_size: '64' }, 'learning_rate', /must be a decimal number/],
    ['a value outside its range', { learning_rate: '0.5', units: '32', batch_size: '64' }, 'learning_rate', /0\.5, outside its range 0\.001 to 0\.1/],
    ['an unknown category', { learning_rate: '0.01', units: '32', batch_size: '48' }, 'batch_size', /must be one of 32, 64, 128, 256, 512/],
  ];
  for (const [what, hyperparameters, field, message] of unreadable) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => parseValues(hyperparameters, space),
        (error: unknown) => error instanceof DomainError && error.code === 'ValidationError' && error.details.field === field && message.test(error.message),
      );
    });
  }

  it('refuses to format a proposal that does not fit the space', () => {
    assert.throws(() => formatValues({ learning_rate: 0.01, units: 2.5, batch_size: '64' }, space), /"units" must be an integer/);
    assert.throws(() => formatValues({ learning_rate: 0.01, units: 32, batch_size: '48' }, space), /"batch_size" must be one of/);
    assert.throws(() => formatValues({ units: 32, batch_size: '64' }, space), /"learning_rate" must be a finite number/);
  });
});
