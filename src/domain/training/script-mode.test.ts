import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { assertDomainError } from '../../testing/assert-domain-error.ts';
import {
  FAILURE_REASON_MAX_LENGTH,
  failureReason,
  inputDataConfig,
  resolveFrameworkImage,
  resourceConfig,
  scriptArguments,
  scriptEnvironment,
  scriptModeSettings,
  type FrameworkImage,
  type ScriptJob,
  type ScriptPaths,
} from './script-mode.ts';

const PYTORCH: FrameworkImage = { framework: 'pytorch', interpreter: 'python' };
const PYTHON: FrameworkImage = { framework: 'python', interpreter: 'python' };
const NODE: FrameworkImage = { framework: 'node', interpreter: 'node' };

function refusal(action: () => unknown, message: RegExp, field?: string): void {
  assertDomainError(action, 'ValidationError', { message, ...(field !== undefined ? { field } : {}) });
}

describe('resolveFrameworkImage', () => {
  const cases: [string, FrameworkImage | undefined][] = [
    ['763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:1.13.1-cpu-py39', PYTORCH],
    ['763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.0.0-gpu-py310-cu118-ubuntu20.04-sagemaker', PYTORCH],
    ['123456789012.dkr.ecr.ap-south-1.amazonaws.com/tensorflow-training:2.11.0-cpu-py39', { framework: 'tensorflow', interpreter: 'python' }],
    ['pytorch-training', PYTORCH],
    ['pytorch-training:1.13.1-cpu-py39', PYTORCH],
    ['pytorch-training@sha256:0123abcd', PYTORCH],
    ['tensorflow-training:2.11.0-cpu-py39', { framework: 'tensorflow', interpreter: 'python' }],
    ['kennel/python:3', PYTHON],
    ['kennel/python:3.11', PYTHON],
    ['kennel/python', PYTHON],
    ['localhost:5000/kennel/python:3', PYTHON],
    ['kennel/node:20', NODE],
    ['kennel/node', NODE],
    ['763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:1.13.1-cpu-py39', undefined],
    ['tensorflow-inference:2.11.0-cpu', undefined],
    ['kennel/image-classifier:latest', undefined],
    ['team/pytorch-training:1', undefined],
    ['PyTorch-Training:1', undefined],
    ['python:3', undefined],
    ['', undefined],
  ];
  for (const [image, expected] of cases) {
    it(`${JSON.stringify(image)} → ${expected?.framework ?? 'not a framework image'}`, () => {
      assert.deepEqual(resolveFrameworkImage(image), expected);
    });
  }
});

/** Hyperparameters as the SageMaker Python SDK sends them: every value json.dumps-ed. */
const SDK_HYPERPARAMETERS: Record<string, string> = {
  learning_rate: '0.01',
  batch_size: '"64"',
  epochs: '10',
  sagemaker_program: '"hpo.py"',
  sagemaker_submit_directory: '"s3://sagemaker-us-east-1-000000000000/hpo-1/source/sourcedir.tar.gz"',
  sagemaker_region: '"us-east-1"',
  sagemaker_container_log_level: '20',
  sagemaker_job_name: '"hpo-1"',
  _tuning_objective_metric: '"Testing Loss"',
  sagemaker_mpi_enabled: 'true',
};

