import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getShape, loadServiceModel, type ServiceModel } from './service-model.ts';
import {
  formatViolations,
  MAX_REPORTED_VIOLATIONS,
  validateInput,
  type InputValidation,
  type ShapeViolation,
} from './shape-validator.ts';

const sagemaker = loadServiceModel('sagemaker');

const trainingJob = {
  TrainingJobName: 'dog-breeds-1',
  AlgorithmSpecification: { TrainingImage: 'kennel/image-classifier', TrainingInputMode: 'File' },
  RoleArn: 'arn:aws:iam::000000000000:role/kennel-training',
  InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/train' } } }],
  OutputDataConfig: { S3OutputPath: 's3://sagemaker-us-east-1-000000000000/output' },
  ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  HyperParameters: { 'learning-rate': '0.01', 'batch-size': '64' },
  Environment: { LOG_LEVEL: 'info' },
  Tags: [{ Key: 'project', Value: 'dog breeds' }],
};

const endpointConfig = {
  EndpointConfigName: 'dogs-config',
  ProductionVariants: [
    { VariantName: 'primary', ModelName: 'dogs', InitialInstanceCount: 1, InstanceType: 'ml.m5.large', InitialVariantWeight: 1 },
  ],
};

function trainingJobWith(changes: Record<string, unknown>): Record<string, unknown> {
  return { ...structuredClone(trainingJob), ...changes };
}

function violationsOf(result: InputValidation): ShapeViolation[] {
  assert.equal(result.ok, false, 'expected the input to be rejected');
  assert.ok(!result.ok && result.kind === 'validation', `expected a validation failure, got ${JSON.stringify(result)}`);
  return result.violations;
}

function serializationMessage(result: InputValidation): string {
  assert.ok(!result.ok && result.kind === 'serialization', `expected a serialization failure, got ${JSON.stringify(result)}`);
  return result.message;
}

function message(result: InputValidation): string {
  assert.ok(!result.ok && result.kind === 'validation');
  return formatViolations(result.violations, result.violationCount);
}

const validateTrainingJob = (input: unknown, options = {}) => validateInput(sagemaker, 'CreateTrainingJobRequest', input, options);

