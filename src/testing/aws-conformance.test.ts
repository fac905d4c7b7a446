import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadServiceModel, type ServiceModel } from '../api/aws/service-model.ts';
import { formatViolations, validateInput } from '../api/aws/shape-validator.ts';
import { expectationMismatch, INVALID_ENUM_VALUE, mutationCases, type ConformanceCase } from './aws-conformance.ts';

const sagemaker = loadServiceModel('sagemaker');

const trainingJob = {
  TrainingJobName: 'dogs-1',
  AlgorithmSpecification: { TrainingImage: 'kennel/image-classifier', TrainingInputMode: 'File' },
  RoleArn: 'arn:aws:iam::000000000000:role/kennel-training',
  InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/train' } } }],
  OutputDataConfig: { S3OutputPath: 's3://bucket/output' },
  ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  HyperParameters: { 'learning-rate': '0.01' },
  Tags: [{ Key: 'project', Value: 'dogs' }],
};

const endpointConfig = {
  EndpointConfigName: 'dogs-config',
  ProductionVariants: [{ VariantName: 'primary', ModelName: 'dogs', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
};

const deleteTags = { ResourceArn: 'arn:aws:sagemaker:us-east-1:000000000000:model/dogs', TagKeys: ['project'] };

function expectations(cases: ConformanceCase[]): string[] {
  return cases.map((testCase) => `${testCase.expect.pathFragment} | ${testCase.expect.sdkPathFragment}`);
}

function find(cases: ConformanceCase[], description: string): ConformanceCase {
  const found = cases.find((testCase) => testCase.description === description);
  assert.ok(found, `no case "${description}" among:\n${cases.map((testCase) => testCase.description).join('\n')}`);
  return found;
}

/** Runs each case through the validator: the rejection must name the member where the case says. */
function assertCasesHold(model: ServiceModel, shapeName: string, cases: ConformanceCase[]): void {
  for (const testCase of cases) {
    const result = validateInput(model, shapeName, testCase.input);
    assert.ok(!result.ok && result.kind === 'validation', `${testCase.description}: expected a validation failure, got ${JSON.stringify(result)}`);
    const message = formatViolations(result.violations, result.violationCount);
    assert.equal(expectationMismatch(testCase.expect, { type: 'ValidationException', message }), undefined, testCase.description);
    assert.ok(
      result.violations.some((violation) => violation.path === testCase.expect.pathFragment && violation.sdkPath.startsWith(testCase.expect.sdkPathFragment)),
      `${testCase.description}: ${message}`,
    );
  }
}

describe('mutationCases', () => {
  const cases = mutationCases(sagemaker, 'CreateTrainingJob', trainingJob);

  it('removes each required member whose parent is present, at every depth', () => {
    const removals = cases.filter((testCase) => testCase.description.endsWith('(required)'));
    assert.deepEqual(expectations(removals).sort(), [
      'algorithmSpecification | AlgorithmSpecification',
      'algorithmSpecification.trainingInputMode | AlgorithmSpecification.TrainingInputMode',
      'inputDataConfig.1.member.channelName | InputDataConfig[0].ChannelName',
      'inputDataConfig.1.member.dataSource | InputDataConfig[0].DataSource',
      'inputDataConfig.1.member.dataSource.s3DataSource.s3DataType | InputDataConfig[0].DataSource.S3DataSource.S3DataType',
      'inputDataConfig.1.member.dataSource.s3DataSource.s3Uri | InputDataConfig[0].DataSource.S3DataSource.S3Uri',
      'outputDataConfig | OutputDataConfig',
      'outputDataConfig.s3OutputPath | OutputDataConfig.S3OutputPath',
      'resourceConfig | ResourceConfig',
      'resourceConfig.volumeSizeInGB | ResourceConfig.VolumeSizeInGB',
      'roleArn | RoleArn',
      'stoppingCondition | StoppingCondition',
      'tags.1.member.key | Tags[0].Key',
      'tags.1.member.value | Tags[0].Value',
      'trainingJobName | TrainingJobName',
    ]);
    const removal = find(cases, 'CreateTrainingJob without ResourceConfig.VolumeSizeInGB (required)');
    assert.deepEqual(removal.input, { ...trainingJob, ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1 } });
    assert.equal(removal.expect.code, 'ValidationException');
  });

  it('gives each enum string a value outside its set', () => {
    const testCase = find(cases, `CreateTrainingJob with ResourceConfig.InstanceType '${INVALID_ENUM_VALUE}' (not in its enum)`);
    assert.deepEqual(testCase.expect, { code: 'ValidationException', pathFragment: 'resourceConfig.instanceType', sdkPathFragment: 'ResourceConfig.InstanceType' });
    assert.equal((testCase.input as typeof trainingJob).ResourceConfig.InstanceType, INVALID_ENUM_VALUE);
    find(cases, `CreateTrainingJob with InputDataConfig[0].DataSource.S3DataSource.S3DataType '${INVALID_ENUM_VALUE}' (not in its enum)`);
  });

  it('makes each string with a maximum one character too long', () => {
    const name = find(cases, 'CreateTrainingJob with TrainingJobName one character longer than its maximum of 63');
    assert.equal((name.input as typeof trainingJob).TrainingJobName.length, 64);
    const value = find(cases, 'CreateTrainingJob with HyperParameters.learning-rate one character longer than its maximum of 2500');
    assert.deepEqual(value.expect, { code: 'ValidationException', pathFragment: 'hyperParameters', sdkPathFragment: 'HyperParameters.learning-rate' });
    const key = find(cases, 'CreateTrainingJob with a key of HyperParameters one character longer than its maximum of 256');
    assert.deepEqual(Object.keys((key.input as typeof trainingJob).HyperParameters).map((k) => k.length), [257]);
    assert.deepEqual(key.expect, { code: 'ValidationException', pathFragment: 'hyperParameters', sdkPathFragment: 'HyperParameters' });
  });

  it('empties each list that needs at least one element', () => {
    const variants = mutationCases(sagemaker, 'CreateEndpointConfig', endpointConfig);
    const empty = find(variants, 'CreateEndpointConfig with ProductionVariants empty (at least 1 required)');
    assert.deepEqual(empty.input, { ...endpointConfig, ProductionVariants: [] });
    assert.deepEqual(empty.expect, { code: 'ValidationException', pathFragment: 'productionVariants', sdkPathFragment: 'ProductionVariants' });
    assert.ok(!cases.some((testCase) => testCase.description.includes('Tags empty')), 'Tags may be empty');
  });

  it('expects scalar list elements to be reported at the list', () => {
    const tags = mutationCases(sagemaker, 'DeleteTags', deleteTags);
    const tooLong = find(tags, 'DeleteTags with TagKeys[0] one character longer than its maximum of 128');
    assert.deepEqual(tooLong.expect, { code: 'ValidationException', pathFragment: 'tagKeys', sdkPathFragment: 'TagKeys[0]' });
    find(tags, 'DeleteTags with TagKeys empty (at least 1 required)');
  });

  it('makes no case for members whose parent is absent', () => {
    assert.ok(!cases.some((testCase) => testCase.expect.sdkPathFragment.startsWith('VpcConfig')));
  });

  it('produces cases the validator rejects where they say', () => {
    assertCasesHold(sagemaker, 'CreateTrainingJobRequest', cases);
    assertCasesHold(sagemaker, 'CreateEndpointConfigInput', mutationCases(sagemaker, 'CreateEndpointConfig', endpointConfig));
    assertCasesHold(sagemaker, 'DeleteTagsInput', mutationCases(sagemaker, 'DeleteTags', deleteTags));
    assert.ok(cases.length >= 25, `${cases.length} cases`);
  });

  it('leaves the valid input alone', () => {
    const input = structuredClone(trainingJob);
    mutationCases(sagemaker, 'CreateTrainingJob', input);
    assert.deepEqual(input, trainingJob);
  });

  it('refuses a "valid" input that is not', () => {
    assert.throws(() => mutationCases(sagemaker, 'CreateTrainingJob', { ...trainingJob, TrainingJobName: 'dogs_1' }), /not valid: 1 validation error detected/);
  });

  it('walks structured map values at <map>.<key>.member', () => {
    const model: ServiceModel = {
      metadata: { apiVersion: '2024-01-01', endpointPrefix: 'test', protocol: 'json', serviceId: 'Test' },
      operations: { Put: { name: 'Put', input: { shape: 'PutInput' } } },
      shapes: {
        PutInput: { type: 'structure', members: { Things: { shape: 'ThingMap' } } },
        ThingMap: { type: 'map', key: { shape: 'Key' }, value: { shape: 'Thing' } },
        Key: { type: 'string', enum: ['abc', 'def'] },
        Thing: { type: 'structure', required: ['Name'], members: { Name: { shape: 'Name' } } },
        Name: { type: 'string', max: 3 },
      },
    };
    const synthetic = mutationCases(model, 'Put', { Things: { abc: { Name: 'x' } } });
    assert.deepEqual(expectations(synthetic), ['things | Things', 'things.abc.member.name | Things.abc.Name', 'things.abc.member.name | Things.abc.Name']);
    assertCasesHold(model, 'PutInput', synthetic);
  });
});

describe('expectationMismatch', () => {
  const expect = { code: 'ValidationException', pathFragment: 'trainingJobName', sdkPathFragment: 'TrainingJobName' } as const;
  const message = "1 validation error detected: Value null at 'trainingJobName' failed to satisfy constraint: Member must not be null (in SDK terms: TrainingJobName)";

  it('accepts the error type with or without a namespace', () => {
    assert.equal(expectationMismatch(expect, { type: 'ValidationException', message }), undefined);
    assert.equal(expectationMismatch(expect, { type: 'com.amazonaws.sagemaker#ValidationException', message }), undefined);
  });

  it('says what is missing', () => {
    assert.match(expectationMismatch(expect, { type: 'SerializationException', message }) ?? '', /expected a ValidationException but got SerializationException/);
    assert.match(expectationMismatch(expect, { type: 'ValidationException', message: 'Invalid input' }) ?? '', /does not name 'trainingJobName'/);
    assert.match(
      expectationMismatch(expect, { type: 'ValidationException', message: "Value null at 'trainingJobName' failed" }) ?? '',
      /does not name TrainingJobName/,
    );
  });
});
