import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HYPERPARAMETERS, parseHyperParameters } from './hyperparameters.ts';

describe('parseHyperParameters', () => {
  it('fills in defaults', () => {
    assert.deepEqual(parseHyperParameters({}).head, { learning_rate: 0.001, batch_size: 64, epochs: 10, hidden_units: 128, seed: 0 });
    assert.deepEqual(parseHyperParameters({}), { head: DEFAULT_HYPERPARAMETERS, backbone: {} });
  });

  it('reads numbers and SageMaker-style strings', () => {
    assert.deepEqual(
      parseHyperParameters({ learning_rate: '0.01', batch_size: '"128"', epochs: 3, hidden_units: ' 256 ', seed: '1e2' }).head,
      { learning_rate: 0.01, batch_size: 128, epochs: 3, hidden_units: 256, seed: 100 },
    );
    assert.equal(parseHyperParameters({ learning_rate: '1e-3' }).head.learning_rate, 0.001);
    assert.equal(parseHyperParameters({ learning_rate: '.5' }).head.learning_rate, 0.5);
  });

  it("ignores SageMaker's own entries", () => {
    assert.deepEqual(parseHyperParameters({ sagemaker_program: 'train.py', _tuning_objective_metric: 'validation:loss' }).head, DEFAULT_HYPERPARAMETERS);
  });

  it('reads the backbone settings', () => {
    assert.deepEqual(
      parseHyperParameters({
        backbone_input_name: 'pixels',
        backbone_output_name: '"features"',
        backbone_feature_size: '2048',
        resize_size: 256,
        crop_size: '224',
        normalize_mean: '0.485,0.456, 0.406',
        normalize_std: '[0.229,0.224,0.225]',
        input_layout: 'NHWC',
      }).backbone,
      {
        inputName: 'pixels',
        outputName: 'features',
        featureSize: 2048,
        preprocessing: { resizeSize: 256, cropSize: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NHWC' },
      },
    );
  });

  const refused: [string, Record<string, string | number>, RegExp][] = [
    ['zero learning rate', { learning_rate: 0 }, /learning_rate must be a number greater than 0 and at most 1, got 0/],
    ['negative learning rate', { learning_rate: '-0.1' }, /learning_rate must be a number greater than 0 and at most 1, got "-0.1"/],
    ['learning rate above 1', { learning_rate: 2 }, /learning_rate must be/],
    ['learning rate that is not a number', { learning_rate: 'fast' }, /learning_rate must be .*got "fast"/],
    ['empty learning rate', { learning_rate: '' }, /learning_rate must be/],
    ['hexadecimal', { batch_size: '0x40' }, /batch_size must be an integer from 1 to 65536, got "0x40"/],
    ['fractional batch size', { batch_size: '64.5' }, /batch_size must be an integer from 1 to 65536/],
    ['zero batch size', { batch_size: 0 }, /batch_size must be an integer from 1 to 65536, got 0/],
    ['zero epochs', { epochs: '0' }, /epochs must be an integer from 1 to 10000, got "0"/],
    ['infinite epochs', { epochs: Infinity }, /epochs must be an integer from 1 to 10000/],
    ['NaN hidden units', { hidden_units: Number.NaN }, /hidden_units must be an integer from 1 to 16384/],
    ['too many hidden units', { hidden_units: 20000 }, /hidden_units must be an integer from 1 to 16384, got 20000/],
    ['negative seed', { seed: -1 }, /seed must be an integer from 0 to 4294967295, got -1/],
    ['seed over 32 bits', { seed: 2 ** 32 }, /seed must be an integer from 0 to 4294967295/],
    ['unknown name', { 'learning-rate': '0.1' }, /Unknown hyperparameter "learning-rate"; the image-classifier accepts learning_rate, batch_size, epochs, hidden_units, seed, backbone_input_name, /],
    ['a mean of two numbers', { normalize_mean: '0.5,0.5' }, /normalize_mean must be three numbers/],
    ['a zero standard deviation', { normalize_std: '0.2,0,0.2' }, /normalize_std must be three positive numbers/],
    ['an unknown layout', { input_layout: 'CHW' }, /input_layout must be NCHW or NHWC/],
    ['a crop of zero', { crop_size: '0' }, /crop_size must be an integer from 1 to 4096/],
    ['an empty input name', { backbone_input_name: '""' }, /backbone_input_name must not be empty/],
  ];
  for (const [what, input, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseHyperParameters(input), (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'ValidationError');
        assert.match((error as Error).message, message);
        assert.equal((error as { details: { field: string } }).details.field, Object.keys(input)[0]);
        return true;
      });
    });
  }
});
