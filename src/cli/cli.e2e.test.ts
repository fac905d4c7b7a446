import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GetFunctionCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import yazl from 'yazl';
import { makeSmallDataset, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';
import { runKennelCli } from '../testing/kennel-cli.ts';

/**
 * The `kennel` command as a user runs it, against a server in this process: every
 * verb goes over the same SageMaker (and Kennel REST) wire as any SDK.
 */

describe('the kennel CLI', { timeout: 600_000 }, () => {
  let test: TestKennel;
  let images: string;

  const kennel = (...args: string[]) => runKennelCli(test, args);
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await kennel(...args, '-o', 'json');
    assert.equal(result.code, 0, `kennel ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };

  before(async () => {
    test = await startTestKennel();
    images = join(test.home, 'images');
    await makeSmallDataset(images);
  });
  after(async () => test?.close());

  it('registers a dataset, trains, deploys, classifies and deletes', async () => {
    await json('datasets', 'register', '--name', 'pets', '--path', images);
    const job = await json<{ TrainingJobStatus: string; metrics: { epochs: unknown[]; finalMetrics: { testAccuracy: number } } }>(
      'training-jobs', 'create', '--name', 'pets-1', '--dataset', 'pets', '--hp', 'epochs=6', '--hp', 'learning_rate=0.003', '--hp', 'hidden_units=32', '--wait',
    );
    assert.equal(job.TrainingJobStatus, 'Completed');
    assert.equal(job.metrics.epochs.length, 6);
    assert.ok(job.metrics.finalMetrics.testAccuracy >= 0.75);

    const described = await kennel('training-jobs', 'describe', 'pets-1');
    assert.match(described.stdout, /Training job pets-1: Completed\n  channel training: file:\/\/.*images\n/);
    assert.match(described.stdout, /EPOCH +TRAIN LOSS/);
    assert.match(described.stdout, /model s3:\/\/sagemaker-us-east-1-000000000000\/pets-1\/output\/model\.tar\.gz/);
    const listed = await json<{ TrainingJobName: string }[]>('training-jobs', 'list');
    assert.deepEqual(listed.map((j) => j.TrainingJobName), ['pets-1']);

    await json('models', 'create', '--name', 'pets', '--training-job', 'pets-1');
    await json('endpoint-configs', 'create', '--name', 'pets', '--model', 'pets', '--instance-type', 'ml.c5.xlarge');
    const endpoint = await json<{ EndpointStatus: string }>('endpoints', 'create', '--name', 'pets', '--config', 'pets', '--wait');
    assert.equal(endpoint.EndpointStatus, 'InService');

    const classDir = join(images, 'test', (await readdir(join(images, 'test'))).sort()[1]);
    const image = join(classDir, (await readdir(classDir)).sort()[0]);
    const answer = await json<{ predictions: { label: string }[] }>('endpoints', 'invoke', 'pets', '--file', image, '--top-k', '2');
    assert.equal(answer.predictions.length, 2);
    assert.equal(answer.predictions[0].label, classDir.split('/').at(-1)!.replace(/^\d+\./, '').replace(/_/g, ' '));

    for (const [group, name] of [['endpoints', 'pets'], ['endpoint-configs', 'pets'], ['models', 'pets']]) {
      assert.equal((await kennel(group, 'delete', name)).code, 0);
    }
    assert.deepEqual(await json('models', 'list'), []);
  });

  it('trains under debugger and profiler rules, then writes the report and prints its summary', async () => {
    const job = await json<{ DebugRuleEvaluationStatuses: { RuleConfigurationName: string; RuleEvaluationStatus: string }[]; ProfilerRuleEvaluationStatuses: unknown[] }>(
      'training-jobs', 'create', '--name', 'debugged', '--data', images, '--hp', 'epochs=6', '--hp', 'learning_rate=0.003', '--hp', 'hidden_units=32',
      '--rule', 'ExplodingTensor', '--rule', 'ClassImbalance:threshold_imbalance=5', '--rule', 'StepOutlier:n_outliers=1000', '--save-interval', '2', '--wait',
    );
    assert.deepEqual(job.DebugRuleEvaluationStatuses.map((s) => [s.RuleConfigurationName, s.RuleEvaluationStatus]), [['ExplodingTensor', 'NoIssuesFound'], ['ClassImbalance', 'NoIssuesFound']]);
    assert.equal(job.ProfilerRuleEvaluationStatuses.length, 1);

    const out = join(test.home, 'debugged.html');
    const report = await kennel('training-jobs', 'report', 'debugged', '--out', out);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /^debugged: Completed, \d+ steps, 6 epochs\nloss [▁▂▃▄▅▆▇█]+ [\d.]+ → [\d.]+\n/);
    assert.match(report.stdout, /✓ ExplodingTensor: NoIssuesFound: /);
    assert.match(report.stdout, /✓ StepOutlier: NoIssuesFound: /);
    assert.match(report.stdout, /No rule found an issue\.\nWrote the report to .*debugged\.html\n$/);
    const page = await readFile(out, 'utf8');
    assert.match(page, /<h1>Training job debugged: <span class="status">Completed<\/span><\/h1>/);
    assert.match(page, /uPlot/);

    const refused = await kennel('training-jobs', 'create', '--name', 'bad-rule', '--data', images, '--rule', 'Overfit:patience=soon');
    assert.equal(refused.code, 2, 'a refused request exits 2, as other validation errors do');
    assert.match(refused.stderr, /ValidationException: Overfit parameter patience must be a whole number, 1 or more, not "soon"/);
  });

  it('copies data into the object store and trains from s3://, then fetches the model back', async () => {
    const copied = await kennel('objects', 'cp', '--recursive', images, 's3://datasets/pets/');
    assert.equal(copied.code, 0, copied.stderr);
    // The 80 images and the generator's manifest, .kennel-sample.json, which training ignores as a hidden file.
    assert.match(copied.stdout, /81 files → s3:\/\/datasets\/pets\//);
    const listed = await json<{ key: string }[]>('objects', 'ls', 's3://datasets/pets/train/');
    assert.equal(listed.length, 48);
    assert.ok(listed.every((object) => object.key.startsWith('pets/train/')));

    const job = await json<{ TrainingJobStatus: string; metrics: { embeddingStats: { computed: number; cached: number } } }>(
      'training-jobs', 'create', '--name', 'from-s3', '--data', 's3://datasets/pets', '--hp', 'epochs=2', '--wait',
    );
    assert.equal(job.TrainingJobStatus, 'Completed');
    assert.deepEqual(job.metrics.embeddingStats, { computed: 0, cached: 80 }, 'the same images by content as the folder the first job read');

    const local = join(test.home, 'model.tar.gz');
    assert.equal((await kennel('objects', 'cp', 's3://sagemaker-us-east-1-000000000000/from-s3/output/model.tar.gz', local)).code, 0);
    assert.deepEqual([...(await readFile(local)).subarray(0, 2)], [0x1f, 0x8b], 'a gzip file');
    const missing = await kennel('objects', 'cp', 's3://datasets/nothing', join(test.home, 'x'));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /s3:\/\/datasets\/nothing does not exist/);
  });

  it('applies a workload spec, and applying it again changes nothing', async () => {
    const spec = join(test.home, 'kennel.yaml');
    await writeFile(
      spec,
      [
        'apiVersion: kennel/v1',
        'kind: Workload',
        'dataset: { name: spec-images, path: ./images }',
        'trainingJob:',
        '  name: spec-job',
        '  backbone: { sample: true }',
        '  hyperParameters: { epochs: 3, hidden_units: 32 }',
        '  maxRuntimeInSeconds: 600',
        'model: { name: spec-model }',
        'endpoint: { name: spec-endpoint }',
        '',
      ].join('\n'),
    );
    const first = await kennel('apply', '-f', spec);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /dataset spec-images: registered\ntraining job spec-job: started\n.*Completed, test accuracy [\d.]+%\nmodel spec-model: created\nendpoint config spec-endpoint: created\nendpoint spec-endpoint InService/s);
    const second = await kennel('apply', '-f', spec);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /dataset spec-images: exists\ntraining job spec-job: exists \(Completed\)\n.*model spec-model: exists\nendpoint config spec-endpoint: exists\nendpoint spec-endpoint: exists/s);
  });

  it('applies a spec’s function: creates it with its role and reserved concurrency, classifies through it, and later updates only what changed', async () => {
    const code = join(test.home, 'classify-node');
    await cp(fileURLToPath(new URL('../../examples/dog-breeds/functions/classify-node', import.meta.url)), code, { recursive: true });
    const spec = join(test.home, 'with-function.yaml');
    const writeSpec = (memorySize: number, variables: string, codePath = './classify-node') =>
      writeFile(
        spec,
        [
          'apiVersion: kennel/v1',
          'kind: Workload',
          'dataset: { name: fn-images, path: ./images }',
          'trainingJob: { name: fn-job, backbone: { sample: true }, hyperParameters: { epochs: 3, hidden_units: 32 } }',
          'model: { name: fn-model }',
          'endpoint: { name: fn-endpoint }',
          'functions:',
          '  - name: classify',
          '    runtime: nodejs20.x',
          '    handler: index.handler',
          `    code: ${codePath}`,
          `    memorySize: ${memorySize}`,
          '    timeout: 30',
          `    environment: { ${variables} }`,
          '    reservedConcurrency: 5',
          '    role:',
          '      name: fn-classify',
          '      allow: [{ action: sagemaker:InvokeEndpoint, resource: arn:aws:sagemaker:us-east-1:000000000000:endpoint/fn-endpoint }]',
          '',
        ].join('\n'),
      );
    const lambda = new LambdaClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials });
    const classDir = join(images, 'test', (await readdir(join(images, 'test'))).sort()[2]!);
    const image = await readFile(join(classDir, (await readdir(classDir)).sort()[0]!));
    const classify = async () => {
      const answer = await json<{ payload: string; functionError?: string }>('functions', 'invoke', 'classify', '--payload', JSON.stringify({ image_base64: image.toString('base64') }));
      assert.equal(answer.functionError, undefined, answer.payload);
      return JSON.parse(answer.payload) as { statusCode: number; body: { label: string; probability: number }[] };
    };

    await writeSpec(256, 'ENDPOINT_NAME: fn-endpoint');
    const created = await kennel('apply', '-f', spec);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /endpoint fn-endpoint InService\nrole fn-classify: created\nfunction classify: created\nfunction classify: Active, reserved concurrency 5\n$/);
    const described = await lambda.send(new GetFunctionCommand({ FunctionName: 'classify' }));
    assert.equal(described.Concurrency?.ReservedConcurrentExecutions, 5);
    assert.equal(described.Configuration?.Role, 'arn:aws:iam::000000000000:role/fn-classify');
    assert.equal(described.Configuration?.MemorySize, 256);
    const first = await classify();
    assert.equal(first.statusCode, 200);
    const labels = (await readdir(join(images, 'test'))).map((name) => name.replace(/^\d+\./, '').replace(/_/g, ' '));
    assert.deepEqual(first.body.map((p) => p.label).sort(), labels.sort(), 'every class of the 4-class dataset');
    assert.deepEqual(first.body.map((p) => p.probability), first.body.map((p) => p.probability).sort((a, b) => b - a), 'best first');
    assert.ok(Math.abs(first.body.reduce((sum, p) => sum + p.probability, 0) - 1) < 1e-3, 'probabilities');

    const again = await kennel('apply', '-f', spec);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /role fn-classify: exists\nfunction classify: exists, as the spec says\nfunction classify: Active, reserved concurrency 5\n$/);
    const unchanged = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'classify' }));
    assert.equal(unchanged.RevisionId, described.Configuration?.RevisionId, 'nothing was written');

    await writeSpec(512, 'ENDPOINT_NAME: fn-endpoint, LOG_LEVEL: debug');
    await writeFile(join(code, 'index.mjs'), `${await readFile(join(code, 'index.mjs'), 'utf8')}\n// changed\n`);
    const updated = await kennel('apply', '-f', spec);
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /function classify: configuration updated \(MemorySize, Environment\)\nfunction classify: code updated\nfunction classify: Active/);
    const changed = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'classify' }));
    assert.equal(changed.MemorySize, 512);
    assert.deepEqual(changed.Environment?.Variables, { ENDPOINT_NAME: 'fn-endpoint', LOG_LEVEL: 'debug' });
    assert.notEqual(changed.CodeSha256, unchanged.CodeSha256);
    assert.deepEqual(await classify(), first, 'the updated function gives the same answer');

    // A package that cannot be unpacked fails its update; pointing the spec back at good code repairs the function.
    const broken = new yazl.ZipFile();
    broken.addBuffer(Buffer.from('../../credentials'), 'index.mjs', { mode: 0o120777 });
    broken.end();
    const brokenChunks: Buffer[] = [];
    for await (const chunk of broken.outputStream) brokenChunks.push(chunk as Buffer);
    await writeFile(join(test.home, 'broken.zip'), Buffer.concat(brokenChunks));
    await writeSpec(512, 'ENDPOINT_NAME: fn-endpoint, LOG_LEVEL: debug', './broken.zip');
    const failed = await kennel('apply', '-f', spec);
    assert.notEqual(failed.code, 0, failed.stdout);
    assert.match(failed.stderr, /function classify: its last update failed: .*symlink index\.mjs points outside the package/);
    await writeSpec(512, 'ENDPOINT_NAME: fn-endpoint, LOG_LEVEL: debug');
    const repaired = await kennel('apply', '-f', spec);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stdout, /function classify: code updated\nfunction classify: Active/);
    assert.equal((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'classify' }))).CodeSha256, changed.CodeSha256, 'the same folder, the same package');
    assert.deepEqual(await classify(), first, 'the repaired function answers');
    lambda.destroy();
  });

  it('tunes, ranks the trials and draws their charts in the terminal and in an HTML page; logs show what each trial did', async () => {
    const page = join(test.home, 'tuning.html');
    const created = await kennel(
      'tuning-jobs', 'create', '--name', 'cli-hpo', '--data', images, '--strategy', 'Bayesian',
      '--continuous', 'learning_rate=0.001:0.03:Logarithmic', '--categorical', 'batch_size=8,16', '--integer', 'hidden_units=16:48',
      '--hp', 'epochs=4', '--max-jobs', '4', '--max-parallel', '2', '--seed', '5', '--wait', '--plot', page,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^Tuning job cli-hpo: Completed\n/);
    assert.match(created.stdout, /Ranking \(best first, minimize validation:loss\)/);
    assert.match(created.stdout, /Objective over trials/);
    assert.match(created.stdout, /Learning curves of the best trials/);
    assert.match(created.stderr, /Wrote the charts to .*tuning\.html/);
    const html = await readFile(page, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/i);
    assert.ok(html.includes('uPlot'), 'the charting library is in the page');

    const report = await json<{ trials: { number: number; trainingJobName: string; final?: number; hyperParameters: Record<string, string> }[] }>('tuning-jobs', 'describe', 'cli-hpo');
    assert.deepEqual(report.trials.map((trial) => trial.number), [1, 2, 3, 4]);
    assert.ok(report.trials.every((trial) => trial.trainingJobName.startsWith(`cli-hpo-00${trial.number}-`)));
    const logs = await kennel('tuning-jobs', 'logs', 'cli-hpo');
    assert.equal(logs.stdout.match(/^trial \d cli-hpo-\d+-[0-9a-f]{8} started: /gm)?.length, 4, logs.stdout);
    assert.match(logs.stdout, /tuning job cli-hpo: Completed\n$/);
    const trialLog = await kennel('tuning-jobs', 'logs', 'cli-hpo', '--trial', '1');
    assert.match(trialLog.stdout, /epoch 4\/4: train:loss=[\d.]+ .*validation:loss=/);
    const listed = await kennel('tuning-jobs', 'list');
    assert.match(listed.stdout, /cli-hpo +Completed +Bayesian +4/);

    const refused: [string[], RegExp][] = [
      [['--continuous', 'learning_rate=0.1'], /--continuous expects name=min:max/],
      [['--continuous', 'learning_rate=0.1:0.01'], /ValidationException: .*MinValue/],
      [['--continuous', 'learning_rate=0:0.1:Logarithmic'], /ValidationException: .*Logarithmic/],
      [['--categorical', 'depth=1,2'], /ValidationException: Hyperparameter depth is not one the image classifier takes/],
      [['--categorical', 'batch_size=8,16', '--strategy', 'Annealing'], /ValidationException: .*strategy/i],
      [['--categorical', 'batch_size=8,16', '--max-parallel', '5'], /ValidationException: ResourceLimits.MaxParallelTrainingJobs \(5\) is more than MaxNumberOfTrainingJobs \(4\)/],
      [['--categorical', 'batch_size=8,16', '--objective', 'f1'], /ValidationException: The objective metric "f1" is neither/],
    ];
    for (const [flags, message] of refused) {
      const result = await kennel('tuning-jobs', 'create', '--name', 'cli-refused', '--data', images, '--max-jobs', '4', ...flags);
      assert.notEqual(result.code, 0, flags.join(' '));
      assert.match(result.stderr, message, flags.join(' '));
    }
    assert.equal((await kennel('tuning-jobs', 'describe', 'cli-refused')).code, 1, 'nothing was created');
  });

  it('applies a spec with a tuning job: tunes, then trains the winner with fixed hyperparameters', async () => {
    const spec = join(test.home, 'tuned.yaml');
    await writeFile(
      spec,
      [
        'apiVersion: kennel/v1',
        'kind: Workload',
        'dataset: { name: tuned-images, path: ./images }',
        'tuningJob:',
        '  name: spec-hpo',
        '  strategy: Random',
        '  objective: { metric: validation:accuracy, type: Maximize }',
        '  ranges:',
        '    learning_rate: { min: 0.001, max: 0.01, scaling: Logarithmic }',
        '    batch_size: { values: [8, 16] }',
        '  maxJobs: 2',
        '  maxParallel: 2',
        'trainingJob:',
        '  name: spec-tuned-job',
        '  backbone: { sample: true }',
        '  hyperParameters: { epochs: 3, hidden_units: 32, learning_rate: 0.5 }',
        '  debugger: { rules: [{ rule: ExplodingTensor, stopTraining: true }, { rule: StepOutlier, parameters: { n_outliers: 1000 } }] }',
        'model: { name: spec-tuned-model }',
        'endpoint: { name: spec-tuned-endpoint }',
        '',
      ].join('\n'),
    );
    const applied = await kennel('apply', '-f', spec);
    assert.equal(applied.code, 0, applied.stderr);
    const best = applied.stdout.match(/tuning job spec-hpo: Completed; best validation:accuracy [\d.]+ with (.*)\n/);
    assert.ok(best, applied.stdout);
    const tuned = Object.fromEntries(best[1].split(' ').map((pair) => pair.split('=')));
    const job = await json<{ HyperParameters: Record<string, string>; DebugRuleConfigurations: { RuleParameters: Record<string, string> }[]; ProfilerRuleEvaluationStatuses: { RuleEvaluationStatus: string }[] }>(
      'training-jobs', 'describe', 'spec-tuned-job',
    );
    assert.deepEqual(job.DebugRuleConfigurations.map((c) => c.RuleParameters), [{ rule_to_invoke: 'ExplodingTensor', action_json: '[{"name":"stoptraining"}]' }], 'the spec’s rules are on the job');
    assert.deepEqual(job.ProfilerRuleEvaluationStatuses.map((s) => s.RuleEvaluationStatus), ['NoIssuesFound']);
    assert.equal(job.HyperParameters.learning_rate, tuned.learning_rate, 'the tuned value replaces the static one');
    assert.equal(job.HyperParameters.batch_size, tuned.batch_size);
    assert.match(applied.stdout, /endpoint spec-tuned-endpoint InService/);
  });

  it("reports SageMaker's errors in one line, with the error type", async () => {
    const cases: [string[], RegExp][] = [
      [['training-jobs', 'describe', 'nope'], /^kennel: ValidationException: Requested resource not found\.\n$/],
      [['models', 'describe', 'nope'], /^kennel: ValidationException: Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model\/nope"\.\n$/],
      [['training-jobs', 'create', '--name', 'pets-1', '--dataset', 'pets'], /ResourceInUse: Training job names must be unique/],
      [['training-jobs', 'create', '--name', 'x', '--data', join(test.home, 'missing')], /ResourceNotFound: Channel training: file:\/\/.*missing does not exist/],
      [['training-jobs', 'create', '--name', 'x', '--dataset', 'pets', '--hp', 'epochs=zero'], /ValidationException: Hyperparameter epochs must be/],
      [['training-jobs', 'create', '--name', 'bad_name', '--dataset', 'pets'], /ValidationException: 1 validation error detected: .*'trainingJobName'/],
    ];
    for (const [args, message] of cases) {
      const result = await kennel(...args);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
    }
  });
});
