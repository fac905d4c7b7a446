import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { randomNormal, seededRandom } from '../../core/random.ts';
import { DomainError } from '../../core/errors.ts';
import type { TraceStep } from '../../domain/debugger/trace.ts';
import type { HeadHyperParameters } from '../../domain/training/training-job.ts';
import { trainHead, type LabelledFeatures, type TrainerCheckpoint } from './head-trainer.ts';
import { HeadTrainerPool } from './head-trainer-pool.ts';

const FEATURES = 8;
const CLASSES = 3;

/** Three separable blobs, with the features in a SharedArrayBuffer as tuning trials share them. */
function blobs(count: number, seed: number): LabelledFeatures {
  const random = seededRandom(seed);
  const features = new Float32Array(new SharedArrayBuffer(count * FEATURES * 4));
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % CLASSES;
    for (let f = 0; f < FEATURES; f++) features[i * FEATURES + f] = (f % CLASSES === labels[i] ? 4 : 0) + randomNormal(random) * 0.7;
  }
  return { features, labels };
}

const hyperParameters: HeadHyperParameters = { learning_rate: 0.01, batch_size: 16, epochs: 4, hidden_units: 16, seed: 1 };
const task = { train: blobs(200, 1), validation: blobs(60, 2), test: blobs(60, 3), featureSize: FEATURES, classCount: CLASSES, hyperParameters, intraOpNumThreads: 1 };

describe('HeadTrainerPool', () => {
  const pool = new HeadTrainerPool(2);
  after(() => pool.close());

  it('trains in a worker thread exactly as in this thread, and evaluates the test split', async () => {
    const epochs: number[] = [];
    const checkpoints: TrainerCheckpoint[] = [];
    const result = await pool.train({ ...task, reportEveryMs: 0, onEpochs: (metrics, checkpoint) => (epochs.push(...metrics.map((m) => m.epoch)), checkpoints.push(checkpoint)) });
    const own = (data: LabelledFeatures) => ({ features: new Float32Array(data.features), labels: data.labels });
    const here = await trainHead({ ...task, train: own(task.train), validation: own(task.validation) });
    assert.deepEqual(result.weights, here.weights);
    assert.deepEqual(epochs, [1, 2, 3, 4]);
    assert.deepEqual(checkpoints.map((c) => c.epoch), [1, 2, 3, 4]);
    assert.equal(result.test?.accuracy, 1);
  });

  it('sends the debugger’s steps from the worker with the epochs’ reports, every step once and in order', async () => {
    const steps: TraceStep[] = [];
    const result = await pool.train({ ...task, reportEveryMs: 0, debug: { saveInterval: 4 }, onEpochs: (_metrics, _checkpoint, batch) => void steps.push(...(batch ?? [])) });
    const perEpoch = Math.ceil(200 / hyperParameters.batch_size);
    assert.deepEqual(steps.map((s) => s.step), Array.from({ length: perEpoch * hyperParameters.epochs }, (_, i) => i));
    assert.deepEqual([...new Set(steps.map((s) => s.epoch))], [1, 2, 3, 4]);
    const saved = steps.filter((s) => s.tensors.length > 0).map((s) => s.step);
    assert.equal(saved[0], 0);
    assert.ok(saved.length > 4, `${saved.length} steps saved`);
    assert.equal(new Set(saved.map((s) => Math.floor(s / 4))).size, saved.length, 'at most one saved step in each window of four');
    const own = (data: LabelledFeatures) => ({ features: new Float32Array(data.features), labels: data.labels });
    assert.deepEqual(result.weights, (await trainHead({ ...task, train: own(task.train), validation: own(task.validation) })).weights, 'recording changes nothing');
  });

  it('sends no steps when the hook is off', async () => {
    const batches: unknown[] = [];
    await pool.train({ ...task, reportEveryMs: 0, onEpochs: (_metrics, _checkpoint, steps) => void batches.push(steps) });
    assert.deepEqual(batches, [undefined, undefined, undefined, undefined]);
  });

  it('runs tasks side by side, and resumes from a checkpoint a worker sent', async () => {
    // About a second of epochs, so that the stop, seen a report or two late on a loaded machine,
    // still lands part-way.
    const long = { ...task, hyperParameters: { ...hyperParameters, epochs: 150 } };
    let saved: TrainerCheckpoint | undefined;
    const [stopped, other] = await Promise.all([
      pool.train({ ...long, reportEveryMs: 0, onEpochs: (_metrics, checkpoint) => checkpoint.epoch === 2 && (saved = checkpoint), shouldStop: () => saved !== undefined }),
      pool.train({ ...task, hyperParameters: { ...hyperParameters, seed: 2 } }),
    ]);
    assert.ok(stopped.epochs.length >= 2 && stopped.epochs.length < 150, `stopped after ${stopped.epochs.length} epochs`);
    assert.equal(other.epochs.length, 4);
    const resumed = await pool.train({ ...long, resumeFrom: saved });
    const straight = await pool.train(long);
    assert.deepEqual(resumed.weights, straight.weights);
  });

  it('reports fast epochs in batches, every epoch in order, with a checkpoint after the last of each batch', async () => {
    const epochs: number[] = [];
    const checkpoints: number[] = [];
    const result = await pool.train({
      ...task,
      hyperParameters: { ...hyperParameters, epochs: 30 },
      reportEveryMs: 60_000,
      onEpochs: (metrics, checkpoint) => (epochs.push(...metrics.map((m) => m.epoch)), checkpoints.push(checkpoint.epoch)),
    });
    assert.deepEqual(epochs, Array.from({ length: 30 }, (_, index) => index + 1));
    assert.deepEqual(checkpoints, [30], 'one report, at the end, with the final checkpoint');
    assert.equal(result.epochs.length, 30);
  });

  it('does not start training at all when the stop is already asked for', async () => {
    const result = await pool.train({ ...task, shouldStop: () => true });
    assert.deepEqual(result.epochs, []);
  });

  it("passes the trainer's refusals back with their code", async () => {
    const bad = { ...task, train: { features: task.train.features, labels: new Int32Array(200).fill(7) } };
    await assert.rejects(pool.train(bad), (error: unknown) => error instanceof DomainError && error.code === 'ValidationError' && /label 7/.test(error.message));
    assert.equal((await pool.train(task)).epochs.length, 4, 'the worker is still usable');
  });
});
