import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  UpdateEndpointCommand,
  waitUntilEndpointInService,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { KENNEL_EXECUTION_ROLE_ARN } from '../../domain/iam/arn.ts';
import { packModelArchive } from '../../runtime/models/model-archive.ts';
import { AwsClientPool } from '../../testing/aws-clients.ts';
import { awsToolEnv, debianPythonWithNumpy, requireDebianTool, sdkFailure } from '../../testing/aws-tools.ts';
import { startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';

/**
 * Inference scripts, SageMaker's model_fn / input_fn / predict_fn / output_fn, deployed and
 * invoked as users do: boto3 (Debian's python3-boto3) for the workflow, the JS SDK for the
 * faults. Kennel serves them with Debian's Python, whose numpy the scripts use; no torch needed.
 */
const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const IMAGE = 'pytorch-inference:1.13.1-cpu-py39';

interface Invocation {
  status: number;
  contentType?: string;
  body?: unknown;
  code?: string;
  message?: string;
  originalStatusCode?: number;
  originalMessage?: string;
}

describe('inference scripts on endpoints', { timeout: 600_000 }, () => {
  let test: TestKennel;
  let python: string;
  let work: string;
  let pool: AwsClientPool;
  let sagemaker: SageMakerClient;
  let runtime: SageMakerRuntimeClient;

  before(async () => {
    python = debianPythonWithNumpy();
    requireDebianTool(python, 'python3-boto3');
    // The server runs the scripts (and the script-mode training job) with this Python.
    process.env.KENNEL_PYTHON = python;
    test = await startTestKennel();
    work = await mkdtemp(join(tmpdir(), 'kennel-inference-scripts-'));
    pool = new AwsClientPool(test.url);
    ({ sagemaker, runtime } = pool.for(test.credentials));
  });
  after(async () => {
    pool?.destroy();
    await test?.close();
    await rm(work, { recursive: true, force: true });
    delete process.env.KENNEL_PYTHON;
  });

  it('boto3 deploys numpy scripts: all four functions, model_fn alone, a failing model_fn, and a script-mode job\'s output', async () => {
    const { stdout, stderr } = await run(python, [join(here, 'inference-scripts.fixture.py')], { env: awsToolEnv(test, { WORK: work }), encoding: 'utf8', timeout: 300_000 });
    const found = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      linear: Invocation[];
      defaults: Invocation;
      brokenWaiter: string;
      broken: { status: string; reason: string };
      trainingStatus: string;
      artifacts: string;
      trained: Invocation;
    };
    const [ok, refused, again] = found.linear;
    assert.deepEqual(ok, { status: 200, contentType: 'application/json', body: { outputs: [[4, 6]] } }, stderr);
    assert.equal(refused.status, 424);
    assert.equal(refused.code, 'ModelError');
    assert.equal(refused.originalStatusCode, 500);
    assert.equal(refused.originalMessage, 'negative inputs are not allowed');
    assert.match(refused.message!, /Received server error \(500\) from primary with message "negative inputs are not allowed"/);
    assert.deepEqual(again.body, { outputs: [[3, 4]] }, 'the instance serves on after predict_fn raised');

    assert.deepEqual(found.defaults, { status: 200, contentType: 'application/json', body: [[3, 6], [9, 12]] }, 'the default input_fn, predict_fn and output_fn');

    assert.match(found.brokenWaiter, /Waiter EndpointInService failed/);
    assert.equal(found.broken.status, 'Failed');
    assert.match(found.broken.reason, /model_fn or its import raised ValueError: weights\.npy is from another model/);

    assert.equal(found.trainingStatus, 'Completed');
    assert.equal(found.artifacts, 's3://sagemaker-us-east-1-000000000000/scale/scale-job/output/model.tar.gz');
    assert.deepEqual(found.trained.body, [5, 10], "the training job's factor, served by the inference script");
  });

  /** A model whose script answers `version` for every request, after `delay` seconds. */
  async function versionModel(name: string, version: string, delay = 0): Promise<void> {
    const script = ['import json, time', 'def model_fn(model_dir):', `    return ${JSON.stringify(version)}`, 'def input_fn(body, content_type):', '    return body', 'def predict_fn(data, model):', `    time.sleep(${delay})`, '    return model'].join('\n');
    const path = join(work, `${name}.tar.gz`);
    await writeFile(path, await packModelArchive({ 'code/inference.py': new TextEncoder().encode(script) }));
    await sagemaker.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: KENNEL_EXECUTION_ROLE_ARN, PrimaryContainer: { Image: IMAGE, ModelDataUrl: pathToFileURL(path).href } }));
    await sagemaker.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }),
    );
  }

  it('updates a script endpoint to a new model with no request lost (blue/green)', async () => {
    await versionModel('v1', 'v1', 0.05);
    await versionModel('v2', 'v2', 0.05);
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: 'versions', EndpointConfigName: 'v1' }));
    await waitUntilEndpointInService({ client: sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: 'versions' });
    const answers: string[] = [];
    const failures: string[] = [];
    let updating = true;
    const load = (async () => {
      while (updating) {
        try {
          const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'versions', ContentType: 'application/json', Body: '{}' }));
          answers.push(JSON.parse(new TextDecoder().decode(answer.Body)) as string);
        } catch (error) {
          failures.push(String(error));
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'versions', EndpointConfigName: 'v2' }));
    await waitUntilEndpointInService({ client: sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: 'versions' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    updating = false;
    await load;
    assert.deepEqual(failures, [], 'no request failed during the update');
    assert.equal(answers[0], 'v1');
    assert.equal(answers.at(-1), 'v2');
    const switched = answers.indexOf('v2');
    assert.ok(answers.slice(switched).every((answer) => answer === 'v2'), `traffic switched once, in one step: ${answers.join(' ')}`);
    await waitFor(() => test.kennel.platform.instances.count('versions') === 1, 'the old instance drained and closed');
    // The old model's unpacked folder goes with its last instance; the new one's stays.
    const servingScripts = async () => {
      const serving = join(test.home, 'serving');
      const keys = (await readdir(serving)).filter((name) => /^[0-9a-f]{64}$/.test(name));
      return Promise.all(keys.map((key) => readFile(join(serving, key, 'code', 'inference.py'), 'utf8').catch(() => '')));
    };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await servingScripts()).some((script) => script.includes('return "v1"'))) await new Promise((resolve) => setTimeout(resolve, 50));
    const scripts = await servingScripts();
    assert.ok(!scripts.some((script) => script.includes('return "v1"')), "v1's model folder was removed once it drained");
    assert.ok(scripts.some((script) => script.includes('return "v2"')), "v2's model folder serves");
  });

  it('replaces an instance whose process exits, failing the requests in flight cleanly', async () => {
    const script = [
      'import os, time',
      'def model_fn(model_dir):',
      '    return None',
      'def predict_fn(data, model):',
      '    if data == "exit":',
      '        os._exit(7)',
      '    time.sleep(1.0 if data == "first" else 0.2)',
      '    return data',
    ].join('\n');
    const path = join(work, 'exits.tar.gz');
    await writeFile(path, await packModelArchive({ 'code/inference.py': new TextEncoder().encode(script) }));
    await sagemaker.send(new CreateModelCommand({ ModelName: 'exits', ExecutionRoleArn: KENNEL_EXECUTION_ROLE_ARN, PrimaryContainer: { Image: IMAGE, ModelDataUrl: pathToFileURL(path).href } }));
    await sagemaker.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: 'exits', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'exits', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }),
    );
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: 'exits', EndpointConfigName: 'exits' }));
    await waitUntilEndpointInService({ client: sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: 'exits' });
    const invoke = (data: string) => runtime.send(new InvokeEndpointCommand({ EndpointName: 'exits', ContentType: 'application/json', Body: JSON.stringify(data) }));
    const [before] = test.kennel.platform.instances.list('exits');

    // One at a time per instance, in the order they arrive: 'first' runs while 'exit' and then 'behind' queue behind it.
    const pause = () => new Promise((resolve) => setTimeout(resolve, 250));
    const inFlight = [invoke('first')];
    await pause();
    inFlight.push(invoke('exit'));
    await pause();
    inFlight.push(invoke('behind'));
    const outcomes = await Promise.allSettled(inFlight);
    assert.equal(outcomes[0].status, 'fulfilled', 'the request before the exit was answered');
    for (const outcome of outcomes.slice(1)) {
      assert.equal(outcome.status, 'rejected');
      const failure = await sdkFailure(Promise.reject((outcome as PromiseRejectedResult).reason));
      assert.equal(failure.status, 503, failure.message);
      assert.match(failure.message, /stopped \(its process exited with code 7\); retry the request/);
    }

    const deadline = Date.now() + 60_000;
    let answered: string | undefined;
    while (Date.now() < deadline) {
      const answer = await invoke('after').catch(() => undefined);
      if (answer) {
        answered = JSON.parse(new TextDecoder().decode(answer.Body)) as string;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(answered, 'after', 'a new instance serves');
    const [replacement] = test.kennel.platform.instances.list('exits');
    assert.notEqual(replacement, before, 'the dead instance was replaced');
    const described = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'exits' }));
    assert.equal(described.EndpointStatus, 'InService');
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
