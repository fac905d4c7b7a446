import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSampleImages } from '../../runtime/samples/sample-images.ts';
import { loadServiceModel, operationNames } from '../aws/service-model.ts';
import { startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';
import { awsToolEnv, requireDebianTool } from '../../testing/aws-tools.ts';

/**
 * The reference workflow as users run it: examples/dog-breeds/boto3_workflow.py
 * with Debian's boto3, and aws_cli_workflow.sh with Debian's AWS CLI, against a
 * Kennel on the generated sample images. Both clients come from apt (.ci/run
 * installs them); a machine without them fails here, loudly.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const SAGEMAKER_OPERATIONS = operationNames(loadServiceModel('sagemaker'));
const AWS = '/usr/bin/aws';

describe('the reference workflow with boto3 and the AWS CLI', { timeout: 600_000 }, () => {
  let test: TestKennel;
  let data: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    requireDebianTool(PYTHON, 'python3-boto3');
    requireDebianTool(AWS, 'awscli');
    test = await startTestKennel();
    data = join(test.home, 'samples');
    await generateSampleImages(data);
    env = awsToolEnv(test, { DATA: data });
  });
  after(async () => test?.close());

  const python = (args: string[]) => run(PYTHON, args, { cwd: root, env, encoding: 'utf8', timeout: 300_000 });

  it('examples/dog-breeds/boto3_workflow.py trains, deploys, classifies and cleans up', async () => {
    const { stdout } = await python([join(root, 'examples/dog-breeds/boto3_workflow.py'), '--data', data, '--epochs', '8', '--name', 'boto3']);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { testAccuracy: number; predicted: string; folder: string };
    assert.ok(result.testAccuracy >= 0.9, `test accuracy ${result.testAccuracy}\n${stdout}`);
    assert.equal(result.predicted, result.folder.replace(/^\d+\./, '').replace(/_/g, ' '), stdout);
    const { platform } = test.kennel;
    assert.deepEqual(platform.endpoints.list(), [], 'the endpoint is deleted');
    assert.deepEqual(platform.models.list(), []);
    assert.deepEqual(platform.endpointConfigs.list(), []);
  });

  it('examples/dog-breeds/script-mode/launch_hpo.py tunes a script with boto3, then trains the winner', async () => {
    // hpo.py needs torch; a stand-in with its arguments, folders and output runs in its place.
    const { stdout, stderr } = await python([
      join(root, 'examples/dog-breeds/script-mode/launch_hpo.py'),
      '--data', data, '--source-dir', join(root, 'src/control/fixtures'), '--entry-point', 'hpo_contract.py', '--max-jobs', '3', '--name', 'boto3-hpo',
    ]);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { bestObjective: number; tuned: Record<string, string>; finalMetrics: Record<string, number>; model: string };
    assert.deepEqual(Object.keys(result.tuned).sort(), ['batch_size', 'learning_rate'], stderr);
    const expected = (Math.log10(Number(result.tuned.learning_rate)) + 2) ** 2 + Math.abs(Math.log2(Number(result.tuned.batch_size)) - 6) / 10;
    assert.ok(Math.abs(result.bestObjective - expected) < 1e-5, `${result.bestObjective} vs ${expected}`);
    assert.ok(Math.abs(result.finalMetrics['Test Loss'] - result.bestObjective) < 1e-5, 'the winner trained again reports the same loss');
    assert.equal(result.model, 's3://sagemaker-us-east-1-000000000000/boto3-hpo/boto3-hpo-final/output/model.tar.gz');
  });

  it('examples/debugger/boto3_debugger.py: a rule stops an exploding script-mode job, and stays quiet on a healthy one', async () => {
    const { stdout, stderr } = await python([join(root, 'examples/debugger/boto3_debugger.py'), '--data', data, '--name', 'boto3-debugger']);
    type Outcome = { status: string; profiling: string; rules: Record<string, { status: string; details: string; arn: string }> };
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { healthy: Outcome; exploding: Outcome };
    assert.equal(result.healthy.status, 'Completed', stderr);
    assert.deepEqual(Object.values(result.healthy.rules).map((r) => r.status), ['NoIssuesFound', 'NoIssuesFound'], JSON.stringify(result.healthy));
    assert.equal(result.healthy.profiling, 'Enabled');
    assert.equal(result.exploding.status, 'Stopped', JSON.stringify(result.exploding));
    assert.equal(result.exploding.rules.ExplodingTensor!.status, 'IssuesFound');
    assert.match(result.exploding.rules.ExplodingTensor!.details, /^At step \d+: /);
    assert.match(result.exploding.rules.ExplodingTensor!.arn, /^arn:aws:sagemaker:us-east-1:000000000000:processing-job\/boto3-debugger-exploding-explodingtensor$/);
  });

  it("boto3's paginators, waiters and error codes", async () => {
    const { stdout } = await python([join(root, 'src/api/sagemaker/boto3-checks.fixture.py')]);
    const found = JSON.parse(stdout) as Record<string, unknown> & Record<string, { code: string; message: string; status: number } | null>;
    assert.match(String(found.botocore_path), /^\/usr\/lib\/python3\/dist-packages\//, "Debian's botocore");
    assert.deepEqual(found.pages, [['checks-a', 'checks-b'], ['checks-c']]);
    assert.equal(found.creation_time_type, 'datetime');
    const expectError = (key: string, code: string, message: RegExp) => {
      const error = found[key];
      assert.ok(error, `${key}: the call succeeded`);
      assert.deepEqual([error.code, error.status], [code, 400], `${key}: ${error.message}`);
      assert.match(error.message, message, key);
    };
    expectError('duplicate_job', 'ResourceInUse', /already exists/);
    expectError('missing_data', 'ResourceNotFound', /no\/such\/prefix/);
    expectError('missing_model', 'ValidationException', /Could not find model/);
    expectError('missing_job', 'ValidationException', /Requested resource not found/);
    expectError('missing_role', 'ValidationException', /'roleArn' failed to satisfy constraint: Member must not be null/);
    expectError('too_many_instances', 'ResourceLimitExceeded', /InitialInstanceCount/);
    expectError('update_in_progress', 'ValidationException', /Cannot update in-progress endpoint/);
    assert.deepEqual(found.tags, [{ Key: 'owner', Value: 'boto3' }]);
    assert.deepEqual(found.tags_after_delete, []);
    assert.equal(found.deleted_waiter, 'success');
    assert.match(String(found.in_service_waiter), /Waiter EndpointInService failed/);
    assert.equal(found.described_config, 9);
    assert.deepEqual(found.listed, { models: ['checks-model'], configs: ['checks-big'], endpoints: [] });
    assert.equal(found.stopped, 'Stopped');
    assert.deepEqual(found.scaled, { CurrentInstanceCount: 2, DesiredInstanceCount: 2, CurrentWeight: 2, DesiredWeight: 2 });
    assert.deepEqual(found.updated, { config: 'checks-two', variants: ['Blue'] });
    const tuning = found.tuning as unknown as Record<string, unknown>;
    assert.equal(tuning.status, 'Completed');
    assert.deepEqual(tuning.counters, { Completed: 3, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 });
    assert.deepEqual(tuning.objective_counters, { Succeeded: 3, Pending: 0, Failed: 0 });
    assert.equal(tuning.end_time_type, 'datetime');
    const trials = found.trials as unknown as { name: string; value: number; tuned: Record<string, string> }[];
    assert.equal(trials.length, 3, 'the paginator walked both pages');
    assert.deepEqual(trials.map((trial) => trial.value), trials.map((trial) => trial.value).sort((a, b) => b - a), 'best objective first');
    assert.equal(tuning.best_name, trials[0].name);
    assert.deepEqual(tuning.best, { MetricName: 'validation:accuracy', Value: trials[0].value, Type: 'Maximize' });
    for (const { tuned } of trials) {
      assert.deepEqual(Object.keys(tuned).sort(), ['batch_size', 'hidden_units', 'learning_rate']);
      assert.ok(Number.isInteger(Number(tuned.hidden_units)) && Number(tuned.hidden_units) >= 16 && Number(tuned.hidden_units) <= 64, tuned.hidden_units);
    }
    assert.equal(found.tuning_stopped, 'Stopped');
    assert.deepEqual(found.tuning_listed, ['hpo-first', 'hpo-stopped']);
    expectError('tuning_duplicate', 'ResourceInUse', /already exists/);
    expectError('tuning_missing', 'ResourceNotFound', /hpo-nope/);
    expectError('tuning_min_over_max', 'ValidationException', /MinValue/);
    expectError('tuning_unknown_strategy', 'ValidationException', /strategy/);
    expectError('tuning_too_parallel', 'ValidationException', /MaxParallelTrainingJobs/);
    assert.deepEqual(found.operations, [...SAGEMAKER_OPERATIONS].sort(), 'boto3 drove every operation Kennel serves');
  });

  it('examples/dog-breeds/aws_cli_workflow.sh does the same with the AWS CLI', async () => {
    const { stdout } = await run('bash', [join(root, 'examples/dog-breeds/aws_cli_workflow.sh'), data], {
      cwd: root,
      env: { ...env, AWS_CLI: AWS, NAME: 'cli' },
      encoding: 'utf8',
      timeout: 300_000,
    });
    const accuracy = Number(stdout.match(/Completed; test accuracy ([\d.]+)/)?.[1]);
    assert.ok(accuracy >= 0.9, `test accuracy ${accuracy}\n${stdout}`);
    const folder = stdout.match(/\(folder (\S+)\):/)![1];
    const answer = JSON.parse(stdout.match(/\(folder \S+\):\n(\{.*\})/)![1]) as { predictions: { label: string }[] };
    assert.equal(answer.predictions[0].label, folder.replace(/^\d+\./, '').replace(/_/g, ' '));
    assert.match(stdout, /done\s*$/);
  });

  // Runs after the boto3 checks, whose training jobs and model it lists and collides with.
  it('the AWS CLI pages list results and reports errors with their codes', async () => {
    const aws = (...args: string[]) =>
      run(AWS, ['--endpoint-url', test.url, 'sagemaker', ...args], { env, encoding: 'utf8' }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );
    const first = await aws('list-training-jobs', '--name-contains', 'checks-', '--sort-by', 'Name', '--sort-order', 'Ascending', '--max-items', '2');
    const page = JSON.parse(first.stdout) as { TrainingJobSummaries: { TrainingJobName: string }[]; NextToken: string };
    assert.deepEqual(page.TrainingJobSummaries.map((job) => job.TrainingJobName), ['checks-a', 'checks-b']);
    const rest = await aws('list-training-jobs', '--name-contains', 'checks-', '--sort-by', 'Name', '--sort-order', 'Ascending', '--starting-token', page.NextToken);
    assert.deepEqual((JSON.parse(rest.stdout) as typeof page).TrainingJobSummaries.map((job) => job.TrainingJobName), ['checks-c']);

    const missing = await aws('describe-endpoint', '--endpoint-name', 'nope');
    assert.equal(missing.code, 254);
    assert.match(missing.stderr, /\(ValidationException\) when calling the DescribeEndpoint operation: Could not find endpoint/);
    const duplicate = await aws('create-endpoint-config', '--endpoint-config-name', 'checks-big', '--production-variants', 'VariantName=A,ModelName=checks-model');
    assert.equal(duplicate.code, 254);
    assert.match(duplicate.stderr, /\(ValidationException\).*Cannot create already existing endpoint configuration/);
    const stopDone = await aws('stop-training-job', '--training-job-name', 'checks-a');
    assert.match(stopDone.stderr, /\(ValidationException\).*in status Completed/);
    const deleted = await aws('wait', 'endpoint-deleted', '--endpoint-name', 'never-existed');
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  // With the workflow script and the test above, every operation Kennel serves goes through the AWS CLI.
  it('the AWS CLI lists, describes and tags models and endpoint configs', async () => {
    const aws = async (...args: string[]) => {
      const { stdout } = await run(AWS, ['--endpoint-url', test.url, '--output', 'json', 'sagemaker', ...args], { env, encoding: 'utf8' });
      return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
    };
    const model = await aws('describe-model', '--model-name', 'checks-model');
    assert.equal(model.ModelArn, 'arn:aws:sagemaker:us-east-1:000000000000:model/checks-model');
    assert.deepEqual(((await aws('list-models', '--name-contains', 'checks-')).Models as { ModelName: string }[]).map((m) => m.ModelName), ['checks-model']);
    const config = await aws('describe-endpoint-config', '--endpoint-config-name', 'checks-big');
    assert.equal((config.ProductionVariants as { InitialInstanceCount: number }[])[0].InitialInstanceCount, 9);
    assert.deepEqual(
      ((await aws('list-endpoint-configs', '--name-contains', 'checks-')).EndpointConfigs as { EndpointConfigName: string }[]).map((c) => c.EndpointConfigName),
      ['checks-big'],
    );
    assert.deepEqual((await aws('list-endpoints', '--name-contains', 'checks-')).Endpoints, []);
    const arn = String(config.EndpointConfigArn);
    await aws('add-tags', '--resource-arn', arn, '--tags', 'Key=owner,Value=cli');
    assert.deepEqual((await aws('list-tags', '--resource-arn', arn)).Tags, [{ Key: 'owner', Value: 'cli' }]);
    await aws('delete-tags', '--resource-arn', arn, '--tag-keys', 'owner');
    assert.deepEqual((await aws('list-tags', '--resource-arn', arn)).Tags, []);
  });

  // Runs after the boto3 checks, whose tuning jobs it reads.
  it('the AWS CLI creates, describes, lists and stops tuning jobs', async () => {
    const aws = (...args: string[]) =>
      run(AWS, ['--endpoint-url', test.url, '--output', 'json', 'sagemaker', ...args], { env, encoding: 'utf8' }).then(
        ({ stdout }) => ({ code: 0, body: (stdout.trim() === '' ? {} : JSON.parse(stdout)) as Record<string, unknown>, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, body: {} as Record<string, unknown>, stderr: error.stderr }),
      );
    const described = await aws('describe-hyper-parameter-tuning-job', '--hyper-parameter-tuning-job-name', 'hpo-first');
    assert.equal(described.body.HyperParameterTuningJobStatus, 'Completed', described.stderr);
    const trials = await aws('list-training-jobs-for-hyper-parameter-tuning-job', '--hyper-parameter-tuning-job-name', 'hpo-first', '--max-items', '2');
    assert.equal((trials.body.TrainingJobSummaries as unknown[]).length, 2);
    assert.ok(trials.body.NextToken, 'the CLI pages the trials');
    const request = {
      HyperParameterTuningJobName: 'cli-tuning',
      HyperParameterTuningJobConfig: {
        Strategy: 'Grid',
        HyperParameterTuningJobObjective: { Type: 'Minimize', MetricName: 'validation:loss' },
        ResourceLimits: { MaxParallelTrainingJobs: 1 },
        ParameterRanges: { CategoricalParameterRanges: [{ Name: 'batch_size', Values: ['8', '16'] }] },
      },
      TrainingJobDefinition: {
        StaticHyperParameters: { epochs: '10000' },
        AlgorithmSpecification: { TrainingImage: 'kennel/image-classifier:latest', TrainingInputMode: 'File' },
        RoleArn: 'arn:aws:iam::000000000000:role/KennelExecutionRole',
        InputDataConfig: [{ ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `file://${data}` } } }],
        OutputDataConfig: { S3OutputPath: 's3://sagemaker-us-east-1-000000000000/cli-tuning' },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      },
    };
    const created = await aws('create-hyper-parameter-tuning-job', '--cli-input-json', JSON.stringify(request));
    assert.match(String(created.body.HyperParameterTuningJobArn), /:hyper-parameter-tuning-job\/cli-tuning$/, created.stderr);
    const listed = await aws('list-hyper-parameter-tuning-jobs', '--status-equals', 'InProgress');
    assert.deepEqual((listed.body.HyperParameterTuningJobSummaries as { HyperParameterTuningJobName: string }[]).map((job) => job.HyperParameterTuningJobName), ['cli-tuning']);
    assert.equal((await aws('stop-hyper-parameter-tuning-job', '--hyper-parameter-tuning-job-name', 'cli-tuning')).code, 0);
    const again = await aws('stop-hyper-parameter-tuning-job', '--hyper-parameter-tuning-job-name', 'cli-tuning');
    assert.match(again.stderr, /\(ValidationException\).*in status Stopp(ing|ed)/);
    const empty = { ...request, HyperParameterTuningJobName: 'cli-empty' };
    empty.HyperParameterTuningJobConfig.ParameterRanges = { CategoricalParameterRanges: [{ Name: 'batch_size', Values: [] }] };
    const refused = await aws('create-hyper-parameter-tuning-job', '--cli-input-json', JSON.stringify(empty));
    assert.equal(refused.code, 252, 'the CLI refuses an empty categorical itself, from the service model');
    assert.match(refused.stderr, /Values/);
  });
});
