import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOutput } from './output-checker.ts';
import { loadServiceModel } from './service-model.ts';

const sagemaker = loadServiceModel('sagemaker');

const describeTrainingJob = {
  TrainingJobName: 'dogs-1',
  TrainingJobArn: 'arn:aws:sagemaker:us-east-1:000000000000:training-job/dogs-1',
  ModelArtifacts: { S3ModelArtifacts: 's3://bucket/dogs-1/output/model.tar.gz' },
  TrainingJobStatus: 'Completed',
  SecondaryStatus: 'Completed',
  AlgorithmSpecification: { TrainingImage: 'kennel/image-classifier', TrainingInputMode: 'File' },
  ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  CreationTime: 1_700_000_000.123,
  HyperParameters: { epochs: '5' },
  FinalMetricDataList: [{ MetricName: 'test:loss', Value: 0.42, Timestamp: 1_700_000_100 }],
};

/** Sorted: problems come in the order of the body's members, which does not matter here. */
const check = (value: unknown) => checkOutput(sagemaker, 'DescribeTrainingJobResponse', value).sort();

describe('checkOutput', () => {
  it('passes a well-formed DescribeTrainingJob response', () => {
    assert.deepEqual(check(describeTrainingJob), []);
    assert.deepEqual(checkOutput(sagemaker, 'CreateTrainingJobResponse', { TrainingJobArn: describeTrainingJob.TrainingJobArn }), []);
  });

  it('finds missing required members at any depth', () => {
    const { TrainingJobStatus: _, ...withoutStatus } = describeTrainingJob;
    assert.deepEqual(check({ ...withoutStatus, ResourceConfig: { InstanceType: 'ml.m5.large' } }), [
      'ResourceConfig.VolumeSizeInGB: required member of ResourceConfig is missing',
      'TrainingJobStatus: required member of DescribeTrainingJobResponse is missing',
    ]);
  });

  it('finds members the shape does not declare, so typos do not pass', () => {
    assert.deepEqual(check({ ...describeTrainingJob, TrainingJobStatsu: 'Completed', ModelArtifacts: { S3ModelArtifact: 's3://x/y', S3ModelArtifacts: 's3://x/y' } }), [
      'ModelArtifacts.S3ModelArtifact: ModelArtifacts has no member S3ModelArtifact',
      'TrainingJobStatsu: DescribeTrainingJobResponse has no member TrainingJobStatsu',
    ]);
  });

  it('finds wrong JSON types: ISO timestamps, fractional integers, strings for numbers', () => {
    assert.deepEqual(
      check({
        ...describeTrainingJob,
        CreationTime: '2024-01-01T00:00:00Z',
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1.5, VolumeSizeInGB: '10' },
        FinalMetricDataList: [{ MetricName: 'test:loss', Value: '0.42' }],
      }),
      [
        'CreationTime: expected a timestamp in seconds since the epoch (a JSON number) but got the string "2024-01-01T00:00:00Z"',
        'FinalMetricDataList[0].Value: expected a number but got the string "0.42"',
        'ResourceConfig.InstanceCount: expected a 32-bit integer but got the number 1.5',
        'ResourceConfig.VolumeSizeInGB: expected a 32-bit integer but got the string "10"',
      ],
    );
  });

  it('finds enum values outside the set', () => {
    const problems = check({ ...describeTrainingJob, TrainingJobStatus: 'Done', AlgorithmSpecification: { TrainingInputMode: 'file' } });
    assert.equal(problems.length, 2);
    assert.match(problems[0], /^AlgorithmSpecification\.TrainingInputMode: "file" is not one of TrainingInputMode's values \[Pipe, File, FastFile\]$/);
    assert.match(problems[1], /^TrainingJobStatus: "Done" is not one of TrainingJobStatus's values \[InProgress, Completed, Failed, Stopping, Stopped\]$/);
  });

  it('finds null members, which a response leaves out instead', () => {
    assert.deepEqual(check({ ...describeTrainingJob, FailureReason: null, TrainingJobName: null, HyperParameters: { epochs: null } }), [
      'FailureReason: null (leave the member out instead)',
      'HyperParameters.epochs: null value',
      'TrainingJobName: null (a required member needs a value)',
    ]);
  });

  it('checks the top level itself', () => {
    assert.deepEqual(check([]), ['(top level): expected a structure (JSON object) but got a list']);
  });
});
