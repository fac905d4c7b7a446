import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { randomNormal, seededRandom, type Random } from '../../core/random.ts';
import { HEAD_PARAMETER_NAMES, headParameterDims, initHeadWeights, type HeadShape, type HeadWeights } from '../../domain/training/head-weights.ts';
import {
  ADAM_DEFAULTS,
  adamStepScalars,
  buildHeadEvaluationModel,
  buildHeadInferenceModel,
  buildHeadProbeModel,
  buildHeadTrainingStepModel,
  EVALUATION,
  HEAD_INPUT_NAME,
  HEAD_OUTPUT_NAME,
  parameterOf,
  PROBE,
  TRAINING_STATE_NAMES,
  TRAINING_STEP,
  type TrainingStateName,
} from './head-model.ts';

/** Plain-JS float64 reference of the head, its cross-entropy gradients and torch.optim.Adam. */
type Params = Record<(typeof HEAD_PARAMETER_NAMES)[number], Float64Array>;

function forward(shape: HeadShape, p: Params, x: Float64Array, rows: number) {
  const { featureSize: F, hiddenUnits: H, classCount: C } = shape;
  const hidden = new Float64Array(rows * H);
  const logits = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      let sum = p.b1[h];
      for (let f = 0; f < F; f++) sum += x[r * F + f] * p.w1[h * F + f];
      hidden[r * H + h] = Math.max(0, sum);
    }
    for (let c = 0; c < C; c++) {
      let sum = p.b2[c];
      for (let h = 0; h < H; h++) sum += hidden[r * H + h] * p.w2[c * H + h];
      logits[r * C + c] = sum;
    }
  }
  return { hidden, logits };
}

function softmaxRow(logits: Float64Array, r: number, C: number): Float64Array {
  const row = logits.subarray(r * C, (r + 1) * C);
  const max = Math.max(...row);
  const exps = row.map((z) => Math.exp(z - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

interface AdamState {
  params: Params;
  m: Params;
  v: Params;
  t: number;
}

/** One Adam step on the mean cross-entropy of the given rows; returns the batch's loss sum and correct count. */
function referenceStep(shape: HeadShape, state: AdamState, features: Float32Array, labels: number[], rows: number[], lr: number) {
  const { grads, lossSum, correct } = referenceGradients(shape, state.params, features, labels, rows);
  state.t++;
  const { beta1, beta2, epsilon } = ADAM_DEFAULTS;
  for (const name of HEAD_PARAMETER_NAMES) {
    for (let i = 0; i < grads[name].length; i++) {
      const g = grads[name][i];
      state.m[name][i] = beta1 * state.m[name][i] + (1 - beta1) * g;
      state.v[name][i] = beta2 * state.v[name][i] + (1 - beta2) * g * g;
      const mHat = state.m[name][i] / (1 - beta1 ** state.t);
      const vHat = state.v[name][i] / (1 - beta2 ** state.t);
      state.params[name][i] -= (lr * mHat) / (Math.sqrt(vHat) + epsilon);
    }
  }
  return { lossSum, correct };
}

/** The gradient of the batch's mean cross-entropy for each parameter, and the hidden activations. */
function referenceGradients(shape: HeadShape, params: Params, features: Float32Array, labels: number[], rows: number[]) {
  const { featureSize: F, hiddenUnits: H, classCount: C } = shape;
  const B = rows.length;
  const x = new Float64Array(B * F);
  rows.forEach((row, i) => x.set(features.subarray(row * F, (row + 1) * F), i * F));
  const { hidden, logits } = forward(shape, params, x, B);
  const grads: Params = { w1: new Float64Array(H * F), b1: new Float64Array(H), w2: new Float64Array(C * H), b2: new Float64Array(C) };
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < B; r++) {
    const label = labels[rows[r]];
    const probabilities = softmaxRow(logits, r, C);
    lossSum -= Math.log(probabilities[label]);
    const row = logits.subarray(r * C, (r + 1) * C);
    if (row.indexOf(Math.max(...row)) === label) correct++;
    const dLogits = probabilities.map((p, c) => (p - (c === label ? 1 : 0)) / B);
    const dHidden = new Float64Array(H);
    for (let c = 0; c < C; c++) {
      grads.b2[c] += dLogits[c];
      for (let h = 0; h < H; h++) {
        grads.w2[c * H + h] += dLogits[c] * hidden[r * H + h];
        dHidden[h] += dLogits[c] * params.w2[c * H + h];
      }
    }
    for (let h = 0; h < H; h++) {
      if (hidden[r * H + h] <= 0) continue;
      grads.b1[h] += dHidden[h];
      for (let f = 0; f < F; f++) grads.w1[h * F + f] += dHidden[h] * x[r * F + f];
    }
  }
  return { grads, lossSum, correct, hidden };
}

function gaussian(random: Random, count: number, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, () => randomNormal(random) * scale);
}

function dimsOf(shape: HeadShape, name: TrainingStateName): number[] {
  return headParameterDims(shape)[parameterOf(name)];
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= tolerance, `${what}: largest difference ${worst} exceeds ${tolerance}`);
}