describe('scriptArguments', () => {
  it('passes every user hyperparameter as --name value in sorted order, and none of the toolkit’s', () => {
    assert.deepEqual(scriptArguments(SDK_HYPERPARAMETERS), ['--batch_size', '64', '--epochs', '10', '--learning_rate', '0.01']);
  });

  it('prints values as the toolkit does, with Python’s str() (checked against the toolkit’s mapping.to_cmd_args)', () => {
    const hyperParameters = {
      a: 'x',
      flag: 'true',
      nothing: 'null',
      ratio: '1.0',
      tiny: '1e-05',
      big: '1e16',
      k: '1e15',
      small: '0.0001',
      huge: '123456789012345680.0',
      neg: '-0.0',
      nan: 'NaN',
      bigint: '12345678901234567890',
      obj: '{"b": 2, "a": "x"}',
      list: '["a", 1, true, null, 0.5, "it\'s"]',
      word: 'café',
    };
    assert.deepEqual(scriptArguments(hyperParameters), [
      '-a', 'x',
      '--big', '1e+16',
      '--bigint', '12345678901234567890',
      '--flag', 'True',
      '--huge', '1.2345678901234568e+17',
      '-k', '1000000000000000.0',
      '--list', `['a', 1, True, None, 0.5, "it's"]`,
      '--nan', 'nan',
      '--neg', '-0.0',
      '--nothing', '',
      '--obj', 'a=x,b=2',
      '--ratio', '1.0',
      '--small', '0.0001',
      '--tiny', '1e-05',
      '--word', 'café',
    ]);
  });

  it('keeps text that is not JSON as it is', () => {
    assert.deepEqual(scriptArguments({ mode: 'fast', path: '/data/x', half: '{"a": ', spaced: ' 7 ' }), [
      '--half', '{"a": ',
      '--mode', 'fast',
      '--path', '/data/x',
      '--spaced', '7',
    ]);
  });

  it('sorts names by code point, as Python does', () => {
    assert.deepEqual(scriptArguments({ 'b\u{1F600}': '1', 'b\uFFFD': '2', B: '3' }).filter((_, i) => i % 2 === 0), ['-B', '--b\uFFFD', '--b\u{1F600}']);
  });
});

const PATHS: ScriptPaths = {
  inputDir: '/jobs/hpo-1/input',
  inputConfigDir: '/jobs/hpo-1/input/config',
  inputDataDir: '/jobs/hpo-1/input/data',
  modelDir: '/jobs/hpo-1/model',
  outputDir: '/jobs/hpo-1/output',
  outputDataDir: '/jobs/hpo-1/output/data',
  outputIntermediateDir: '/jobs/hpo-1/output/intermediate',
  failureFile: '/jobs/hpo-1/output/failure',
  codeDir: '/jobs/hpo-1/code',
};

const JOB: ScriptJob = {
  jobName: 'hpo-1',
  jobArn: 'arn:aws:sagemaker:us-east-1:000000000000:training-job/hpo-1',
  region: 'us-east-1',
  image: PYTORCH,
  hyperParameters: SDK_HYPERPARAMETERS,
  channels: {
    training: { path: '/jobs/hpo-1/input/data/training' },
    test: { path: '/jobs/hpo-1/input/data/test', contentType: 'application/x-image' },
  },
  paths: PATHS,
  instanceType: 'ml.m5.large',
  numCpus: 2,
};

