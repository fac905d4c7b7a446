import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { unpackModelArchive } from '../runtime/models/model-archive.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { createPlatform, type Platform } from './platform.ts';
import type { CreateTrainingJobInput } from './training-jobs.ts';
import type { CreateTuningJobInput } from './tuning-jobs.ts';
import { waitForTrainingJob, waitForTuningJob } from './wait.ts';

const SCRIPTS = fileURLToPath(new URL('../runtime/script-mode/fixtures/', import.meta.url));
const QUADRATIC = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('script-mode training jobs through the control plane', () => {
  let dir: string;
  let data: string;
  let platform: Platform;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-script-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore()));
    platform.controller.start(50);
    data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(data, 'numbers.txt'), '1\n2\n3\n');
  });
  after(async () => {
    await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const scriptJob = (name: string, image: string, program: string, patch: Partial<CreateTrainingJobInput> = {}): CreateTrainingJobInput => ({
    name,
    trainingImage: image,
    roleArn: KENNEL_EXECUTION_ROLE_ARN,
    instanceType: 'ml.m5.large',
    channels: [{ channelName: 'training', uri: pathToFileURL(data).href, s3DataType: 'S3Prefix' }],
    hyperParameters: { sagemaker_program: program, sagemaker_submit_directory: pathToFileURL(SCRIPTS).href, learning_rate: '0.05', epochs: '3' },
    metricDefinitions: [{ name: 'train:loss', regex: 'loss=([0-9.e-]+)' }],
    ...patch,
  });
  const logOf = async (name: string) => (await platform.deps.logs.read(name)).events.map((event) => event.message);

  for (const [runtime, image, program] of [
    ['Python', '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1.0-cpu-py310', 'train.py'],
    ['Node.js', 'kennel/node:latest', 'train.mjs'],
  ] as const) {
    it(`runs a ${runtime} entry point under the training contract, logs its output, scrapes its metrics and uploads its model`, async () => {
      const name = `script-${runtime === 'Python' ? 'py' : 'node'}`;
      await platform.trainingJobs.create(scriptJob(name, image, program));
      const job = await waitForTrainingJob(platform, name);
      assert.equal(job.status, 'Completed', job.failureReason);
      assert.equal(job.modelArtifactsUri, `s3://${DEFAULT_BUCKET}/${name}/output/model.tar.gz`);
      const files = await unpackModelArchive(await platform.deps.objects.get(DEFAULT_BUCKET, `${name}/output/model.tar.gz`));
      const model = JSON.parse(new TextDecoder().decode(files.get('model.json')!)) as { argv: string[]; numbers: number[]; hps: Record<string, unknown>; num_cpus: number; hosts: string[] };
      assert.deepEqual(model.argv, ['--epochs', '3', '--learning_rate', '0.05'], 'hyperparameters as --name value, sorted, without the sagemaker_ ones');
      assert.deepEqual(model.hps, { epochs: 3, learning_rate: 0.05 });
      assert.deepEqual(model.numbers, [1, 2, 3], 'the channel is at SM_CHANNEL_TRAINING');
      assert.equal(model.num_cpus, 2);
      assert.deepEqual(model.hosts, ['algo-1']);
      assert.ok(await platform.deps.objects.head(DEFAULT_BUCKET, `${name}/output/output.tar.gz`), 'SM_OUTPUT_DATA_DIR is uploaded too');

      const log = await logOf(name);
      assert.ok(log.includes('epoch=3 loss=0.125'), log.join('\n'));
      assert.ok(log.includes('note: this line goes to stderr'), 'stderr is in the log too');
      assert.deepEqual(job.scrapedMetrics?.['train:loss']?.map((point) => point.value), [0.5, 0.25, 0.125]);
    });
  }

  it('fails a script that exits non-zero, with its last lines in FailureReason', async () => {
    await platform.trainingJobs.create(scriptJob('script-fails', 'kennel/python', 'fail.py'));
    const job = await waitForTrainingJob(platform, 'script-fails');
    assert.equal(job.status, 'Failed');
    assert.match(job.failureReason!, /^AlgorithmError: ExecuteUserScriptError:\nExitCode 1\n/);
    assert.match(job.failureReason!, /ValueError: bad data in the training channel/);
    assert.equal(job.modelArtifactsUri, undefined, 'a failed script uploads no model');
  });

  it('refuses, before anything runs, a job whose script or source is not there', async () => {
    await assert.rejects(
      platform.trainingJobs.create(scriptJob('no-program', 'kennel/python', 'train.py', { hyperParameters: { sagemaker_submit_directory: pathToFileURL(SCRIPTS).href } })),
      /sagemaker_program must name the training script/,
    );
    await assert.rejects(
      platform.trainingJobs.create(
        scriptJob('no-source', 'kennel/python', 'train.py', { hyperParameters: { sagemaker_program: 'train.py', sagemaker_submit_directory: pathToFileURL(join(dir, 'nothing')).href } }),
      ),
      /sagemaker_submit_directory: .* does not exist/,
    );
    await assert.rejects(platform.trainingJobs.create(scriptJob('node-py', 'kennel/node', 'train.py')), /cannot run on a node image/);
    await assert.rejects(
      platform.trainingJobs.create(scriptJob('bad-regex', 'kennel/python', 'train.py', { metricDefinitions: [{ name: 'x', regex: 'loss=([0-9' }] })),
      /MetricDefinitions/,
    );
    assert.deepEqual(
      platform.trainingJobs.list().map((job) => job.name).filter((name) => ['no-program', 'no-source', 'node-py', 'bad-regex'].includes(name)),
      [],
    );
  });

  it('tunes a script by a metric scraped from its log; a trial whose regex never matches fails, and the job finishes the rest', async () => {
    const source = join(dir, 'quadratic');
    await cp(QUADRATIC, source, { recursive: true });
    const input: CreateTuningJobInput = {
      name: 'script-tuning',
      strategy: 'Grid',
      objective: { type: 'Minimize', metricName: 'test:loss' },
      ranges: [
        { kind: 'Categorical', name: 'learning_rate', values: ['0.001', '0.01', '0.1'] },
        { kind: 'Categorical', name: 'report', values: ['loud', 'quiet'] },
      ],
      maxParallelTrainingJobs: 2,
      template: {
        trainingImage: 'kennel/python:3',
        trainingInputMode: 'File',
        roleArn: KENNEL_EXECUTION_ROLE_ARN,
        staticHyperParameters: { sagemaker_program: 'quadratic.py', sagemaker_submit_directory: pathToFileURL(source).href, epochs: '2' },
        channels: [{ channelName: 'training', uri: pathToFileURL(data).href, s3DataType: 'S3Prefix' }],
        metricDefinitions: [
          { name: 'test:loss', regex: 'Testing Loss: ([0-9.]+)' },
          { name: 'valid:loss', regex: 'valid_loss=([0-9.]+)' },
        ],
      },
    };
    await platform.tuningJobs.create(input);
    const job = await waitForTuningJob(platform, 'script-tuning');
    assert.equal(job.status, 'Completed', job.failureReason);
    const trials = platform.tuningJobs.trials(job);
    assert.equal(trials.length, 6, 'the whole grid');
    for (const trial of trials) {
      const training = platform.trainingJobs.describe(trial.entry.trainingJobName);
      if (trial.entry.hyperParameters.report === 'quiet') {
        assert.equal(training.status, 'Failed');
        assert.match(training.failureReason!, /The objective metric test:loss was never reported: its regex "Testing Loss: \(\[0-9\.\]\+\)" matched no line/);
      } else {
        assert.equal(training.status, 'Completed', training.failureReason);
        assert.equal(trial.final, (Math.log10(Number(trial.entry.hyperParameters.learning_rate)) + 2) ** 2);
      }
    }
    const best = trials.filter((trial) => trial.final !== undefined).sort((a, b) => a.final! - b.final!)[0];
    assert.equal(best.entry.hyperParameters.learning_rate, '0.01');
  });
});