const shape: HeadShape = { featureSize: 12, hiddenUnits: 7, classCount: 5 };

describe('buildHeadInferenceModel', () => {
  it('computes softmax(relu(x W1ᵀ + b1) W2ᵀ + b2) like a plain forward pass', async () => {
    const random = seededRandom(3);
    const weights = initHeadWeights(shape, random);
    const rows = 6;
    const x = gaussian(random, rows * shape.featureSize);
    const session = await ort.InferenceSession.create(buildHeadInferenceModel(weights));
    try {
      assert.deepEqual(session.inputNames, [HEAD_INPUT_NAME]);
      assert.deepEqual(session.outputNames, [HEAD_OUTPUT_NAME]);
      const out = await session.run({ [HEAD_INPUT_NAME]: new ort.Tensor('float32', x, [rows, shape.featureSize]) });
      const probabilities = out[HEAD_OUTPUT_NAME];
      assert.deepEqual(probabilities.dims, [rows, shape.classCount]);
      const params = Object.fromEntries(HEAD_PARAMETER_NAMES.map((n) => [n, Float64Array.from(weights[n])])) as Params;
      const { logits } = forward(shape, params, Float64Array.from(x), rows);
      const expected = Array.from({ length: rows }, (_, r) => [...softmaxRow(logits, r, shape.classCount)]).flat();
      assertClose(probabilities.data as Float32Array, expected, 1e-6, 'probabilities');
    } finally {
      await session.release();
    }
  });

  it('refuses weights whose arrays do not match their shape', () => {
    const weights: HeadWeights = { ...initHeadWeights(shape, seededRandom(1)), b2: new Float32Array(4) };
    assert.throws(() => buildHeadInferenceModel(weights), { code: 'ValidationError', message: /b2 has 4 values, expected 5/ });
  });
});

describe('buildHeadEvaluationModel', () => {
  it('sums cross-entropy and counts correct predictions', async () => {
    const random = seededRandom(4);
    const weights = initHeadWeights(shape, random);
    const rows = 9;
    const x = gaussian(random, rows * shape.featureSize, 3);
    const labels = Array.from({ length: rows }, (_, i) => i % shape.classCount);
    const params = Object.fromEntries(HEAD_PARAMETER_NAMES.map((n) => [n, Float64Array.from(weights[n])])) as Params;
    const { logits } = forward(shape, params, Float64Array.from(x), rows);
    let lossSum = 0;
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      lossSum -= Math.log(softmaxRow(logits, r, shape.classCount)[labels[r]]);
      const row = logits.subarray(r * shape.classCount, (r + 1) * shape.classCount);
      if (row.indexOf(Math.max(...row)) === labels[r]) correct++;
    }
    const session = await ort.InferenceSession.create(buildHeadEvaluationModel(shape));
    try {
      const out = await session.run({
        [EVALUATION.features]: new ort.Tensor('float32', x, [rows, shape.featureSize]),
        [EVALUATION.labels]: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [rows]),
        ...Object.fromEntries(HEAD_PARAMETER_NAMES.map((n) => [n, new ort.Tensor('float32', weights[n], dimsOf(shape, n))])),
      });
      assert.ok(Math.abs((out[EVALUATION.lossSum].data as Float32Array)[0] - lossSum) < 1e-4);
      assert.equal((out[EVALUATION.correctCount].data as Float32Array)[0], correct);
    } finally {
      await session.release();
    }
  });
});

