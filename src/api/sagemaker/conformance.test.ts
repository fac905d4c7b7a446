import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkOutput } from '../aws/output-checker.ts';
import { loadServiceModel, operationNames } from '../aws/service-model.ts';
import { expectationMismatch, mutationCases } from '../../testing/aws-conformance.ts';
import { signedFetch } from '../../testing/signed-fetch.ts';
import { makeSmallDataset, startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';

/**
 * Every operation Kennel serves, checked against SageMaker's service model (the
 * subset committed from Debian's python3-botocore; service-models.test.ts proves
 * it is the same): a request with the required members is accepted and answered
 * with every required output member, of the right type; a request missing a
 * required member, with a value outside an enum, too long, or with an empty list
 * that must not be empty is refused with a ValidationException naming the member.
 */
const model = loadServiceModel('sagemaker');
const ROLE = 'arn:aws:iam::000000000000:role/Conformance';
const IMAGE = 'kennel/image-classifier:latest';
const BUCKET = 'sagemaker-us-east-1-000000000000';

describe('SageMaker operations against the service model', { timeout: 300_000 }, () => {
  let test: TestKennel;
  const checked = new Set<string>();
  let mutations = 0;

  const call = async (operation: string, input: unknown) => {
    const response = await signedFetch(`${test.url}/`, {
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `SageMaker.${operation}` },
      body: JSON.stringify(input),
      service: 'sagemaker',
      credentials: test.credentials,
    });
    return { status: response.status, type: response.headers.get('x-amzn-errortype') ?? '', body: (await response.json()) as Record<string, unknown> };
  };

  /** The valid input succeeds and answers the output shape; every mutation of it is refused naming the member. */
  const conform = async (operation: string, input: Record<string, unknown>) => {
    for (const mutation of mutationCases(model, operation, input)) {
      const answer = await call(operation, mutation.input);
      const mismatch = expectationMismatch(mutation.expect, { type: answer.type, message: String(answer.body.message) });
      assert.equal(mismatch, undefined, `${operation}, ${mutation.description}: ${mismatch} (HTTP ${answer.status}: ${String(answer.body.message)})`);
      assert.equal(answer.status, 400);
      mutations++;
    }
    const answer = await call(operation, input);
    assert.equal(answer.status, 200, `${operation}: ${JSON.stringify(answer.body)}`);
    const output = model.operations[operation].output;
    if (output) assert.deepEqual(checkOutput(model, output.shape, answer.body), [], `${operation} answered ${JSON.stringify(answer.body)}`);
    else assert.deepEqual(answer.body, {});
    checked.add(operation);
    return answer.body;
  };

  const channel = (name: string, uri: string) => ({ ChannelName: name, DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri } } });
  const trainingJob = (name: string, epochs: string) => ({
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    RoleArn: ROLE,
    HyperParameters: { epochs },
    InputDataConfig: [channel('training', `s3://${BUCKET}/conformance-data`)],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/conformance` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  });
  const until = async (operation: string, input: object, done: (body: Record<string, unknown>) => boolean) => {
    for (;;) {
      const { body } = await call(operation, input);
      if (done(body)) return body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    test = await startTestKennel();
    // The model allows only s3:// URIs (Kennel's file:// ones are its own extension), so the images go to the object store.
    const images = join(test.home, 'images');
    await makeSmallDataset(images);
    for (const entry of await readdir(images, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      await test.kennel.platform.deps.objects.putFile(BUCKET, `conformance-data/${relative(images, path)}`, path);
    }
  });
  after(async () => test?.close());

  it('training jobs', async () => {
    await conform('CreateTrainingJob', trainingJob('conformance', '2'));
    const inProgress = await conform('DescribeTrainingJob', { TrainingJobName: 'conformance' });
    assert.equal(inProgress.TrainingJobStatus, 'InProgress');
    const done = await until('DescribeTrainingJob', { TrainingJobName: 'conformance' }, (body) => body.TrainingJobStatus !== 'InProgress');
    assert.equal(done.TrainingJobStatus, 'Completed');
    await conform('DescribeTrainingJob', { TrainingJobName: 'conformance' });
    await call('CreateTrainingJob', trainingJob('conformance-long', '10000'));
    await conform('StopTrainingJob', { TrainingJobName: 'conformance-long' });
    await until('DescribeTrainingJob', { TrainingJobName: 'conformance-long' }, (body) => body.TrainingJobStatus === 'Stopped');
    await conform('DescribeTrainingJob', { TrainingJobName: 'conformance-long' });
    const listed = await conform('ListTrainingJobs', { NameContains: 'conformance', SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 1 });
    assert.ok(listed.NextToken);
  });

  it('hyperparameter tuning jobs', async () => {
    const tuningJob = (name: string, epochs: string, maxJobs: number) => ({
      HyperParameterTuningJobName: name,
      HyperParameterTuningJobConfig: {
        Strategy: 'Bayesian',
        HyperParameterTuningJobObjective: { Type: 'Minimize', MetricName: 'validation:loss' },
        ResourceLimits: { MaxNumberOfTrainingJobs: maxJobs, MaxParallelTrainingJobs: 2 },
        ParameterRanges: {
          ContinuousParameterRanges: [{ Name: 'learning_rate', MinValue: '0.001', MaxValue: '0.01', ScalingType: 'Logarithmic' }],
          CategoricalParameterRanges: [{ Name: 'batch_size', Values: ['8', '16'] }],
        },
      },
      TrainingJobDefinition: {
        StaticHyperParameters: { epochs },
        AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
        RoleArn: ROLE,
        InputDataConfig: [channel('training', `s3://${BUCKET}/conformance-data`)],
        OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/conformance-tuning` },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      },
    });
    await conform('CreateHyperParameterTuningJob', tuningJob('conformance', '2', 2));
    await conform('DescribeHyperParameterTuningJob', { HyperParameterTuningJobName: 'conformance' });
    const done = await until('DescribeHyperParameterTuningJob', { HyperParameterTuningJobName: 'conformance' }, (body) => body.HyperParameterTuningJobStatus !== 'InProgress');
    assert.equal(done.HyperParameterTuningJobStatus, 'Completed', String(done.FailureReason));
    assert.deepEqual(done.TrainingJobStatusCounters, { Completed: 2, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 });
    await conform('DescribeHyperParameterTuningJob', { HyperParameterTuningJobName: 'conformance' });
    const trials = await conform('ListTrainingJobsForHyperParameterTuningJob', {
      HyperParameterTuningJobName: 'conformance',
      SortBy: 'FinalObjectiveMetricValue',
      SortOrder: 'Ascending',
    });
    assert.equal((trials.TrainingJobSummaries as unknown[]).length, 2);
    await call('CreateHyperParameterTuningJob', tuningJob('conformance-long', '10000', 4));
    await conform('StopHyperParameterTuningJob', { HyperParameterTuningJobName: 'conformance-long' });
    await until('DescribeHyperParameterTuningJob', { HyperParameterTuningJobName: 'conformance-long' }, (body) => body.HyperParameterTuningJobStatus === 'Stopped');
    await conform('DescribeHyperParameterTuningJob', { HyperParameterTuningJobName: 'conformance-long' });
    const listed = await conform('ListHyperParameterTuningJobs', { NameContains: 'conformance', MaxResults: 1 });
    assert.ok(listed.NextToken);
  });

  it('models, endpoint configs and endpoints', async () => {
    const artifacts = `s3://${BUCKET}/conformance/conformance/output/model.tar.gz`;
    await conform('CreateModel', { ModelName: 'conformance', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: IMAGE, ModelDataUrl: artifacts } });
    await conform('DescribeModel', { ModelName: 'conformance' });
    await conform('ListModels', {});
    await conform('CreateEndpointConfig', {
      EndpointConfigName: 'conformance',
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'conformance', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }],
    });
    await conform('DescribeEndpointConfig', { EndpointConfigName: 'conformance' });
    await conform('ListEndpointConfigs', {});
    await conform('CreateEndpoint', { EndpointName: 'conformance', EndpointConfigName: 'conformance' });
    await conform('DescribeEndpoint', { EndpointName: 'conformance' });
    await until('DescribeEndpoint', { EndpointName: 'conformance' }, (body) => body.EndpointStatus === 'InService');
    await conform('DescribeEndpoint', { EndpointName: 'conformance' });
    await conform('ListEndpoints', { StatusEquals: 'InService' });
    await conform('UpdateEndpointWeightsAndCapacities', {
      EndpointName: 'conformance',
      DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredWeight: 2, DesiredInstanceCount: 2 }],
    });
    await conform('DescribeEndpoint', { EndpointName: 'conformance' });
    await until('DescribeEndpoint', { EndpointName: 'conformance' }, (body) => body.EndpointStatus === 'InService');
    await call('CreateEndpointConfig', {
      EndpointConfigName: 'conformance-next',
      ProductionVariants: [{ VariantName: 'Next', ModelName: 'conformance', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }],
    });
    await conform('UpdateEndpoint', { EndpointName: 'conformance', EndpointConfigName: 'conformance-next' });
    await conform('DescribeEndpoint', { EndpointName: 'conformance' });
    await until('DescribeEndpoint', { EndpointName: 'conformance' }, (body) => body.EndpointStatus === 'InService');
    await conform('DescribeEndpoint', { EndpointName: 'conformance' });
  });

  it('tags', async () => {
    const arn = 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/conformance';
    await conform('AddTags', { ResourceArn: arn, Tags: [{ Key: 'suite', Value: 'conformance' }] });
    const listed = await conform('ListTags', { ResourceArn: arn });
    assert.deepEqual(listed.Tags, [{ Key: 'suite', Value: 'conformance' }]);
    await conform('DeleteTags', { ResourceArn: arn, TagKeys: ['suite'] });
  });

  it('deletes', async () => {
    await conform('DeleteEndpoint', { EndpointName: 'conformance' });
    await until('ListEndpoints', { NameContains: 'conformance' }, (body) => (body.Endpoints as unknown[]).length === 0);
    await conform('DeleteEndpointConfig', { EndpointConfigName: 'conformance' });
    await conform('DeleteModel', { ModelName: 'conformance' });
  });

  it('covers every operation Kennel serves', () => {
    assert.deepEqual([...checked].sort(), operationNames(model).sort());
    assert.ok(mutations > 0);
    process.stdout.write(`# conformance: ${checked.size} operations, ${mutations} refused mutations\n`);
  });
});
