import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomNormal, seededRandom } from '../../core/random.ts';
import { builtInRule } from '../../domain/debugger/built-in-rules.ts';
import { readRuleParameters, type RuleFinding } from '../../domain/debugger/rule.ts';
import type { TraceStep, TrainingTrace } from '../../domain/debugger/trace.ts';
import type { HeadHyperParameters } from '../../domain/training/training-job.ts';
import type { HeadWeights } from '../../domain/training/head-weights.ts';
import { trainHead, type LabelledFeatures } from './head-trainer.ts';

/** As a job with PoorWeightInitialization asks: its first ten steps, rounded up to whole runs of 16. */
const SAVED_FROM_THE_START = 16;

const FEATURES = 8;
const CLASSES = 3;

/** Gaussian blobs, one per class, `spread` apart from noise; `perClass` samples of each class. */
function blobs(perClass: readonly number[], seed: number, noise = 0.7): LabelledFeatures {
  const random = seededRandom(seed);
  const labels = perClass.flatMap((count, label) => new Array<number>(count).fill(label));
  const features = new Float32Array(labels.length * FEATURES);
  labels.forEach((label, i) => {
    for (let f = 0; f < FEATURES; f++) features[i * FEATURES + f] = (f % CLASSES === label ? 4 : 0) + randomNormal(random) * noise;
  });
  return { features, labels: Int32Array.from(labels) };
}

const HEALTHY: HeadHyperParameters = { learning_rate: 0.01, batch_size: 16, epochs: 4, hidden_units: 16, seed: 1 };

/** Trains with the debugger's hook on, and returns the trace as the control plane assembles it. */
async function tracedRun(train: LabelledFeatures, validation: LabelledFeatures, hyperParameters: HeadHyperParameters, saveInterval = 5): Promise<TrainingTrace & { weights: HeadWeights }> {
  const steps: TraceStep[] = [];
  const result = await trainHead({ train, validation, featureSize: FEATURES, classCount: CLASSES, hyperParameters, debug: { saveInterval, saveFirstSteps: 10, onStep: (step) => void steps.push(step) } });
  const samples = Array.from({ length: CLASSES }, (_, label) => Array.from(train.labels).filter((l) => l === label).length);
  return {
    steps,
    epochs: result.epochs.map((e) => ({ epoch: e.epoch, step: steps.filter((s) => s.epoch <= e.epoch).length - 1, trainLoss: e.trainLoss, validationLoss: e.validationLoss, trainAccuracy: e.trainAccuracy, validationAccuracy: e.validationAccuracy })),
    system: [],
    classes: { labels: ['a', 'b', 'c'], samples },
    weights: result.weights,
  };
}

const check = (rule: string, trace: TrainingTrace, parameters: Record<string, string> = {}): RuleFinding => {
  const found = builtInRule(rule, 'debug');
  return found.evaluate(trace, readRuleParameters(found, parameters), { ended: true });
};