describe('scriptEnvironment', () => {
  const env = scriptEnvironment(JOB);

  it('sets the variables scripts read, printed as the toolkit prints them', () => {
    assert.deepEqual(
      {
        SM_HPS: env.SM_HPS,
        SM_HP_LEARNING_RATE: env.SM_HP_LEARNING_RATE,
        SM_HP_BATCH_SIZE: env.SM_HP_BATCH_SIZE,
        SM_HP_EPOCHS: env.SM_HP_EPOCHS,
        SM_USER_ARGS: env.SM_USER_ARGS,
        SM_CHANNELS: env.SM_CHANNELS,
        SM_CHANNEL_TRAINING: env.SM_CHANNEL_TRAINING,
        SM_CHANNEL_TEST: env.SM_CHANNEL_TEST,
        SM_MODEL_DIR: env.SM_MODEL_DIR,
        SM_OUTPUT_DATA_DIR: env.SM_OUTPUT_DATA_DIR,
        SM_OUTPUT_DIR: env.SM_OUTPUT_DIR,
        SM_OUTPUT_INTERMEDIATE_DIR: env.SM_OUTPUT_INTERMEDIATE_DIR,
        SM_INPUT_DIR: env.SM_INPUT_DIR,
        SM_INPUT_CONFIG_DIR: env.SM_INPUT_CONFIG_DIR,
        SM_NUM_CPUS: env.SM_NUM_CPUS,
        SM_NUM_GPUS: env.SM_NUM_GPUS,
        SM_NUM_NEURONS: env.SM_NUM_NEURONS,
        SM_HOSTS: env.SM_HOSTS,
        SM_CURRENT_HOST: env.SM_CURRENT_HOST,
        SM_CURRENT_INSTANCE_TYPE: env.SM_CURRENT_INSTANCE_TYPE,
        SM_CURRENT_INSTANCE_GROUP: env.SM_CURRENT_INSTANCE_GROUP,
        SM_CURRENT_INSTANCE_GROUP_HOSTS: env.SM_CURRENT_INSTANCE_GROUP_HOSTS,
        SM_INSTANCE_GROUPS: env.SM_INSTANCE_GROUPS,
        SM_INSTANCE_GROUPS_DICT: env.SM_INSTANCE_GROUPS_DICT,
        SM_DISTRIBUTION_INSTANCE_GROUPS: env.SM_DISTRIBUTION_INSTANCE_GROUPS,
        SM_IS_HETERO: env.SM_IS_HETERO,
        SM_NETWORK_INTERFACE_NAME: env.SM_NETWORK_INTERFACE_NAME,
        SM_MODULE_NAME: env.SM_MODULE_NAME,
        SM_MODULE_DIR: env.SM_MODULE_DIR,
        SM_USER_ENTRY_POINT: env.SM_USER_ENTRY_POINT,
        SM_FRAMEWORK_MODULE: env.SM_FRAMEWORK_MODULE,
        SM_FRAMEWORK_PARAMS: env.SM_FRAMEWORK_PARAMS,
        SM_LOG_LEVEL: env.SM_LOG_LEVEL,
        SM_RESOURCE_CONFIG: env.SM_RESOURCE_CONFIG,
        SM_INPUT_DATA_CONFIG: env.SM_INPUT_DATA_CONFIG,
        TRAINING_JOB_NAME: env.TRAINING_JOB_NAME,
        TRAINING_JOB_ARN: env.TRAINING_JOB_ARN,
        CURRENT_HOST: env.CURRENT_HOST,
        SAGEMAKER_JOB_NAME: env.SAGEMAKER_JOB_NAME,
        SAGEMAKER_REGION: env.SAGEMAKER_REGION,
        SAGEMAKER_TRAINING_MODULE: env.SAGEMAKER_TRAINING_MODULE,
        PYTHONPATH: env.PYTHONPATH,
      },
      {
        SM_HPS: '{"batch_size":"64","epochs":10,"learning_rate":0.01}',
        SM_HP_LEARNING_RATE: '0.01',
        SM_HP_BATCH_SIZE: '64',
        SM_HP_EPOCHS: '10',
        SM_USER_ARGS: '["--batch_size","64","--epochs","10","--learning_rate","0.01"]',
        SM_CHANNELS: '["test","training"]',
        SM_CHANNEL_TRAINING: '/jobs/hpo-1/input/data/training',
        SM_CHANNEL_TEST: '/jobs/hpo-1/input/data/test',
        SM_MODEL_DIR: '/jobs/hpo-1/model',
        SM_OUTPUT_DATA_DIR: '/jobs/hpo-1/output/data',
        SM_OUTPUT_DIR: '/jobs/hpo-1/output',
        SM_OUTPUT_INTERMEDIATE_DIR: '/jobs/hpo-1/output/intermediate',
        SM_INPUT_DIR: '/jobs/hpo-1/input',
        SM_INPUT_CONFIG_DIR: '/jobs/hpo-1/input/config',
        SM_NUM_CPUS: '2',
        SM_NUM_GPUS: '0',
        SM_NUM_NEURONS: '0',
        SM_HOSTS: '["algo-1"]',
        SM_CURRENT_HOST: 'algo-1',
        SM_CURRENT_INSTANCE_TYPE: 'ml.m5.large',
        SM_CURRENT_INSTANCE_GROUP: 'homogeneousCluster',
        SM_CURRENT_INSTANCE_GROUP_HOSTS: '["algo-1"]',
        SM_INSTANCE_GROUPS: '["homogeneousCluster"]',
        SM_INSTANCE_GROUPS_DICT: '{"homogeneousCluster":{"hosts":["algo-1"],"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.large"}}',
        SM_DISTRIBUTION_INSTANCE_GROUPS: '[]',
        SM_IS_HETERO: 'false',
        SM_NETWORK_INTERFACE_NAME: 'eth0',
        SM_MODULE_NAME: 'hpo',
        SM_MODULE_DIR: 's3://sagemaker-us-east-1-000000000000/hpo-1/source/sourcedir.tar.gz',
        SM_USER_ENTRY_POINT: 'hpo.py',
        SM_FRAMEWORK_MODULE: 'sagemaker_pytorch_container.training:main',
        SM_FRAMEWORK_PARAMS: '{"sagemaker_mpi_enabled":true}',
        SM_LOG_LEVEL: '20',
        SM_RESOURCE_CONFIG:
          '{"current_group_name":"homogeneousCluster","current_host":"algo-1","current_instance_type":"ml.m5.large","hosts":["algo-1"],' +
          '"instance_groups":[{"hosts":["algo-1"],"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.large"}],"network_interface_name":"eth0"}',
        SM_INPUT_DATA_CONFIG:
          '{"test":{"ContentType":"application/x-image","RecordWrapperType":"None","S3DistributionType":"FullyReplicated","TrainingInputMode":"File"},' +
          '"training":{"RecordWrapperType":"None","S3DistributionType":"FullyReplicated","TrainingInputMode":"File"}}',
        TRAINING_JOB_NAME: 'hpo-1',
        TRAINING_JOB_ARN: 'arn:aws:sagemaker:us-east-1:000000000000:training-job/hpo-1',
        CURRENT_HOST: 'algo-1',
        SAGEMAKER_JOB_NAME: 'hpo-1',
        SAGEMAKER_REGION: 'us-east-1',
        SAGEMAKER_TRAINING_MODULE: 'sagemaker_pytorch_container.training:main',
        PYTHONPATH: '/jobs/hpo-1/code',
      },
    );
  });

  it('sets nothing else but SM_TRAINING_ENV', () => {
    const named = new Set([
      ...Object.keys(env).filter((key) => !key.startsWith('SM_')),
      ...['HPS', 'HP_LEARNING_RATE', 'HP_BATCH_SIZE', 'HP_EPOCHS', 'USER_ARGS', 'CHANNELS', 'CHANNEL_TRAINING', 'CHANNEL_TEST', 'MODEL_DIR']
        .concat(['OUTPUT_DATA_DIR', 'OUTPUT_DIR', 'OUTPUT_INTERMEDIATE_DIR', 'INPUT_DIR', 'INPUT_CONFIG_DIR', 'NUM_CPUS', 'NUM_GPUS', 'NUM_NEURONS'])
        .concat(['HOSTS', 'CURRENT_HOST', 'CURRENT_INSTANCE_TYPE', 'CURRENT_INSTANCE_GROUP', 'CURRENT_INSTANCE_GROUP_HOSTS', 'INSTANCE_GROUPS'])
        .concat(['INSTANCE_GROUPS_DICT', 'DISTRIBUTION_INSTANCE_GROUPS', 'IS_HETERO', 'NETWORK_INTERFACE_NAME', 'MODULE_NAME', 'MODULE_DIR'])
        .concat(['USER_ENTRY_POINT', 'FRAMEWORK_MODULE', 'FRAMEWORK_PARAMS', 'LOG_LEVEL', 'RESOURCE_CONFIG', 'INPUT_DATA_CONFIG'])
        .map((name) => `SM_${name}`),
    ]);
    assert.deepEqual(Object.keys(env).filter((key) => !named.has(key)), ['SM_TRAINING_ENV']);
  });

  it('puts the toolkit’s whole Environment in SM_TRAINING_ENV, as compact JSON with sorted keys', () => {
    const trainingEnv = JSON.parse(env.SM_TRAINING_ENV) as Record<string, unknown>;
    assert.deepEqual(Object.keys(trainingEnv), Object.keys(trainingEnv).sort());
    assert.ok(!env.SM_TRAINING_ENV.includes(': ') && !env.SM_TRAINING_ENV.includes(', '));
    assert.deepEqual(trainingEnv, {
      additional_framework_parameters: { sagemaker_mpi_enabled: true },
      channel_input_dirs: { test: '/jobs/hpo-1/input/data/test', training: '/jobs/hpo-1/input/data/training' },
      current_host: 'algo-1',
      current_instance_group: 'homogeneousCluster',
      current_instance_group_hosts: ['algo-1'],
      current_instance_type: 'ml.m5.large',
      distribution_hosts: [],
      distribution_instance_groups: [],
      framework_module: 'sagemaker_pytorch_container.training:main',
      hosts: ['algo-1'],
      hyperparameters: { batch_size: '64', epochs: 10, learning_rate: 0.01 },
      input_config_dir: '/jobs/hpo-1/input/config',
      input_data_config: JSON.parse(env.SM_INPUT_DATA_CONFIG),
      input_dir: '/jobs/hpo-1/input',
      instance_groups: ['homogeneousCluster'],
      instance_groups_dict: JSON.parse(env.SM_INSTANCE_GROUPS_DICT),
      is_hetero: false,
      is_master: true,
      is_modelparallel_enabled: null,
      is_smddpmprun_installed: false,
      job_name: 'hpo-1',
      log_level: 20,
      master_hostname: 'algo-1',
      model_dir: '/jobs/hpo-1/model',
      module_dir: 's3://sagemaker-us-east-1-000000000000/hpo-1/source/sourcedir.tar.gz',
      module_name: 'hpo',
      network_interface_name: 'eth0',
      num_cpus: 2,
      num_gpus: 0,
      num_neurons: 0,
      output_data_dir: '/jobs/hpo-1/output/data',
      output_dir: '/jobs/hpo-1/output',
      output_intermediate_dir: '/jobs/hpo-1/output/intermediate',
      resource_config: JSON.parse(env.SM_RESOURCE_CONFIG),
      user_entry_point: 'hpo.py',
    });
  });

  it('prints JSON as Python’s json.dumps does (checked against the toolkit’s mapping.to_env_vars)', () => {
    const hyperParameters = {
      sagemaker_program: '"train.py"',
      flag: 'true',
      nothing: 'null',
      ratio: '1.0',
      tiny: '1e-05',
      nan: 'NaN',
      obj: '{"b": 2, "a": "x"}',
      list: '["a", 1, true, null, 0.5, "it\'s"]',
      word: 'café',
      quoted: '"caf\\u00e9 \\"x\\" \\u007f"',
    };
    const printed = scriptEnvironment({ ...JOB, hyperParameters });
    assert.deepEqual(
      Object.fromEntries(Object.entries(printed).filter(([key]) => key.startsWith('SM_HP_'))),
      {
        SM_HP_FLAG: 'true',
        SM_HP_NOTHING: '',
        SM_HP_RATIO: '1.0',
        SM_HP_TINY: '1e-05',
        SM_HP_NAN: 'NaN',
        SM_HP_OBJ: '{"a":"x","b":2}',
        SM_HP_LIST: `["a",1,true,null,0.5,"it's"]`,
        SM_HP_WORD: 'café',
        SM_HP_QUOTED: 'café "x" \u007f',
      },
    );
    assert.equal(
      printed.SM_HPS,
      `{"flag":true,"list":["a",1,true,null,0.5,"it's"],"nan":NaN,"nothing":null,"obj":{"a":"x","b":2},"quoted":"caf\\u00e9 \\"x\\" \\u007f","ratio":1.0,"tiny":1e-05,"word":"caf\\u00e9"}`,
    );
  });

  it('uses the defaults the toolkit falls back to, and no framework module for Kennel’s own images', () => {
    const plain = scriptEnvironment({ ...JOB, image: PYTHON, hyperParameters: { sagemaker_program: '"train.py"' } });
    assert.equal(plain.SM_FRAMEWORK_MODULE, '');
    assert.equal(plain.SAGEMAKER_TRAINING_MODULE, undefined);
    assert.equal(plain.SM_LOG_LEVEL, '20');
    assert.equal(plain.SM_MODULE_DIR, PATHS.codeDir);
    assert.equal(plain.SM_HPS, '{}');
    assert.equal(plain.SM_USER_ARGS, '[]');
    assert.equal(plain.SAGEMAKER_JOB_NAME, '');
    assert.equal(plain.SAGEMAKER_REGION, 'us-east-1');
    const node = scriptEnvironment({ ...JOB, image: NODE, hyperParameters: { sagemaker_program: '"train.js"' } });
    assert.equal(node.SM_MODULE_NAME, 'train.js');
    assert.equal(node.PYTHONPATH, undefined);
  });

  it('upper-cases channel and hyperparameter names as they are', () => {
    const printed = scriptEnvironment({ ...JOB, hyperParameters: { 'drop-out.rate': '0.5' }, channels: { 'train-data.v2': { path: '/d' } } });
    assert.equal(printed['SM_HP_DROP-OUT.RATE'], '0.5');
    assert.equal(printed['SM_CHANNEL_TRAIN-DATA.V2'], '/d');
  });
});

