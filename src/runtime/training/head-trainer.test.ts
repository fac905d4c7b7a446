import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { randomNormal, seededRandom } from '../../core/random.ts';
import { initHeadWeights } from '../../domain/training/head-weights.ts';
import type { EpochMetrics, HeadHyperParameters } from '../../domain/training/training-job.ts';
import { buildHeadInferenceModel, HEAD_INPUT_NAME, HEAD_OUTPUT_NAME } from '../onnx/head-model.ts';
import { evaluateHead, trainHead, type LabelledFeatures, type TrainerCheckpoint } from './head-trainer.ts';

const FEATURES = 8;
const CLASSES = 3;

/** Three well-separated Gaussian blobs: a head that learns anything gets every sample right. */
function blobs(count: number, seed: number): LabelledFeatures {
  const random = seededRandom(seed);
  const centres = Array.from({ length: CLASSES }, (_, c) => Array.from({ length: FEATURES }, (_, f) => (f % CLASSES === c ? 4 : 0)));
  const features = new Float32Array(count * FEATURES);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % CLASSES;
    labels[i] = label;
    for (let f = 0; f < FEATURES; f++) features[i * FEATURES + f] = centres[label][f] + randomNormal(random) * 0.7;
  }
  return { features, labels };
}

const hyperParameters: HeadHyperParameters = { learning_rate: 0.01, batch_size: 16, epochs: 8, hidden_units: 16, seed: 1 };