describe('the built-in trainer under the debugger', () => {
  it('records every step’s loss, and the tensors and ReLU activity at every saved step, without changing the training', async () => {
    const train = blobs([100, 100, 100], 1);
    const validation = blobs([30, 30, 30], 2);
    const trace = await tracedRun(train, validation, HEALTHY);
    const plain = await trainHead({ train, validation, featureSize: FEATURES, classCount: CLASSES, hyperParameters: HEALTHY });
    const stepsPerEpoch = Math.ceil(300 / HEALTHY.batch_size);
    assert.deepEqual(trace.steps.map((s) => s.step), Array.from({ length: stepsPerEpoch * HEALTHY.epochs }, (_, i) => i));
    const saved = trace.steps.filter((s) => s.tensors.length > 0).map((s) => s.step);
    assert.deepEqual(saved.filter((s) => s < SAVED_FROM_THE_START), Array.from({ length: SAVED_FROM_THE_START }, (_, i) => i), 'each of the first steps');
    const later = saved.filter((s) => s >= SAVED_FROM_THE_START);
    assert.equal(new Set(later.map((s) => Math.floor(s / 5))).size, later.length, 'then at most one step in each window of saveInterval');
    for (let i = 1; i < later.length; i++) assert.ok(later[i]! - later[i - 1]! <= 5 + 16, `saved steps ${later[i - 1]} and ${later[i]} are at most an interval and a run apart`);
    const first = trace.steps[0]!;
    assert.deepEqual(first.tensors.map((t) => t.name), ['w1', 'b1', 'w2', 'b2']);
    for (const tensor of first.tensors) {
      assert.ok(tensor.norm > 0 && tensor.gradientNorm > 0 && tensor.gradientMeanAbs > 0, JSON.stringify(tensor));
      assert.equal(tensor.nanCount + tensor.infiniteCount, 0);
      assert.equal(tensor.histogram?.counts.reduce((a, b) => a + b, 0), { w1: 16 * 8, b1: 16, w2: 3 * 16, b2: 3 }[tensor.name]);
    }
    assert.deepEqual(
      saved.filter((step) => trace.steps[step]!.tensors[0]!.histogram !== undefined),
      saved.filter((step) => step === 0 || (step >= SAVED_FROM_THE_START && Math.floor(step / 5) % 10 === 0)),
      'histograms at the first step and in every tenth window',
    );
    for (const step of trace.steps.slice(1)) {
      assert.ok(step.computeMs < 50, `step ${step.step} took ${step.computeMs} ms: building a session is not a step's time`);
    }
    assert.equal(first.relus[0]!.activePercent.length, 16);
    assert.ok(first.relus[0]!.activePercent.every((p) => p >= 0 && p <= 100));
    // The epochs' mean loss is the mean of its steps' losses (equal batches but the last).
    assert.ok(Math.abs(trace.steps[0]!.loss - Math.log(CLASSES)) < 1, `the first loss ${trace.steps[0]!.loss} is near ln 3 for an untrained head`);
    assert.deepEqual(trace.weights, plain.weights, 'the hook changes nothing the training computes');
  });

  it('saves every second of the first steps when PoorWeightInitialization needs no more, still changing nothing', async () => {
    const train = blobs([100, 100, 100], 1);
    const validation = blobs([30, 30, 30], 2);
    const steps: TraceStep[] = [];
    const result = await trainHead({ train, validation, featureSize: FEATURES, classCount: CLASSES, hyperParameters: HEALTHY, debug: { saveInterval: 50, saveFirstSteps: 10, saveFirstEvery: 2, onStep: (step) => void steps.push(step) } });
    assert.deepEqual(steps.filter((s) => s.tensors.length > 0 && s.step < SAVED_FROM_THE_START).map((s) => s.step), [0, 2, 4, 6, 8, 10, 12, 14]);
    const plain = await trainHead({ train, validation, featureSize: FEATURES, classCount: CLASSES, hyperParameters: HEALTHY });
    assert.deepEqual(result.weights, plain.weights);
    assert.equal(check('PoorWeightInitialization', { steps, epochs: [], system: [] }).status, 'NoIssuesFound', 'five of the first ten steps are enough for its default patience');
  });

  it('records each step’s loss and timing without any tensor when only the profiler asks', async () => {
    const steps: TraceStep[] = [];
    await trainHead({ train: blobs([50, 50, 50], 1), validation: blobs([10, 10, 10], 2), featureSize: FEATURES, classCount: CLASSES, hyperParameters: HEALTHY, debug: { onStep: (step) => void steps.push(step) } });
    assert.equal(steps.length, Math.ceil(150 / HEALTHY.batch_size) * HEALTHY.epochs);
    assert.ok(steps.every((s) => s.tensors.length === 0 && s.relus.length === 0 && Number.isFinite(s.loss) && s.computeMs >= 0));
  });

  it('keeps every training rule quiet on a healthy run', async () => {
    const trace = await tracedRun(blobs([100, 100, 100], 1), blobs([30, 30, 30], 2), HEALTHY);
    for (const rule of ['VanishingGradient', 'ExplodingTensor', 'PoorWeightInitialization', 'LossNotDecreasing', 'Overfit', 'Overtraining', 'DeadRelu', 'ClassImbalance']) {
      const finding = check(rule, trace);
      assert.equal(finding.status, 'NoIssuesFound', `${rule}: ${finding.details}`);
    }
  });

  it('a huge learning rate explodes: ExplodingTensor fires', async () => {
    const trace = await tracedRun(blobs([100, 100, 100], 1), blobs([30, 30, 30], 2), { ...HEALTHY, learning_rate: 1e30 });
    const finding = check('ExplodingTensor', trace);
    assert.equal(finding.status, 'IssuesFound', finding.details);
  });

  it('a tiny training set overfits: Overfit fires', async () => {
    const trace = await tracedRun(blobs([2, 2, 2], 3, 3), blobs([30, 30, 30], 4, 3), { ...HEALTHY, epochs: 40, batch_size: 6, learning_rate: 0.05, hidden_units: 64 });
    const finding = check('Overfit', trace);
    assert.equal(finding.status, 'IssuesFound', finding.details);
  });

  it('a skewed dataset is imbalanced: ClassImbalance fires on the counts of its labels', async () => {
    const trace = await tracedRun(blobs([200, 30, 6], 5), blobs([30, 30, 30], 6), HEALTHY);
    const finding = check('ClassImbalance', trace);
    assert.equal(finding.status, 'IssuesFound', finding.details);
    assert.match(finding.details, /a has 200 training images and c 6/);
  });
});