describe('buildHeadProbeModel', () => {
  it('gives the gradients, their sums and each hidden unit’s active count for one batch, as a plain-JS backward pass does', async () => {
    const random = seededRandom(11);
    const weights = initHeadWeights(shape, random);
    const features = gaussian(random, 6 * shape.featureSize);
    const labels = [0, 1, 2, 3, 4, 1];
    const params = Object.fromEntries(HEAD_PARAMETER_NAMES.map((name) => [name, Float64Array.from(weights[name])])) as Params;
    const reference = referenceGradients(shape, params, features, labels, [0, 1, 2, 3, 4, 5]);
    const session = await ort.InferenceSession.create(buildHeadProbeModel(shape));
    const dims = headParameterDims(shape);
    const outputs = await session.run({
      [PROBE.features]: new ort.Tensor('float32', features, [6, shape.featureSize]),
      [PROBE.labels]: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [6]),
      ...Object.fromEntries(HEAD_PARAMETER_NAMES.map((name) => [name, new ort.Tensor('float32', weights[name], dims[name])])),
    });
    assertClose(outputs[PROBE.lossSum].data as Float32Array, [reference.lossSum], 1e-4, 'loss sum');
    for (const name of HEAD_PARAMETER_NAMES) {
      const gradient = outputs[PROBE.gradient(name)].data as Float32Array;
      assertClose(gradient, reference.grads[name], 1e-5, `gradient of ${name}`);
      const values = weights[name];
      const sum = (array: ArrayLike<number>, f: (x: number) => number) => Array.from(array).reduce((total, x) => total + f(x), 0);
      const expected = [sum(values, (x) => x * x), sum(values, (x) => x), sum(gradient, (x) => x * x), sum(gradient, Math.abs), 0, 0];
      assertClose(outputs[PROBE.sums(name)].data as Float32Array, expected, 1e-4, `sums of ${name}`);
    }
    const active = Array.from({ length: shape.hiddenUnits }, (_, h) => [0, 1, 2, 3, 4, 5].filter((r) => reference.hidden[r * shape.hiddenUnits + h]! > 0).length);
    assert.deepEqual(Array.from(outputs[PROBE.activeCount].data as Float32Array), active);
    await session.release();
  });

  it('counts NaN and infinite entries of a parameter', async () => {
    const weights = initHeadWeights(shape, seededRandom(12));
    weights.w2[0] = NaN;
    weights.b2[1] = Infinity;
    const session = await ort.InferenceSession.create(buildHeadProbeModel(shape));
    const dims = headParameterDims(shape);
    const outputs = await session.run({
      [PROBE.features]: new ort.Tensor('float32', new Float32Array(2 * shape.featureSize).fill(1), [2, shape.featureSize]),
      [PROBE.labels]: new ort.Tensor('int64', BigInt64Array.of(0n, 1n), [2]),
      ...Object.fromEntries(HEAD_PARAMETER_NAMES.map((name) => [name, new ort.Tensor('float32', weights[name], dims[name])])),
    });
    const counts = (name: (typeof HEAD_PARAMETER_NAMES)[number]) => Array.from((outputs[PROBE.sums(name)].data as Float32Array).slice(4));
    assert.ok(counts('w2')[0]! >= 1, `w2 has its NaN counted: ${counts('w2')}`);
    assert.ok(counts('b2')[1]! >= 1, `b2 has its infinity counted: ${counts('b2')}`);
    await session.release();
  });
});

