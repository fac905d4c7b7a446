import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileMetricDefinitions, scrapeMetrics, type MetricSample } from '../../domain/training/metric-definitions.ts';
import { failureReason, resolveFrameworkImage, scriptArguments, scriptEnvironment, scriptModeSettings } from '../../domain/training/script-mode.ts';
import { unpackModelArchive } from '../models/model-archive.ts';
import { prepareScriptJobFolder } from './job-folder.ts';
import { packModelDir } from './model-output.ts';
import { runScript, scriptCommand, type OutputStream } from './script-process.ts';
import { locateProgram, unpackSourceDir, type SourceCode } from './source-code.ts';

/**
 * The script-mode contract end to end, as a training job runs it: the job
 * folder, the source code, the environment and arguments, the run, the
 * metrics and the model.tar.gz, with a Python and a Node.js script written
 * as people write them for SageMaker.
 */

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kennel-script-mode-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

async function trainingJob(image: string, program: string, source: SourceCode, submitDirectory: string) {
  const numbers = join(scratch, 'numbers-object');
  writeFileSync(numbers, '1\n2\n3\n');
  // As the SageMaker Python SDK sends them: every value json.dumps-ed.
  const hyperParameters = {
    learning_rate: '0.05',
    epochs: '3',
    sagemaker_program: JSON.stringify(program),
    sagemaker_submit_directory: JSON.stringify(submitDirectory),
    sagemaker_region: '"us-east-1"',
    sagemaker_container_log_level: '20',
  };
  const framework = resolveFrameworkImage(image)!;
  const settings = scriptModeSettings({ hyperParameters, image: framework, channelNames: ['training'] });
  const folder = await prepareScriptJobFolder(join(scratch, 'job'), {
    hyperParameters,
    instanceType: 'ml.m5.large',
    channels: [{ name: 'training', source: { kind: 'files', files: [{ path: numbers, relativePath: 'numbers.txt' }] } }],
  });
  await unpackSourceDir(source, folder.paths.codeDir);
  await locateProgram(folder.paths.codeDir, settings.program);
  const env = scriptEnvironment({
    jobName: 'contract-1',
    jobArn: 'arn:aws:sagemaker:us-east-1:000000000000:training-job/contract-1',
    region: 'us-east-1',
    image: framework,
    hyperParameters,
    channels: folder.channels,
    paths: folder.paths,
    instanceType: 'ml.m5.large',
    numCpus: 2,
  });
  const args = scriptArguments(hyperParameters);
  const metrics = compileMetricDefinitions([{ name: 'train:loss', regex: 'loss=([0-9.]+)' }]);
  const samples: MetricSample[] = [];
  const lines: [OutputStream, string][] = [];
  const exit = await runScript({
    interpreter: framework.interpreter,
    program: settings.program,
    args,
    env,
    cwd: folder.paths.codeDir,
    onLine: (stream, line) => {
      lines.push([stream, line]);
      samples.push(...scrapeMetrics(line, metrics));
    },
  });
  return { exit, lines, samples, args, folder, command: scriptCommand(framework.interpreter, settings.program, args) };
}

async function modelJson(modelDir: string): Promise<Record<string, unknown>> {
  const packed = await packModelDir(modelDir);
  const files = await unpackModelArchive(packed.archive);
  return JSON.parse(new TextDecoder().decode(files.get('model.json'))) as Record<string, unknown>;
}

describe('script mode', () => {
  it('runs a Python script from a source folder on a PyTorch image', async () => {
    const { exit, lines, samples, args, folder } = await trainingJob(
      '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:1.13.1-cpu-py39',
      'train.py',
      { kind: 'folder', path: FIXTURES },
      pathToFileURL(FIXTURES).href,
    );
    assert.deepEqual(exit, { exitCode: 0, signal: null, killedAfterGrace: false });
    assert.deepEqual(args, ['--epochs', '3', '--learning_rate', '0.05']);
    assert.deepEqual(
      samples.map(({ value }) => value),
      [0.5, 0.25, 0.125],
    );
    assert.ok(lines.some(([stream, line]) => stream === 'stderr' && line === 'note: this line goes to stderr'));
    assert.equal(readFileSync(join(folder.paths.outputDataDir, 'notes.txt'), 'utf8'), 'trained\n');
    assert.deepEqual(await modelJson(folder.paths.modelDir), {
      learning_rate: 0.05,
      epochs: 3,
      numbers: [1, 2, 3],
      loss: 0.125,
      argv: ['--epochs', '3', '--learning_rate', '0.05'],
      hps: { epochs: 3, learning_rate: 0.05 },
      num_cpus: 2,
      hosts: ['algo-1'],
      current_host: 'algo-1',
      channels: ['training'],
      module_name: 'train',
      training_env_hyperparameters: { epochs: 3, learning_rate: 0.05 },
      cwd: folder.paths.codeDir,
    });
  });

  it('runs a Node.js script from a sourcedir.tar.gz on Kennel’s Node image', async () => {
    const archive = join(scratch, 'sourcedir.tar.gz');
    execFileSync('tar', ['czf', archive, '-C', FIXTURES, '.']);
    const { exit, samples, folder } = await trainingJob(
      'kennel/node:20',
      'train.mjs',
      { kind: 'tarball', bytes: readFileSync(archive) },
      's3://sagemaker-us-east-1-000000000000/contract-1/source/sourcedir.tar.gz',
    );
    assert.deepEqual(exit, { exitCode: 0, signal: null, killedAfterGrace: false });
    assert.deepEqual(
      samples.map(({ value }) => value),
      [0.5, 0.25, 0.125],
    );
    const packed = await packModelDir(folder.paths.modelDir);
    assert.deepEqual(packed.files, ['model.json', 'weights/head.bin']);
    const model = await modelJson(folder.paths.modelDir);
    assert.deepEqual(
      { learning_rate: model.learning_rate, epochs: model.epochs, numbers: model.numbers, hps: model.hps, channels: model.channels },
      { learning_rate: 0.05, epochs: 3, numbers: [1, 2, 3], hps: { epochs: 3, learning_rate: 0.05 }, channels: ['training'] },
    );
  });

  it('turns a failing script into SageMaker’s FailureReason, with the last lines it printed', async () => {
    const { exit, lines, command } = await trainingJob('kennel/python:3', 'fail.py', { kind: 'folder', path: FIXTURES }, pathToFileURL(FIXTURES).href);
    assert.deepEqual(exit, { exitCode: 1, signal: null, killedAfterGrace: false });
    const reason = failureReason({ exitCode: exit.exitCode, signal: exit.signal, command: [command.file, ...command.args], lastLines: lines.slice(-10).map(([, line]) => line) });
    assert.match(reason, /^AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "epoch=1 loss=0\.9\nTraceback \(most recent call last\):\n/);
    assert.match(reason, /ValueError: bad data in the training channel"\nCommand "\S*python3?\S* fail\.py --epochs 3 --learning_rate 0\.05", exit code: 1$/);
  });
});
