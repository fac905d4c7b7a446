import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  waitUntilTrainingJobCompletedOrStopped,
  type CreateTrainingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { makeSmallDataset, startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';

const RULES_IMAGE = '503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest';
const BUCKET = 'sagemaker-us-east-1-000000000000';
const FAST = { minDelay: 1, maxDelay: 1, maxWaitTime: 120 };

describe('the debugger and profiler on the SageMaker wire, through @aws-sdk/client-sagemaker', () => {
  let test: TestKennel;
  let client: SageMakerClient;
  let images: string;

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

  /** A job with the debugger settings the SageMaker Python SDK sends for rules=[loss_not_decreasing(), ...] and its default ProfilerReport. */
  const request = (name: string, patch: Partial<CreateTrainingJobCommandInput> = {}): CreateTrainingJobCommandInput => ({
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: 'kennel/image-classifier:latest', TrainingInputMode: 'File' },
    RoleArn: 'arn:aws:iam::000000000000:role/SageMakerRole',
    HyperParameters: { epochs: '6', learning_rate: '0.003', batch_size: '16', hidden_units: '32' },
    InputDataConfig: [{ ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: pathToFileURL(images).href } } }],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/jobs` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    DebugHookConfig: { S3OutputPath: `s3://${BUCKET}/jobs`, CollectionConfigurations: [{ CollectionName: 'losses', CollectionParameters: { save_interval: '10' } }] },
    DebugRuleConfigurations: [
      { RuleConfigurationName: 'ExplodingTensor', RuleEvaluatorImage: RULES_IMAGE, InstanceType: 'ml.t3.medium', VolumeSizeInGB: 0, RuleParameters: { rule_to_invoke: 'ExplodingTensor' } },
      // The action as smdebug_rulesconfig's ActionList(StopTraining()) serialises it: quotes escaped.
      { RuleConfigurationName: 'ClassImbalance', RuleEvaluatorImage: RULES_IMAGE, RuleParameters: { rule_to_invoke: 'ClassImbalance', threshold_imbalance: '10', action_json: '[{\\"name\\": \\"stoptraining\\", \\"training_job_prefix\\": \\"sdk-debugged\\"}]' } },
    ],
    ProfilerConfig: { S3OutputPath: `s3://${BUCKET}/jobs`, ProfilingIntervalInMilliseconds: 500 },
    ProfilerRuleConfigurations: [{ RuleConfigurationName: 'ProfilerReport-1764640000', RuleEvaluatorImage: RULES_IMAGE, RuleParameters: { rule_to_invoke: 'ProfilerReport' } }],
    ...patch,
  });

  it('accepts the settings, reports each rule’s evaluation while the job runs and once it has ended, and gives the settings back', async () => {
    await client.send(new CreateTrainingJobCommand(request('sdk-debugged')));
    const running = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'sdk-debugged' }));
    assert.deepEqual(running.DebugRuleEvaluationStatuses?.map((s) => [s.RuleConfigurationName, s.RuleEvaluationStatus]), [
      ['ExplodingTensor', 'InProgress'],
      ['ClassImbalance', 'InProgress'],
    ]);
    assert.equal(running.ProfilingStatus, 'Enabled');

    await waitUntilTrainingJobCompletedOrStopped({ client, ...FAST }, { TrainingJobName: 'sdk-debugged' });
    const job = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'sdk-debugged' }));
    assert.equal(job.TrainingJobStatus, 'Completed', job.FailureReason);
    const statuses = [...(job.DebugRuleEvaluationStatuses ?? []), ...(job.ProfilerRuleEvaluationStatuses ?? [])];
    assert.deepEqual(statuses.map((s) => [s.RuleConfigurationName, s.RuleEvaluationStatus]), [
      ['ExplodingTensor', 'NoIssuesFound'],
      ['ClassImbalance', 'NoIssuesFound'],
      ['ProfilerReport-1764640000', 'NoIssuesFound'],
    ]);
    for (const status of statuses) {
      assert.match(status.RuleEvaluationJobArn!, /^arn:aws:sagemaker:us-east-1:000000000000:processing-job\/sdk-debugged-[a-z0-9-]+$/);
      assert.ok(status.LastModifiedTime instanceof Date && status.StatusDetails!.length > 0);
    }
    assert.deepEqual(job.DebugHookConfig, request('x').DebugHookConfig);
    assert.deepEqual(job.DebugRuleConfigurations, request('x').DebugRuleConfigurations);
    assert.deepEqual(job.ProfilerRuleConfigurations, request('x').ProfilerRuleConfigurations);
    assert.deepEqual(job.ProfilerConfig, request('x').ProfilerConfig);
  });

  it('refuses, with a ValidationException naming the problem, a rule it does not have and a custom rule image', async () => {
    const unknown = await sdkFailure(
      client.send(new CreateTrainingJobCommand(request('sdk-bad-rule', { DebugRuleConfigurations: [{ RuleConfigurationName: 'x', RuleEvaluatorImage: RULES_IMAGE, RuleParameters: { rule_to_invoke: 'AllZero' } }] }))),
    );
    assert.deepEqual([unknown.name, unknown.status], ['ValidationException', 400]);
    assert.match(unknown.message, /no built-in debugger rule AllZero; the rules are VanishingGradient, ExplodingTensor/);
    const custom = await sdkFailure(
      client.send(
        new CreateTrainingJobCommand(
          request('sdk-custom-rule', { DebugRuleConfigurations: [{ RuleConfigurationName: 'mine', RuleEvaluatorImage: '864354269164.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rule-evaluator:latest', RuleParameters: { rule_to_invoke: 'Mine' } }] }),
        ),
      ),
    );
    assert.deepEqual([custom.name, custom.status], ['ValidationException', 400]);
    assert.match(custom.message, /custom rules .* are not supported/);
    const interval = await sdkFailure(client.send(new CreateTrainingJobCommand(request('sdk-interval', { ProfilerConfig: { ProfilingIntervalInMilliseconds: 250 } }))));
    assert.deepEqual([interval.name, interval.status], ['ValidationException', 400]);
    assert.match(interval.message, /ProfilingIntervalInMilliseconds must be one of 100, 200, 500, 1000, 5000, 60000/);
  });
});
