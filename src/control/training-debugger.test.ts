import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RuleConfigurationInput } from '../domain/debugger/configuration.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { imageClassifierJob, makeSmallDataset, SMALL_HYPERPARAMETERS } from '../testing/test-kennel.ts';
import { createPlatform, type Platform } from './platform.ts';
import { waitForTrainingJob } from './wait.ts';

const IMAGE = '503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest';
const rule = (name: string, parameters: Record<string, string> = {}): RuleConfigurationInput => ({ name, evaluatorImage: IMAGE, parameters: { rule_to_invoke: name, ...parameters } });

describe('training jobs under the debugger and profiler', () => {
  let dir: string;
  let images: string;
  let platform: Platform;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-debugger-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore()));
    images = join(dir, 'images');
    await makeSmallDataset(images);
  });
  after(async () => {
    await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records the trace of a healthy job, and its rules end NoIssuesFound', async () => {
    await platform.trainingJobs.create(
      imageClassifierJob('healthy', images, {
        hyperParameters: { ...SMALL_HYPERPARAMETERS, epochs: 6 },
        debugger: {
          hook: { s3OutputPath: 's3://b/tensors', hookParameters: { save_interval: '2' }, collections: [] },
          rules: [rule('ExplodingTensor'), rule('VanishingGradient'), rule('ClassImbalance')],
          profiler: { disabled: false, intervalMs: 100 },
          profilerRules: [rule('StepOutlier', { n_outliers: '1000' })],
        },
      }),
    );
    const created = platform.trainingJobs.describe('healthy');
    assert.deepEqual(created.ruleEvaluations?.map((e) => [e.configurationName, e.status]), [
      ['ExplodingTensor', 'InProgress'],
      ['VanishingGradient', 'InProgress'],
      ['ClassImbalance', 'InProgress'],
      ['StepOutlier', 'InProgress'],
    ]);
    const job = await waitForTrainingJob(platform, 'healthy');
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.deepEqual(job.ruleEvaluations?.map((e) => [e.configurationName, e.kind, e.status]), [
      ['ExplodingTensor', 'debug', 'NoIssuesFound'],
      ['VanishingGradient', 'debug', 'NoIssuesFound'],
      ['ClassImbalance', 'debug', 'NoIssuesFound'],
      ['StepOutlier', 'profiler', 'NoIssuesFound'],
    ]);

    const { trace, damagedLines } = await platform.deps.traces.read('healthy');
    assert.equal(damagedLines, 0);
    const stepsPerEpoch = trace.steps.length / 6;
    assert.ok(Number.isInteger(stepsPerEpoch) && stepsPerEpoch > 1, `${trace.steps.length} steps over 6 epochs`);
    assert.deepEqual(trace.steps.map((s) => s.step), trace.steps.map((_, i) => i), 'every step, in order');
    assert.deepEqual(trace.epochs.map((e) => [e.epoch, e.step]), [1, 2, 3, 4, 5, 6].map((e) => [e, e * stepsPerEpoch - 1]));
    assert.deepEqual(trace.epochs.map((e) => e.trainLoss), job.epochs.map((e) => e.trainLoss), 'the epochs are the job’s own');
    assert.ok(trace.steps.filter((s) => s.tensors.length > 0).length >= 2, 'tensors saved every few steps');
    assert.equal(trace.classes?.labels.length, 4);
    assert.ok(trace.classes!.samples.every((n) => n > 0));
  });

  it('a learning rate too high to settle: LossNotDecreasing finds the loss stalled, and its StopTraining action stops the job', async () => {
    await platform.trainingJobs.create(
      imageClassifierJob('stalling', images, {
        hyperParameters: { ...SMALL_HYPERPARAMETERS, epochs: 10_000, learning_rate: 1 },
        debugger: { rules: [rule('LossNotDecreasing', { action_json: '[{"name": "stoptraining"}]' }), rule('ExplodingTensor')] },
      }),
    );
    const job = await waitForTrainingJob(platform, 'stalling');
    assert.equal(job.status, 'Stopped', job.failureReason);
    assert.ok(job.epochs.length < 10_000, `stopped after ${job.epochs.length} epochs`);
    const [loss, explode] = job.ruleEvaluations!;
    assert.equal(loss!.status, 'IssuesFound');
    assert.ok(loss!.step !== undefined && loss!.step < job.epochs.length * 3, `found at step ${loss!.step}`);
    assert.match(loss!.details, /mean loss over steps to \d+ is/);
    assert.equal(explode!.status, 'NoIssuesFound', 'a rule without an action keeps evaluating to the end');
    assert.ok(
      job.secondaryStatusTransitions.some((t) => t.status === 'Stopping' && /rule LossNotDecreasing \(stalling\)/.test(t.message)),
      job.secondaryStatusTransitions.map((t) => t.message).join(' | '),
    );
    const log = await platform.deps.logs.read('stalling');
    assert.ok(log.events.some((e) => /Rule LossNotDecreasing: IssuesFound at step \d+/.test(e.message)), `the rule's finding is in the log: ${log.events.slice(-3).map((e) => e.message).join(' | ')}`);
    assert.ok(job.modelArtifactsUri, 'a stopped job keeps the model trained so far');
  });

  it('after a shutdown mid-run, the resumed job keeps its trace up to the checkpoint and records the rest once, past a torn last line', async () => {
    const store = createMemoryStore();
    const first = createPlatform(testControlDeps(dir, store));
    const input = imageClassifierJob('resumed-trace', images, { hyperParameters: { ...SMALL_HYPERPARAMETERS, epochs: 10_000 }, debugger: { rules: [rule('ExplodingTensor')] } });
    await first.trainingJobs.create(input);
    while (first.trainingJobs.describe('resumed-trace').epochs.length < 3) await new Promise((done) => setTimeout(done, 20));
    await first.controller.stop();
    // What a kill leaves: a record cut short at the end of the file.
    await appendFile(join(dir, 'traces', 'resumed-trace.jsonl'), '{"type": "step", "step": 99999, "lo');

    const restarted = createPlatform(testControlDeps(dir, store));
    try {
      await restarted.controller.step();
      while (restarted.trainingJobs.describe('resumed-trace').epochs.length < 6) await new Promise((done) => setTimeout(done, 20));
      restarted.trainingJobs.stop('resumed-trace');
      const job = await waitForTrainingJob(restarted, 'resumed-trace');
      assert.equal(job.status, 'Stopped');
      assert.equal(job.ruleEvaluations![0]!.status, 'NoIssuesFound');
      const { trace, damagedLines } = await restarted.deps.traces.read('resumed-trace');
      assert.equal(damagedLines, 0, 'the torn line was dropped when the resumed run rewrote the trace');
      assert.deepEqual(trace.steps.map((s) => s.step), trace.steps.map((_, i) => i), 'every step once, in order, across both runs');
      assert.deepEqual(trace.epochs.map((e) => e.epoch), job.epochs.map((e) => e.epoch), 'the trace’s epochs are the job’s');
    } finally {
      await restarted.controller.stop();
    }
  });
});
