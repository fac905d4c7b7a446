import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { inferenceScriptSettings, resolveServingImage } from './model-serving.ts';
import { asProbabilities } from './predictions.ts';

describe('resolveServingImage', () => {
  it('reads any registry and tag, as SageMaker image URIs come', () => {
    const cases: [string, ReturnType<typeof resolveServingImage>][] = [
      ['kennel/onnx-classifier:latest', { kind: 'onnx' }],
      ['kennel/image-classifier:1', { kind: 'onnx' }],
      ['763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:1.13.1-cpu-py39', { kind: 'script', interpreter: 'python' }],
      ['pytorch-inference', { kind: 'script', interpreter: 'python' }],
      ['683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3', { kind: 'script', interpreter: 'python' }],
      ['kennel/node:20', { kind: 'script', interpreter: 'node' }],
      ['localhost:5000/kennel/python@sha256:abc', { kind: 'script', interpreter: 'python' }],
    ];
    for (const [image, expected] of cases) assert.deepEqual(resolveServingImage(image, 'Image'), expected, image);
  });

  it('refuses a training image or an unknown one, listing what it serves', () => {
    for (const image of ['pytorch-training:1.13', 'tensorflow-serving:2', '']) {
      assert.throws(() => resolveServingImage(image, 'PrimaryContainer.Image'), (error: unknown) => isDomainError(error) && /is not an inference image Kennel can run.*pytorch-inference/.test(error.message));
    }
  });
});

describe('inferenceScriptSettings', () => {
  it("has the toolkit's defaults: inference.py (inference.mjs on Node.js) in the archive's code/, 60 s", () => {
    assert.deepEqual(inferenceScriptSettings({}, 'python'), { program: 'inference.py', timeoutMs: 60_000 });
    assert.deepEqual(inferenceScriptSettings({}, 'node'), { program: 'inference.mjs', timeoutMs: 60_000 });
    assert.deepEqual(inferenceScriptSettings({ SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code/' }, 'python'), { program: 'inference.py', timeoutMs: 60_000 });
  });

  it('reads SAGEMAKER_PROGRAM (a module name gets its extension), SAGEMAKER_SUBMIT_DIRECTORY and the timeout', () => {
    assert.deepEqual(
      inferenceScriptSettings({ SAGEMAKER_PROGRAM: 'serve/handler', SAGEMAKER_SUBMIT_DIRECTORY: 's3://bucket/code/sourcedir.tar.gz', SAGEMAKER_MODEL_SERVER_TIMEOUT: '120' }, 'python'),
      { program: 'serve/handler.py', submitDirectory: 's3://bucket/code/sourcedir.tar.gz', timeoutMs: 120_000 },
    );
    assert.equal(inferenceScriptSettings({ SAGEMAKER_PROGRAM: 'handler.cjs' }, 'node').program, 'handler.cjs');
  });

  it('refuses values that cannot work, naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ SAGEMAKER_PROGRAM: '../escape.py' }, /SAGEMAKER_PROGRAM "\.\.\/escape\.py" must name a script inside the code folder/],
      [{ SAGEMAKER_PROGRAM: '/etc/passwd.py' }, /SAGEMAKER_PROGRAM/],
      [{ SAGEMAKER_SUBMIT_DIRECTORY: 'http://example.com/code.tar.gz' }, /SAGEMAKER_SUBMIT_DIRECTORY .* give an s3:\/\/ or file:\/\/ URI/],
      [{ SAGEMAKER_MODEL_SERVER_TIMEOUT: '0' }, /SAGEMAKER_MODEL_SERVER_TIMEOUT must be a whole number of seconds from 1 to 3600/],
      [{ SAGEMAKER_MODEL_SERVER_TIMEOUT: 'soon' }, /SAGEMAKER_MODEL_SERVER_TIMEOUT/],
    ];
    for (const [environment, message] of cases) assert.throws(() => inferenceScriptSettings(environment, 'python'), message);
  });
});

describe('asProbabilities', () => {
  const close = (actual: Float32Array, expected: number[]) => assert.ok(expected.every((value, i) => Math.abs(actual[i] - value) < 1e-6), `${[...actual]} vs ${expected}`);

  it('softmaxes logits, without overflowing on large ones', () => {
    close(asProbabilities(Float32Array.of(0, Math.log(3)), 'logits'), [0.25, 0.75]);
    close(asProbabilities(Float32Array.of(1000, 1000), 'logits'), [0.5, 0.5]);
  });

  it('keeps probabilities, declared or told from the values', () => {
    const p = Float32Array.of(0.2, 0.8);
    assert.equal(asProbabilities(p, 'probabilities'), p);
    assert.equal(asProbabilities(p, undefined), p);
    close(asProbabilities(Float32Array.of(2, -1), undefined), [Math.exp(3) / (Math.exp(3) + 1), 1 / (Math.exp(3) + 1)]);
    // Scores in [0, 1] that do not sum to 1 are logits too.
    close(asProbabilities(Float32Array.of(0.5, 0.5, 0.5, 0.5), undefined), [0.25, 0.25, 0.25, 0.25]);
  });
});