describe('validateInput against the SageMaker model', () => {
  it('accepts a complete CreateTrainingJob request', () => {
    assert.deepEqual(validateTrainingJob(trainingJob), { ok: true });
    assert.deepEqual(validateInput(sagemaker, 'CreateEndpointConfigInput', endpointConfig), { ok: true });
  });

  it('reports a missing required member as AWS does', () => {
    const { TrainingJobName: _, ...input } = trainingJob;
    const result = validateTrainingJob(input);
    assert.deepEqual(violationsOf(result), [{ path: 'trainingJobName', sdkPath: 'TrainingJobName', value: null, constraint: 'Member must not be null' }]);
    assert.equal(
      message(result),
      "1 validation error detected: Value null at 'trainingJobName' failed to satisfy constraint: Member must not be null (in SDK terms: TrainingJobName)",
    );
  });

  it('treats JSON null as not set', () => {
    assert.deepEqual(violationsOf(validateTrainingJob(trainingJobWith({ TrainingJobName: null })))[0].constraint, 'Member must not be null');
    assert.deepEqual(validateTrainingJob(trainingJobWith({ VpcConfig: null, Tags: null, HyperParameters: null })), { ok: true });
  });

  it('matches patterns against the whole value, as Java does, even without a $', () => {
    const result = validateTrainingJob(trainingJobWith({ TrainingJobName: 'dog_breeds' }));
    assert.deepEqual(violationsOf(result), [
      {
        path: 'trainingJobName',
        sdkPath: 'TrainingJobName',
        value: 'dog_breeds',
        constraint: 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}',
      },
    ]);
    assert.match(message(result), /^1 validation error detected: Value 'dog_breeds' at 'trainingJobName' failed to satisfy constraint: /);
  });

  it('reports every constraint a value breaks', () => {
    const name = 'a'.repeat(64);
    const result = validateTrainingJob(trainingJobWith({ TrainingJobName: name }));
    assert.deepEqual(
      violationsOf(result).map((violation) => violation.constraint),
      ['Member must have length less than or equal to 63', 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}'],
    );
    assert.match(message(result), /^2 validation errors detected: Value 'a{64}' at 'trainingJobName' .*; Value 'a{64}' at 'trainingJobName' /);
    assert.deepEqual(validateTrainingJob(trainingJobWith({ TrainingJobName: 'a'.repeat(63) })), { ok: true });
  });

  it('names the enum values of a nested member', () => {
    const result = validateTrainingJob(trainingJobWith({ ResourceConfig: { InstanceType: 'ml.nope', VolumeSizeInGB: 10 } }));
    const [violation] = violationsOf(result);
    assert.equal(violation.path, 'resourceConfig.instanceType');
    assert.equal(violation.sdkPath, 'ResourceConfig.InstanceType');
    const values = (getShape(sagemaker, 'TrainingInstanceType') as { enum: string[] }).enum;
    assert.equal(violation.constraint, `Member must satisfy enum value set: [${values.join(', ')}]`);
    assert.match(message(result), /Value 'ml.nope' at 'resourceConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set: \[ml\.m4\.xlarge, /);
  });

  it('reports a too-long map value once, at the map, naming its constraints', () => {
    const result = validateTrainingJob(trainingJobWith({ HyperParameters: { epochs: '5', notes: 'x'.repeat(2501) } }));
    assert.deepEqual(
      violationsOf(result).map(({ path, sdkPath, constraint }) => ({ path, sdkPath, constraint })),
      [
        {
          path: 'hyperParameters',
          sdkPath: 'HyperParameters.notes',
          constraint: 'Map value must satisfy constraint: [Member must have length less than or equal to 2500, Member must satisfy regular expression pattern: .*]',
        },
      ],
    );
    const text = message(result);
    assert.match(text, /^1 validation error detected: Value '\{epochs=5, notes=x+\.\.\.' at 'hyperParameters' failed/);
    assert.ok(text.length < 600, 'a huge value is not echoed whole');
    assert.match(text, /\(in SDK terms: HyperParameters\.notes\)$/);
  });

  it('reports map keys that break the key shape', () => {
    const [violation] = violationsOf(validateTrainingJob(trainingJobWith({ Environment: { LOG_LEVEL: 'info', '1BAD': 'x' } })));
    assert.deepEqual(violation, {
      path: 'environment',
      sdkPath: 'Environment (key: 1BAD)',
      value: { LOG_LEVEL: 'info', '1BAD': 'x' },
      constraint: 'Map keys must satisfy constraint: [Member must have length less than or equal to 512, Member must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*]',
    });
  });

  it('checks the number of entries of a map', () => {
    const environment = Object.fromEntries(Array.from({ length: 49 }, (_, index) => [`VAR_${index}`, 'x']));
    const [violation] = violationsOf(validateTrainingJob(trainingJobWith({ Environment: environment })));
    assert.equal(violation.path, 'environment');
    assert.equal(violation.constraint, 'Member must have length less than or equal to 48');
  });

  it('rejects an empty list where the model wants at least one element', () => {
    const result = validateInput(sagemaker, 'CreateEndpointConfigInput', { ...endpointConfig, ProductionVariants: [] });
    assert.deepEqual(violationsOf(result), [
      { path: 'productionVariants', sdkPath: 'ProductionVariants', value: [], constraint: 'Member must have length greater than or equal to 1' },
    ]);
    assert.equal(
      message(result),
      "1 validation error detected: Value '[]' at 'productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1 (in SDK terms: ProductionVariants)",
    );
  });

  it('numbers list elements from 1 with .member, and the SDK path from 0', () => {
    const variants = [{ VariantName: 'a', ModelName: 'dogs' }, { VariantName: 'b', InstanceType: 'local' }];
    const result = validateInput(sagemaker, 'CreateEndpointConfigInput', { ...endpointConfig, ProductionVariants: variants });
    assert.deepEqual(
      violationsOf(result).map(({ path, sdkPath }) => [path, sdkPath]),
      [
        ['productionVariants.2.member.instanceType', 'ProductionVariants[1].InstanceType'],
        ['productionVariants.2.member.modelName', 'ProductionVariants[1].ModelName'],
      ],
    );
    assert.match(message(result), /\(in SDK terms: ProductionVariants\[1\]\.InstanceType, ProductionVariants\[1\]\.ModelName\)$/);
  });

  it('reports scalar list elements once, at the list, listing every element constraint', () => {
    const result = validateInput(sagemaker, 'DeleteTagsInput', { ResourceArn: 'arn:aws:sagemaker:us-east-1:000000000000:model/dogs', TagKeys: ['ok', 'bad|key', 'also|bad'] });
    assert.deepEqual(violationsOf(result), [
      {
        path: 'tagKeys',
        sdkPath: 'TagKeys[1]',
        value: ['ok', 'bad|key', 'also|bad'],
        constraint:
          'Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, ' +
          'Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]',
      },
    ]);
    assert.match(message(result), /Value '\[ok, bad\|key, also\|bad\]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: \[/);
  });

  it('checks integer ranges and prints numbers in quotes, as AWS does', () => {
    const tooSmall = validateInput(sagemaker, 'ListTrainingJobsRequest', { MaxResults: 0 });
    assert.equal(
      message(tooSmall),
      "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1 (in SDK terms: MaxResults)",
    );
    assert.equal(violationsOf(validateInput(sagemaker, 'ListTrainingJobsRequest', { MaxResults: 101 }))[0].constraint, 'Member must have value less than or equal to 100');
    assert.deepEqual(validateInput(sagemaker, 'ListTrainingJobsRequest', { MaxResults: 100 }), { ok: true });
  });

  it('prints the bounds of float members as Java doubles', () => {
    const variants = [{ VariantName: 'a', ModelName: 'dogs', InitialVariantWeight: -0.5 }];
    const [violation] = violationsOf(validateInput(sagemaker, 'CreateEndpointConfigInput', { ...endpointConfig, ProductionVariants: variants }));
    assert.equal(violation.path, 'productionVariants.1.member.initialVariantWeight');
    assert.equal(violation.constraint, 'Member must have value greater than or equal to 0.0');
  });

  it('ignores members the shape does not declare, at any depth', () => {
    const input = trainingJobWith({ NotAMember: { anything: [1, 2] }, ResourceConfig: { ...trainingJob.ResourceConfig, Typo: 'x' } });
    assert.deepEqual(validateTrainingJob(input), { ok: true });
  });

  it('turns a value of the wrong JSON type into a serialization failure naming the member', () => {
    const cases: [unknown, RegExp][] = [
      [trainingJobWith({ ResourceConfig: 'ml.m5.large' }), /^Cannot read ResourceConfig: expected a structure \(JSON object\) but got the string "ml\.m5\.large"\.$/],
      [trainingJobWith({ ResourceConfig: { ...trainingJob.ResourceConfig, InstanceCount: 1.5 } }), /ResourceConfig\.InstanceCount: expected a 32-bit integer but got the number 1\.5/],
      [trainingJobWith({ ResourceConfig: { ...trainingJob.ResourceConfig, InstanceCount: '1' } }), /ResourceConfig\.InstanceCount: expected a 32-bit integer but got the string "1"/],
      [trainingJobWith({ ResourceConfig: { ...trainingJob.ResourceConfig, InstanceCount: 2 ** 31 } }), /ResourceConfig\.InstanceCount: expected a 32-bit integer/],
      [trainingJobWith({ TrainingJobName: 7 }), /TrainingJobName: expected a string but got the number 7/],
      [trainingJobWith({ EnableNetworkIsolation: 'true' }), /EnableNetworkIsolation: expected a boolean but got the string "true"/],
      [trainingJobWith({ InputDataConfig: { ChannelName: 'train' } }), /InputDataConfig: expected a list \(JSON array\) but got an object/],
      [trainingJobWith({ HyperParameters: [['lr', '0.1']] }), /HyperParameters: expected a map \(JSON object\) but got a list/],
      [trainingJobWith({ HyperParameters: { lr: 0.1 } }), /HyperParameters\.lr: expected a string but got the number 0\.1/],
      [trainingJobWith({ Tags: [{ Key: 'a', Value: 'b' }, 'c'] }), /Tags\[1\]: expected a structure/],
      [[trainingJob], /^Cannot read the request body: expected a structure \(JSON object\) but got a list\.$/],
    ];
    for (const [input, expected] of cases) assert.match(serializationMessage(validateTrainingJob(input)), expected);
  });

  it('takes a serialization failure over any validation failure', () => {
    const result = validateTrainingJob(trainingJobWith({ TrainingJobName: null, RoleArn: 'x', ResourceConfig: [] }));
    assert.deepEqual(result, {
      ok: false,
      kind: 'serialization',
      message: 'Cannot read ResourceConfig: expected a structure (JSON object) but got a list.',
      sdkPath: 'ResourceConfig',
    });
  });

  it('reads JSON 1.1 timestamps as epoch seconds and refuses strings', () => {
    assert.deepEqual(validateInput(sagemaker, 'ListTrainingJobsRequest', { CreationTimeAfter: 1_700_000_000.5 }), { ok: true });
    assert.match(
      serializationMessage(validateInput(sagemaker, 'ListTrainingJobsRequest', { CreationTimeAfter: '2024-01-01T00:00:00Z' })),
      /CreationTimeAfter: expected a timestamp in seconds since the epoch \(a JSON number\)/,
    );
  });

  it('treats an empty body as an input with nothing set', () => {
    assert.deepEqual(validateInput(sagemaker, 'ListTrainingJobsRequest', undefined), { ok: true });
    assert.deepEqual(
      violationsOf(validateTrainingJob(null)).map((violation) => violation.path),
      ['algorithmSpecification', 'outputDataConfig', 'resourceConfig', 'roleArn', 'stoppingCondition', 'trainingJobName'],
    );
  });

  it(`lists at most ${MAX_REPORTED_VIOLATIONS} violations and says how many more there are`, () => {
    const result = validateInput(sagemaker, 'AddTagsInput', { ResourceArn: 'arn:aws:sagemaker:us-east-1:000000000000:model/dogs', Tags: Array(12).fill({}) });
    assert.ok(!result.ok && result.kind === 'validation');
    assert.equal(result.violationCount, 24);
    assert.equal(result.violations.length, MAX_REPORTED_VIOLATIONS);
    assert.deepEqual(result.violations[0], { path: 'tags.1.member.key', sdkPath: 'Tags[0].Key', value: null, constraint: 'Member must not be null' });
    assert.match(message(result), /^24 validation errors detected: Value null at 'tags\.1\.member\.key' .*; and 14 more \(in SDK terms: Tags\[0\]\.Key, Tags\[0\]\.Value, /);
  });

  it('lets a caller widen the pattern of a shape', () => {
    const input = trainingJobWith({ OutputDataConfig: { S3OutputPath: 'file:///var/kennel/output' } });
    const [violation] = violationsOf(validateTrainingJob(input));
    assert.equal(violation.sdkPath, 'OutputDataConfig.S3OutputPath');
    assert.equal(violation.constraint, 'Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$');
    const widened = '^(https|s3|file)://([^/]*)/?(.*)$';
    assert.deepEqual(validateTrainingJob(input, { overrides: { S3Uri: { pattern: widened } } }), { ok: true });
    const refused = violationsOf(validateTrainingJob(trainingJobWith({ OutputDataConfig: { S3OutputPath: 'ftp://x/y' } }), { overrides: { S3Uri: { pattern: widened } } }));
    assert.equal(refused[0].constraint, `Member must satisfy regular expression pattern: ${widened}`);
  });
});

/** Edge cases the SageMaker subset does not have: unions, blobs, longs, maps of structures, lists of lists. */
const synthetic: ServiceModel = {
  metadata: { apiVersion: '2024-01-01', endpointPrefix: 'test', protocol: 'json', serviceId: 'Test' },
  operations: { Do: { name: 'Do', input: { shape: 'DoInput' } } },
  shapes: {
    DoInput: {
      type: 'structure',
      members: {
        Choice: { shape: 'Choice' },
        Data: { shape: 'Data' },
        Big: { shape: 'Big' },
        Ratio: { shape: 'Ratio' },
        Things: { shape: 'ThingMap' },
        Grid: { shape: 'Grid' },
        When: { shape: 'When' },
        WhenText: { shape: 'When', timestampFormat: 'iso8601' },
        Names: { shape: 'NameList' },
      },
    },
    Choice: { type: 'structure', union: true, members: { Count: { shape: 'Count' }, Name: { shape: 'Name' } } },
    Name: { type: 'string', min: 1, max: 5, pattern: '[a-z]+' },
    Count: { type: 'integer', min: 1, max: 10 },
    Data: { type: 'blob', min: 1, max: 4 },
    Big: { type: 'long', min: 0 },
    Ratio: { type: 'double', min: 0, max: 1 },
    ThingMap: { type: 'map', key: { shape: 'Name' }, value: { shape: 'Thing' }, max: 2 },
    Thing: { type: 'structure', required: ['Name'], members: { Name: { shape: 'Name' } } },
    Grid: { type: 'list', member: { shape: 'Row' } },
    Row: { type: 'list', member: { shape: 'Count' }, min: 1 },
    When: { type: 'timestamp' },
    NameList: { type: 'list', member: { shape: 'Name' }, max: 3 },
  },
};
const validateSynthetic = (input: unknown) => validateInput(synthetic, 'DoInput', input);

describe('validateInput edge cases', () => {
  it('requires exactly one member of a union', () => {
    assert.deepEqual(validateSynthetic({ Choice: { Name: 'abc' } }), { ok: true });
    assert.deepEqual(validateSynthetic({ Choice: { Name: 'abc', Count: null } }), { ok: true });
    assert.deepEqual(violationsOf(validateSynthetic({ Choice: { Count: 2, Name: 'abc' } })), [
      { path: 'choice.name', sdkPath: 'Choice.Name', value: 'abc', constraint: "Union member conflicts with 'Count'" },
    ]);
    assert.deepEqual(violationsOf(validateSynthetic({ Choice: {} })), [{ path: 'choice', sdkPath: 'Choice', value: {}, constraint: 'No member is set in the union' }]);
  });

  it('reads blobs as base64 and counts their length in bytes', () => {
    assert.deepEqual(validateSynthetic({ Data: Buffer.from('abcd').toString('base64') }), { ok: true });
    assert.equal(violationsOf(validateSynthetic({ Data: Buffer.from('abcde').toString('base64') }))[0].constraint, 'Member must have length less than or equal to 4');
    assert.match(serializationMessage(validateSynthetic({ Data: 'not base64!' })), /Data: expected base64-encoded bytes/);
  });

  it('accepts any safe integer for a long and any number for a double', () => {
    assert.deepEqual(validateSynthetic({ Big: 2 ** 40, Ratio: 0.25 }), { ok: true });
    assert.match(serializationMessage(validateSynthetic({ Big: 1.5 })), /Big: expected an integer/);
    assert.equal(violationsOf(validateSynthetic({ Ratio: 2 }))[0].constraint, 'Member must have value less than or equal to 1.0');
  });

  it('walks structured map values at <map>.<key>.member', () => {
    assert.deepEqual(violationsOf(validateSynthetic({ Things: { abc: {} } })), [
      { path: 'things.abc.member.name', sdkPath: 'Things.abc.Name', value: null, constraint: 'Member must not be null' },
    ]);
    assert.equal(violationsOf(validateSynthetic({ Things: { a: { Name: 'a' }, b: { Name: 'b' }, c: { Name: 'c' } } }))[0].constraint, 'Member must have length less than or equal to 2');
  });

  it('walks lists of lists, reporting scalar elements at the inner list', () => {
    assert.deepEqual(violationsOf(validateSynthetic({ Grid: [[1, 2], [3, 11]] })), [
      {
        path: 'grid.2.member',
        sdkPath: 'Grid[1][1]',
        value: [3, 11],
        constraint: 'Member must satisfy constraint: [Member must have value less than or equal to 10, Member must have value greater than or equal to 1]',
      },
    ]);
    assert.equal(violationsOf(validateSynthetic({ Grid: [[]] }))[0].path, 'grid.1.member');
  });

  it('reports a null list element where it is', () => {
    assert.deepEqual(violationsOf(validateSynthetic({ Names: ['abc', null] })), [{ path: 'names.2.member', sdkPath: 'Names[1]', value: null, constraint: 'Member must not be null' }]);
  });

  it('reads a timestamp with a string format as a date string', () => {
    assert.deepEqual(validateSynthetic({ When: 0, WhenText: '2024-05-01T12:00:00Z' }), { ok: true });
    assert.match(serializationMessage(validateSynthetic({ WhenText: 12 })), /WhenText: expected a timestamp string/);
    assert.match(serializationMessage(validateSynthetic({ When: true })), /When: expected a timestamp in seconds/);
  });
});

describe('formatViolations', () => {
  it('renders values as Coral does and lists each SDK path once', () => {
    const violations: ShapeViolation[] = [
      { path: 'a', sdkPath: 'A', value: 5, constraint: 'c1' },
      { path: 'a', sdkPath: 'A', value: true, constraint: 'c2' },
      { path: 'b', sdkPath: 'B', value: { k: ['x', 'y'], n: null }, constraint: 'c3' },
      { path: '', sdkPath: '', value: null, constraint: 'c4' },
    ];
    assert.equal(
      formatViolations(violations),
      "4 validation errors detected: Value '5' at 'a' failed to satisfy constraint: c1; Value 'true' at 'a' failed to satisfy constraint: c2; " +
        "Value '{k=[x, y], n=null}' at 'b' failed to satisfy constraint: c3; Value null at '' failed to satisfy constraint: c4 " +
        '(in SDK terms: A, B, (the request))',
    );
  });
});
