import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CreateHyperParameterTuningJobCommand,
  DescribeHyperParameterTuningJobCommand,
  DescribeTrainingJobCommand,
  ListHyperParameterTuningJobsCommand,
  ListTrainingJobsForHyperParameterTuningJobCommand,
  paginateListTrainingJobsForHyperParameterTuningJob,
  SageMakerClient,
  StopHyperParameterTuningJobCommand,
  type CreateHyperParameterTuningJobCommandInput,
  type DescribeHyperParameterTuningJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { makeSmallDataset, startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';

const ROLE = 'arn:aws:iam::000000000000:role/SageMakerRole';
const IMAGE = 'kennel/image-classifier:latest';
const BUCKET = 'sagemaker-us-east-1-000000000000';

describe('hyperparameter tuning through @aws-sdk/client-sagemaker', { timeout: 300_000 }, () => {
  let test: TestKennel;
  let client: SageMakerClient;
  let images: string;

  type Config = CreateHyperParameterTuningJobCommandInput['HyperParameterTuningJobConfig'];
  const tuningJob = (name: string, config: Partial<NonNullable<Config>> = {}, epochs = '3'): CreateHyperParameterTuningJobCommandInput => ({
    HyperParameterTuningJobName: name,
    HyperParameterTuningJobConfig: {
      Strategy: 'Random',
      HyperParameterTuningJobObjective: { Type: 'Minimize', MetricName: 'validation:loss' },
      ResourceLimits: { MaxNumberOfTrainingJobs: 3, MaxParallelTrainingJobs: 2 },
      ParameterRanges: {
        ContinuousParameterRanges: [{ Name: 'learning_rate', MinValue: '0.001', MaxValue: '0.03', ScalingType: 'Logarithmic' }],
        IntegerParameterRanges: [{ Name: 'hidden_units', MinValue: '8', MaxValue: '64', ScalingType: 'Linear' }],
      },
      RandomSeed: 42,
      ...config,
    },
    TrainingJobDefinition: {
      StaticHyperParameters: { epochs, batch_size: '16' },
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
      RoleArn: ROLE,
      InputDataConfig: [{ ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: pathToFileURL(images).href } } }],
      OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/tuning` },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    },
  });
  const finished = async (name: string): Promise<DescribeHyperParameterTuningJobCommandOutput> => {
    for (;;) {
      const job = await client.send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: name }));
      if (!['InProgress', 'Stopping'].includes(job.HyperParameterTuningJobStatus!)) return job;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const tuned = async (name: string) => {
    const trials = [];
    for await (const page of paginateListTrainingJobsForHyperParameterTuningJob({ client, pageSize: 2 }, { HyperParameterTuningJobName: name })) {
      trials.push(...page.TrainingJobSummaries!);
    }
    return trials;
  };

  before(async () => {
    test = await startTestKennel();
    images = join(test.home, 'images');
    await makeSmallDataset(images);
    client = new SageMakerClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials, maxAttempts: 1 });
  });
  after(async () => {
    client?.destroy();
    await test?.close();
  });

  it('runs a tuning job to its budget and reports the best trial and the counters', async () => {
    const { HyperParameterTuningJobArn } = await client.send(new CreateHyperParameterTuningJobCommand(tuningJob('sdk-tuning')));
    assert.equal(HyperParameterTuningJobArn, 'arn:aws:sagemaker:us-east-1:000000000000:hyper-parameter-tuning-job/sdk-tuning');
    const job = await finished('sdk-tuning');
    assert.equal(job.HyperParameterTuningJobStatus, 'Completed', job.FailureReason);
    assert.deepEqual(job.TrainingJobStatusCounters, { Completed: 3, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 });
    assert.deepEqual(job.ObjectiveStatusCounters, { Succeeded: 3, Pending: 0, Failed: 0 });
    assert.ok(job.CreationTime instanceof Date && job.HyperParameterTuningEndTime instanceof Date);
    assert.equal(job.HyperParameterTuningJobConfig?.RandomSeed, 42);
    assert.deepEqual(job.HyperParameterTuningJobConfig?.ParameterRanges?.ContinuousParameterRanges, [
      { Name: 'learning_rate', MinValue: '0.001', MaxValue: '0.03', ScalingType: 'Logarithmic' },
    ]);

    const trials = await tuned('sdk-tuning');
    assert.deepEqual(trials.map((trial) => trial.TrainingJobName), [...trials.map((trial) => trial.TrainingJobName!)].sort(), 'by name, by default');
    const losses = trials.map((trial) => trial.FinalHyperParameterTuningJobObjectiveMetric!.Value!);
    assert.equal(job.BestTrainingJob?.FinalHyperParameterTuningJobObjectiveMetric?.Value, Math.min(...losses));
    assert.equal(job.BestTrainingJob?.TuningJobName, 'sdk-tuning');
    for (const trial of trials) {
      assert.equal(trial.ObjectiveStatus, 'Succeeded');
      const rate = Number(trial.TunedHyperParameters!.learning_rate);
      const hidden = Number(trial.TunedHyperParameters!.hidden_units);
      assert.ok(rate >= 0.001 && rate <= 0.03 && Number.isInteger(hidden) && hidden >= 8 && hidden <= 64, JSON.stringify(trial.TunedHyperParameters));
      // The trial is a training job like any other, with the static and the tuned hyperparameters, linked to its tuning job.
      const training = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: trial.TrainingJobName }));
      assert.equal(training.TuningJobArn, HyperParameterTuningJobArn);
      assert.deepEqual(training.HyperParameters, { epochs: '3', batch_size: '16', ...trial.TunedHyperParameters });
      assert.equal(training.FinalMetricDataList?.find((metric) => metric.MetricName === 'validation:loss')?.Value, trial.FinalHyperParameterTuningJobObjectiveMetric!.Value);
    }
    const byObjective = await client.send(
      new ListTrainingJobsForHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'sdk-tuning', SortBy: 'FinalObjectiveMetricValue', SortOrder: 'Ascending' }),
    );
    assert.deepEqual(byObjective.TrainingJobSummaries!.map((trial) => trial.FinalHyperParameterTuningJobObjectiveMetric!.Value), [...losses].sort((a, b) => a - b));
    const completed = await client.send(new ListTrainingJobsForHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'sdk-tuning', StatusEquals: 'Stopped' }));
    assert.deepEqual(completed.TrainingJobSummaries, []);
  });

  it('the same RandomSeed proposes the same trials, another seed others', async () => {
    const one = { ResourceLimits: { MaxNumberOfTrainingJobs: 2, MaxParallelTrainingJobs: 1 } };
    await client.send(new CreateHyperParameterTuningJobCommand(tuningJob('seed-a', one, '1')));
    await client.send(new CreateHyperParameterTuningJobCommand(tuningJob('seed-b', one, '1')));
    await client.send(new CreateHyperParameterTuningJobCommand(tuningJob('seed-c', { ...one, RandomSeed: 43 }, '1')));
    for (const name of ['seed-a', 'seed-b', 'seed-c']) assert.equal((await finished(name)).HyperParameterTuningJobStatus, 'Completed');
    const values = async (name: string) => (await tuned(name)).map((trial) => trial.TunedHyperParameters);
    assert.deepEqual(await values('seed-a'), await values('seed-b'));
    assert.notDeepEqual(await values('seed-a'), await values('seed-c'));
  });

  it('warm-starts from a finished parent and refuses one still running', async () => {
    await client.send(
      new CreateHyperParameterTuningJobCommand({
        ...tuningJob('sdk-child', { ResourceLimits: { MaxNumberOfTrainingJobs: 1, MaxParallelTrainingJobs: 1 } }, '1'),
        WarmStartConfig: { ParentHyperParameterTuningJobs: [{ HyperParameterTuningJobName: 'sdk-tuning' }], WarmStartType: 'IdenticalDataAndAlgorithm' },
      }),
    );
    const child = await finished('sdk-child');
    assert.equal(child.HyperParameterTuningJobStatus, 'Completed', child.FailureReason);
    assert.deepEqual(child.WarmStartConfig, { ParentHyperParameterTuningJobs: [{ HyperParameterTuningJobName: 'sdk-tuning' }], WarmStartType: 'IdenticalDataAndAlgorithm' });

    await client.send(new CreateHyperParameterTuningJobCommand(tuningJob('sdk-running', {}, '10000')));
    const running = await sdkFailure(
      client.send(
        new CreateHyperParameterTuningJobCommand({
          ...tuningJob('sdk-early-child'),
          WarmStartConfig: { ParentHyperParameterTuningJobs: [{ HyperParameterTuningJobName: 'sdk-running' }], WarmStartType: 'TransferLearning' },
        }),
      ),
    );
    assert.deepEqual([running.name, running.status], ['ValidationException', 400]);
    assert.match(running.message, /sdk-running is InProgress; a parent must have ended/);

    await client.send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'sdk-running' }));
    const stopped = await finished('sdk-running');
    assert.equal(stopped.HyperParameterTuningJobStatus, 'Stopped');
    assert.equal((stopped.TrainingJobStatusCounters!.Stopped ?? 0) + (stopped.TrainingJobStatusCounters!.Completed ?? 0), (await tuned('sdk-running')).length);
    const again = await sdkFailure(client.send(new StopHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'sdk-running' })));
    assert.match(again.message, /in status Stopped/);
  });

  it('refuses bad requests with the error types SageMaker declares, before anything runs', async () => {
    const inUse = await sdkFailure(client.send(new CreateHyperParameterTuningJobCommand(tuningJob('sdk-tuning'))));
    assert.deepEqual([inUse.name, inUse.status], ['ResourceInUse', 400]);
    const missing = await sdkFailure(client.send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'nope' })));
    assert.deepEqual([missing.name, missing.status], ['ResourceNotFound', 400]);
    const missingTrials = await sdkFailure(client.send(new ListTrainingJobsForHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'nope' })));
    assert.equal(missingTrials.name, 'ResourceNotFound');

    const ranges = (patch: object) => ({ ParameterRanges: patch });
    const cases: [string, CreateHyperParameterTuningJobCommandInput, RegExp][] = [
      ['min > max', tuningJob('bad-1', ranges({ ContinuousParameterRanges: [{ Name: 'learning_rate', MinValue: '0.1', MaxValue: '0.01' }] })), /MinValue/],
      ['log scale from 0', tuningJob('bad-2', ranges({ ContinuousParameterRanges: [{ Name: 'learning_rate', MinValue: '0', MaxValue: '0.1', ScalingType: 'Logarithmic' }] })), /Logarithmic/],
      ['a value that is no number', tuningJob('bad-3', ranges({ IntegerParameterRanges: [{ Name: 'hidden_units', MinValue: 'eight', MaxValue: '64' }] })), /MinValue must be an integer, got "eight"/],
      ['a hyperparameter the algorithm does not take', tuningJob('bad-4', ranges({ IntegerParameterRanges: [{ Name: 'depth', MinValue: '1', MaxValue: '4' }] })), /depth is not one the image classifier takes/],
      ['an undeclared objective', tuningJob('bad-5', { HyperParameterTuningJobObjective: { Type: 'Maximize', MetricName: 'f1' } }), /"f1" is neither one the image classifier publishes/],
      ['more parallel than in all', tuningJob('bad-6', { ResourceLimits: { MaxNumberOfTrainingJobs: 2, MaxParallelTrainingJobs: 3 } }), /MaxParallelTrainingJobs \(3\) is more than MaxNumberOfTrainingJobs \(2\)/],
      ['a negative seed', tuningJob('bad-7', { RandomSeed: -1 }), /RandomSeed/],
      ['an unknown strategy', tuningJob('bad-8', { Strategy: 'Genetic' as never }), /strategy/i],
    ];
    for (const [what, input, message] of cases) {
      const error = await sdkFailure(client.send(new CreateHyperParameterTuningJobCommand(input)));
      assert.deepEqual([error.name, error.status], ['ValidationException', 400], `${what}: ${error.message}`);
      assert.match(error.message, message, what);
    }
    const listed = await client.send(new ListHyperParameterTuningJobsCommand({ NameContains: 'bad-' }));
    assert.deepEqual(listed.HyperParameterTuningJobSummaries, [], 'nothing refused was recorded');
  });
});