describe('config files', () => {
  it('resourceconfig.json is SageMaker’s for one instance', () => {
    assert.deepEqual(resourceConfig('ml.c5.xlarge'), {
      current_host: 'algo-1',
      current_instance_type: 'ml.c5.xlarge',
      current_group_name: 'homogeneousCluster',
      hosts: ['algo-1'],
      instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: 'ml.c5.xlarge', hosts: ['algo-1'] }],
      network_interface_name: 'eth0',
    });
  });

  it('inputdataconfig.json names every channel in File mode', () => {
    assert.deepEqual(inputDataConfig({ training: {}, test: { contentType: 'text/csv' } }), {
      training: { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
      test: { ContentType: 'text/csv', TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
    });
  });
});

describe('scriptModeSettings', () => {
  const settings = (hyperParameters: Record<string, string>, image = PYTORCH, channelNames = ['training']) =>
    scriptModeSettings({ hyperParameters, image, channelNames });
  const source = { sagemaker_submit_directory: '"file:///work/code"' };

  it('reads the entry point and the source location as the SDK sends them', () => {
    assert.deepEqual(settings(SDK_HYPERPARAMETERS), {
      program: 'hpo.py',
      submitDirectory: 's3://sagemaker-us-east-1-000000000000/hpo-1/source/sourcedir.tar.gz',
      submitDirectoryUri: { scheme: 's3', bucket: 'sagemaker-us-east-1-000000000000', key: 'hpo-1/source/sourcedir.tar.gz' },
    });
    assert.deepEqual(settings({ sagemaker_program: 'src/train.js', sagemaker_submit_directory: 'file:///work/code' }, NODE), {
      program: 'src/train.js',
      submitDirectory: 'file:///work/code',
      submitDirectoryUri: { scheme: 'file', path: '/work/code' },
    });
  });

  const refused: [string, Record<string, string>, FrameworkImage, RegExp, string][] = [
    ['no entry point', { ...source }, PYTORCH, /sagemaker_program must name the training script, e\.g\. "train\.py"/, 'HyperParameters.sagemaker_program'],
    ['an entry point that is not text', { ...source, sagemaker_program: '7' }, PYTORCH, /sagemaker_program must name/, 'HyperParameters.sagemaker_program'],
    ['an absolute entry point', { ...source, sagemaker_program: '"/etc/x.py"' }, PYTORCH, /must be a path inside the source folder/, 'HyperParameters.sagemaker_program'],
    ['an entry point outside the source', { ...source, sagemaker_program: '"../x.py"' }, PYTORCH, /must be a path inside the source folder/, 'HyperParameters.sagemaker_program'],
    ['an entry point that reads as an option', { ...source, sagemaker_program: '"-c.py"' }, PYTORCH, /starts with "-"/, 'HyperParameters.sagemaker_program'],
    ['a JavaScript file on a Python image', { ...source, sagemaker_program: 'train.js' }, PYTORCH, /cannot run on a pytorch image, which runs Python files \(\.py\)/, 'HyperParameters.sagemaker_program'],
    ['a Python file on the Node image', { ...source, sagemaker_program: 'train.py' }, NODE, /cannot run on a node image, which runs JavaScript files.*"train\.js"/, 'HyperParameters.sagemaker_program'],
    ['no source', { sagemaker_program: 'train.py' }, PYTHON, /sagemaker_submit_directory must give the source code/, 'HyperParameters.sagemaker_submit_directory'],
    ['a source that is not a URI', { sagemaker_program: 'train.py', sagemaker_submit_directory: '"./code"' }, PYTHON, /sagemaker_submit_directory: .*s3:\/\/ or file:\/\//, 'HyperParameters.sagemaker_submit_directory'],
    ['names that collide once upper-cased', { ...source, sagemaker_program: 'train.py', lr: '1', LR: '2' }, PYTHON, /Hyperparameters lr and LR would both be SM_HP_LR/, 'HyperParameters'],
    ['an empty name', { ...source, sagemaker_program: 'train.py', '': '1' }, PYTHON, /empty name/, 'HyperParameters'],
    ['a name with "="', { ...source, sagemaker_program: 'train.py', 'a=b': '1' }, PYTHON, /contains "=" or a NUL character/, 'HyperParameters.a=b'],
    ['a value with NUL', { ...source, sagemaker_program: 'train.py', a: 'x\0y' }, PYTHON, /NUL character/, 'HyperParameters.a'],
  ];
  for (const [what, hyperParameters, image, pattern, field] of refused) {
    it(`refuses ${what}`, () => refusal(() => settings(hyperParameters, image), pattern, field));
  }

  it('refuses channels that collide once upper-cased', () => {
    refusal(() => settings({ ...source, sagemaker_program: 'train.py' }, PYTHON, ['train', 'Train']), /Channels train and Train would both be SM_CHANNEL_TRAIN/, 'InputDataConfig');
  });
});

describe('failureReason', () => {
  const command = ['python3', 'train.py', '--epochs', '1'];

  it('is worded as SageMaker words a failed script', () => {
    assert.equal(
      failureReason({ exitCode: 1, signal: null, command, lastLines: ['epoch=1 loss=0.5', 'Traceback (most recent call last):', 'ValueError: bad data', ''] }),
      'AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "epoch=1 loss=0.5\nTraceback (most recent call last):\nValueError: bad data"\n' +
        'Command "python3 train.py --epochs 1", exit code: 1',
    );
  });

  it('names the signal that killed the script', () => {
    assert.equal(
      failureReason({ exitCode: null, signal: 'SIGKILL', command, lastLines: [] }),
      'AlgorithmError: ExecuteUserScriptError:\nExitCode 137\nErrorMessage ""\nExtraInfo "OutOfMemory: Process killed by SIGKILL (signal 9)"\n' +
        'Command "python3 train.py --epochs 1", exit code: 137',
    );
    assert.match(failureReason({ exitCode: null, signal: 'SIGSEGV', command, lastLines: [] }), /ExitCode 139\n.*\nExtraInfo "Process killed by SIGSEGV \(signal 11\)"/);
  });

  it('keeps the end of long output and stays within SageMaker’s limit', () => {
    const lastLines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    const longCommand = ['python3', 'train.py', ...Array.from({ length: 100 }, (_, i) => `--p${i} ${i}`)];
    const reason = failureReason({ exitCode: 2, signal: null, command: longCommand, lastLines });
    assert.equal(reason.length, FAILURE_REASON_MAX_LENGTH);
    assert.ok(reason.startsWith('AlgorithmError: ExecuteUserScriptError:\nExitCode 2\nErrorMessage "…'));
    assert.ok(reason.includes(`line 199 ${'x'.repeat(40)}"\nCommand "python3 train.py --p0 0`));
    assert.ok(reason.endsWith('…", exit code: 2'));
  });
});