describe('trainHead', () => {
  it('runs every epoch, lowers the loss and separates three blobs', async () => {
    const seen: EpochMetrics[] = [];
    const result = await trainHead({
      train: blobs(302, 1),
      validation: blobs(90, 2),
      featureSize: FEATURES,
      classCount: CLASSES,
      hyperParameters,
      onEpoch: (metrics) => {
        seen.push(metrics);
      },
    });
    assert.deepEqual(
      result.epochs.map((e) => e.epoch),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.deepEqual(seen, result.epochs);
    const first = result.epochs[0];
    const last = result.epochs.at(-1)!;
    assert.ok(last.trainLoss < first.trainLoss / 4, `train loss ${first.trainLoss} → ${last.trainLoss}`);
    assert.ok(last.validationLoss < 0.05, `validation loss ${last.validationLoss}`);
    assert.equal(last.validationAccuracy, 1);
    assert.ok(last.trainAccuracy > 0.99);
    assert.ok(result.epochs.every((e) => e.seconds >= 0));
  });

  it('is deterministic for a seed and different across seeds', async () => {
    const options = { train: blobs(100, 3), validation: blobs(30, 4), featureSize: FEATURES, classCount: CLASSES };
    const a = await trainHead({ ...options, hyperParameters: { ...hyperParameters, epochs: 2 } });
    const b = await trainHead({ ...options, hyperParameters: { ...hyperParameters, epochs: 2 } });
    const c = await trainHead({ ...options, hyperParameters: { ...hyperParameters, epochs: 2, seed: 2 } });
    assert.deepEqual(a.weights, b.weights);
    assert.notDeepEqual(a.weights.w1, c.weights.w1);
  });

  it('resumed from a checkpoint, ends exactly where an uninterrupted run does', async () => {
    const options = { train: blobs(101, 5), validation: blobs(30, 6), featureSize: FEATURES, classCount: CLASSES, hyperParameters: { ...hyperParameters, epochs: 5 } };
    const straight = await trainHead(options);
    let saved: TrainerCheckpoint | undefined;
    await trainHead({
      ...options,
      onEpoch: (metrics, checkpoint) => {
        if (metrics.epoch === 2) saved = checkpoint();
      },
      shouldStop: () => saved !== undefined,
    });
    assert.equal(saved!.epoch, 2);
    const resumed = await trainHead({ ...options, resumeFrom: saved });
    assert.deepEqual(resumed.weights, straight.weights);
    assert.deepEqual(resumed.epochs.map((e) => e.epoch), [1, 2, 3, 4, 5]);
    const strip = (epochs: EpochMetrics[]) => epochs.map(({ seconds: _seconds, ...rest }) => rest);
    assert.deepEqual(strip(resumed.epochs), strip(straight.epochs));
    await assert.rejects(
      trainHead({ ...options, hyperParameters: { ...options.hyperParameters, hidden_units: 8 }, resumeFrom: saved }),
      /does not fit this head/,
    );
  });

  it('trains the same whether steps are unrolled or run one at a time, last partial batch included', async () => {
    // 30 samples in batches of 4: seven full batches and one of 2; with 4 steps per run that is
    // runs of 4, 3 and 1 steps.
    const options = {
      train: blobs(30, 5),
      validation: blobs(9, 6),
      featureSize: FEATURES,
      classCount: CLASSES,
      hyperParameters: { ...hyperParameters, batch_size: 4, epochs: 2 },
    };
    const unrolled = await trainHead({ ...options, stepsPerRun: 4 });
    const single = await trainHead({ ...options, stepsPerRun: 1 });
    for (const name of ['w1', 'b1', 'w2', 'b2'] as const) {
      unrolled.weights[name].forEach((value, i) => assert.ok(Math.abs(value - single.weights[name][i]) < 1e-6, `${name}[${i}]`));
    }
    unrolled.epochs.forEach((epoch, i) => {
      assert.ok(Math.abs(epoch.trainLoss - single.epochs[i].trainLoss) < 1e-6);
      assert.equal(epoch.trainAccuracy, single.epochs[i].trainAccuracy);
    });
    // Accuracy over 30 samples is a multiple of 1/30, which a mean over batches would not be.
    for (const epoch of unrolled.epochs) assert.ok(Math.abs(epoch.trainAccuracy * 30 - Math.round(epoch.trainAccuracy * 30)) < 1e-9);
  });

  it('stops before the next epoch once asked to', async () => {
    let epochsSeen = 0;
    const result = await trainHead({
      train: blobs(60, 7),
      validation: blobs(9, 8),
      featureSize: FEATURES,
      classCount: CLASSES,
      hyperParameters: { ...hyperParameters, epochs: 10 },
      onEpoch: () => {
        epochsSeen++;
      },
      shouldStop: () => epochsSeen >= 3,
    });
    assert.equal(result.epochs.length, 3);
  });

  it('refuses labels outside the class range and features of the wrong size', async () => {
    const base = { validation: blobs(9, 9), featureSize: FEATURES, classCount: CLASSES, hyperParameters };
    const train = blobs(12, 10);
    await assert.rejects(trainHead({ ...base, train: { features: train.features, labels: Int32Array.from(train.labels, (l) => (l === 2 ? 3 : l)) } }), {
      code: 'ValidationError',
      message: /label 3 at sample 2; labels must be integers from 0 to 2/,
    });
    await assert.rejects(trainHead({ ...base, train: { features: train.features.subarray(1), labels: train.labels } }), {
      code: 'ValidationError',
      message: /12 labels but 95 feature values/,
    });
  });
});

describe('evaluateHead', () => {
  it('gives the mean cross-entropy and accuracy of the deployable model’s probabilities, in chunks', async () => {
    const weights = initHeadWeights({ featureSize: FEATURES, hiddenUnits: 5, classCount: CLASSES }, seededRandom(11));
    // More rows than one evaluation run takes, so the sums of two chunks are combined.
    const count = 4101;
    const data = blobs(count, 12);
    const session = await ort.InferenceSession.create(buildHeadInferenceModel(weights));
    const out = await session.run({ [HEAD_INPUT_NAME]: new ort.Tensor('float32', data.features, [count, FEATURES]) });
    await session.release();
    const probabilities = out[HEAD_OUTPUT_NAME].data as Float32Array;
    let lossSum = 0;
    let correct = 0;
    for (let i = 0; i < count; i++) {
      const row = Array.from(probabilities.subarray(i * CLASSES, (i + 1) * CLASSES));
      lossSum -= Math.log(row[data.labels[i]]);
      if (row.indexOf(Math.max(...row)) === data.labels[i]) correct++;
    }
    const metrics = await evaluateHead(weights, data);
    assert.ok(Math.abs(metrics.loss - lossSum / count) < 1e-5, `${metrics.loss} vs ${lossSum / count}`);
    assert.equal(metrics.accuracy, correct / count);
  });
});