describe('buildHeadTrainingStepModel', () => {
  it('matches a plain-JS forward, backward and Adam step over full batches and a last partial batch', async () => {
    const random = seededRandom(5);
    const samples = 11;
    const features = gaussian(random, samples * shape.featureSize);
    const labels = Array.from({ length: samples }, () => Math.floor(random.next() * shape.classCount));
    const weights = initHeadWeights(shape, random);
    const learningRate = 0.01;
    // Two unrolled steps of 4 rows, then one step of the 3 remaining rows.
    const batches = [
      [3, 0, 7, 10],
      [1, 9, 2, 5],
      [8, 4, 6],
    ];

    const reference: AdamState = {
      params: Object.fromEntries(HEAD_PARAMETER_NAMES.map((n) => [n, Float64Array.from(weights[n])])) as Params,
      m: Object.fromEntries(HEAD_PARAMETER_NAMES.map((n) => [n, new Float64Array(weights[n].length)])) as Params,
      v: Object.fromEntries(HEAD_PARAMETER_NAMES.map((n) => [n, new Float64Array(weights[n].length)])) as Params,
      t: 0,
    };
    const expectedScores = batches.map((rows) => referenceStep(shape, reference, features, labels, rows, learningRate));

    let state: Record<string, ort.Tensor> = Object.fromEntries(
      TRAINING_STATE_NAMES.map((name) => {
        const data = HEAD_PARAMETER_NAMES.includes(name as never) ? weights[name as 'w1'].slice() : new Float32Array(weights[name.slice(2) as 'w1'].length);
        return [name, new ort.Tensor('float32', data, dimsOf(shape, name))];
      }),
    );
    const scores: { lossSum: number; correct: number }[] = [];
    let t = 0;
    for (const group of [batches.slice(0, 2), batches.slice(2)]) {
      const steps = group.length;
      const session = await ort.InferenceSession.create(buildHeadTrainingStepModel({ ...shape, steps }));
      try {
        const scalars = group.map(() => adamStepScalars(learningRate, ++t));
        const out = await session.run({
          [TRAINING_STEP.features]: new ort.Tensor('float32', features, [samples, shape.featureSize]),
          [TRAINING_STEP.labels]: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [samples]),
          [TRAINING_STEP.batchIndices]: new ort.Tensor('int64', BigInt64Array.from(group.flat(), BigInt), [steps, group[0].length]),
          [TRAINING_STEP.stepSize]: new ort.Tensor('float32', Float32Array.from(scalars, (s) => s.stepSize), [steps]),
          [TRAINING_STEP.epsilonHat]: new ort.Tensor('float32', Float32Array.from(scalars, (s) => s.epsilonHat), [steps]),
          ...state,
        });
        for (let s = 0; s < steps; s++) {
          scores.push({
            lossSum: (out[TRAINING_STEP.lossSum].data as Float32Array)[s],
            correct: (out[TRAINING_STEP.correctCount].data as Float32Array)[s],
          });
        }
        state = Object.fromEntries(TRAINING_STATE_NAMES.map((name) => [name, out[TRAINING_STEP.next(name)] as ort.Tensor]));
      } finally {
        await session.release();
      }
    }

    for (const name of HEAD_PARAMETER_NAMES) {
      assertClose(state[name].data as Float32Array, reference.params[name], 1e-5, name);
      assertClose(state[`m_${name}`].data as Float32Array, reference.m[name], 1e-5, `m_${name}`);
      assertClose(state[`v_${name}`].data as Float32Array, reference.v[name], 1e-6, `v_${name}`);
      // The parameters moved, so the comparison above is not between two untouched copies.
      assert.ok(Math.abs(reference.params[name][0] - weights[name][0]) > 1e-3, `${name} changed`);
    }
    scores.forEach((score, i) => {
      assert.ok(Math.abs(score.lossSum - expectedScores[i].lossSum) < 1e-4, `batch ${i} loss sum`);
      assert.equal(score.correct, expectedScores[i].correct, `batch ${i} correct count`);
    });
  });
});
