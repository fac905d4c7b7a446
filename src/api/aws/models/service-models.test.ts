import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { httpBinding, messageBindings } from '../rest-json-model.ts';
import { getShape, loadServiceModel, operationNames, type ServiceModel, type Shape } from '../service-model.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const botocoreData = process.env.BOTOCORE_DATA || '/usr/lib/python3/dist-packages/botocore/data';
const manifest = JSON.parse(readFileSync(new URL('./manifest.json', import.meta.url), 'utf8')) as Record<
  string,
  { botocore: string; operations: string[] }
>;

function runScript(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['scripts/service-models.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

function referencedShapes(shape: Shape): string[] {
  if (shape.type === 'structure') return Object.values(shape.members).map((ref) => ref.shape);
  if (shape.type === 'list') return [shape.member.shape];
  if (shape.type === 'map') return [shape.key.shape, shape.value.shape];
  return [];
}

function reachableShapes(model: ServiceModel): Set<string> {
  const seen = new Set<string>();
  const pending = Object.values(model.operations).flatMap((operation) =>
    [operation.input, operation.output, ...(operation.errors ?? [])].filter((ref) => ref !== undefined).map((ref) => ref.shape),
  );
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    pending.push(...referencedShapes(getShape(model, name)));
  }
  return seen;
}

function keysAreSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysAreSorted);
  if (value === null || typeof value !== 'object') return true;
  const keys = Object.keys(value);
  return keys.every((key, index) => index === 0 || keys[index - 1] < key) && Object.values(value).every(keysAreSorted);
}

test('the committed models are what scripts/service-models.js generates from the installed botocore', () => {
  assert.ok(
    existsSync(botocoreData),
    `botocore's service models are not at ${botocoreData}. Install Debian's python3-botocore ` +
      '(apt-get install python3-botocore), or set BOTOCORE_DATA, to check the committed models against them.',
  );
  const result = runScript(['--check']);
  assert.equal(result.status, 0, result.stderr);
});

test('--check names the file that differs from botocore', () => {
  const data = mkdtempSync(join(tmpdir(), 'kennel-botocore-'));
  try {
    // The other services' models as botocore has them, so only sagemaker's differs.
    for (const [service, entry] of Object.entries(manifest)) {
      if (service === 'sagemaker') continue;
      mkdirSync(join(data, entry.botocore), { recursive: true });
      writeFileSync(join(data, entry.botocore, 'service-2.json'), readFileSync(join(botocoreData, entry.botocore, 'service-2.json')));
    }
    const { botocore } = manifest.sagemaker;
    const model = JSON.parse(readFileSync(join(botocoreData, botocore, 'service-2.json'), 'utf8'));
    model.shapes.TrainingJobName.max = 64;
    mkdirSync(join(data, botocore), { recursive: true });
    writeFileSync(join(data, botocore, 'service-2.json'), JSON.stringify(model));
    const result = runScript(['--check'], { BOTOCORE_DATA: data });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /src\/api\/aws\/models\/sagemaker\.json differs/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('without botocore the script says which package to install', () => {
  const result = runScript(['--check'], { BOTOCORE_DATA: join(tmpdir(), 'kennel-no-botocore-here') });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /install python3-botocore/);
});

test('the sagemaker subset has the manifest operations, the shapes they reach and nothing else', () => {
  const model = loadServiceModel('sagemaker');
  assert.deepEqual(operationNames(model), [...manifest.sagemaker.operations].sort());
  assert.equal(model.metadata.protocol, 'json');
  assert.equal(model.metadata.targetPrefix, 'SageMaker');
  assert.deepEqual(Object.keys(model).sort(), ['metadata', 'operations', 'shapes']);
  assert.deepEqual([...reachableShapes(model)].sort(), Object.keys(model.shapes).sort());
  for (const name of ['CreateTrainingJobRequest', 'ProductionVariant', 'TrainingInstanceType', 'HyperParameters', 'ResourceInUse']) {
    assert.ok(name in model.shapes, name);
  }
  assert.equal(model.operations.CreateTrainingJob.input?.shape, 'CreateTrainingJobRequest');
});

test('the iam and sts subsets keep what the query protocol reads: namespace, version and result wrappers', () => {
  for (const [service, namespace, version] of [
    ['iam', 'https://iam.amazonaws.com/doc/2010-05-08/', '2010-05-08'],
    ['sts', 'https://sts.amazonaws.com/doc/2011-06-15/', '2011-06-15'],
  ]) {
    const model = loadServiceModel(service);
    assert.deepEqual(operationNames(model), [...manifest[service].operations].sort());
    assert.equal(model.metadata.protocol, 'query');
    assert.equal(model.metadata.xmlNamespace, namespace);
    assert.equal(model.metadata.apiVersion, version);
    assert.deepEqual([...reachableShapes(model)].sort(), Object.keys(model.shapes).sort());
  }
  const iam = loadServiceModel('iam');
  assert.equal(iam.operations.CreateUser.output?.resultWrapper, 'CreateUserResult');
  assert.equal(iam.operations.DeleteUser.output, undefined);
  assert.equal(loadServiceModel('sts').operations.AssumeRole.output?.resultWrapper, 'AssumeRoleResult');
});

test('the lambda subset keeps the REST bindings, and its Runtime enum takes the newer runtimes after botocore\'s', () => {
  const model = loadServiceModel('lambda');
  assert.deepEqual(operationNames(model), [...manifest.lambda.operations].sort());
  assert.equal(model.metadata.protocol, 'rest-json');
  assert.equal(model.metadata.signingName ?? model.metadata.endpointPrefix, 'lambda');
  assert.deepEqual([...reachableShapes(model)].sort(), Object.keys(model.shapes).sort());
  assert.deepEqual(httpBinding(model, 'ListProvisionedConcurrencyConfigs'), {
    method: 'GET',
    requestUri: '/2019-09-30/functions/{FunctionName}/provisioned-concurrency?List=ALL',
    responseCode: 200,
  });
  const invocation = messageBindings(model, 'InvocationRequest');
  assert.equal(invocation.payload?.name, 'Payload');
  assert.deepEqual(invocation.headers.map((member) => member.wireName).sort(), ['X-Amz-Client-Context', 'X-Amz-Invocation-Type', 'X-Amz-Log-Type']);
  assert.deepEqual(invocation.labels.map((member) => member.wireName), ['FunctionName']);
  const botocoreRuntimes = JSON.parse(readFileSync(join(botocoreData, manifest.lambda.botocore, 'service-2.json'), 'utf8')).shapes.Runtime.enum as string[];
  const runtime = getShape(model, 'Runtime');
  assert.ok(runtime.type === 'string' && runtime.enum);
  assert.deepEqual(runtime.enum.slice(0, botocoreRuntimes.length), botocoreRuntimes);
  for (const name of ['nodejs20.x', 'nodejs22.x', 'python3.10', 'python3.11', 'python3.12', 'python3.13']) assert.ok(runtime.enum.includes(name), name);
  assert.equal(new Set(runtime.enum).size, runtime.enum.length);
});

test('the generated file has no documentation and sorted keys', () => {
  const text = readFileSync(new URL('./sagemaker.json', import.meta.url), 'utf8');
  assert.doesNotMatch(text, /"documentation(Url)?"/);
  assert.ok(keysAreSorted(JSON.parse(text)));
  assert.ok(text.endsWith('}\n'));
  assert.ok(text.startsWith('{\n  "metadata"'));
});

test('loadServiceModel reads each model once and refuses names that are not model files', () => {
  assert.equal(loadServiceModel('sagemaker'), loadServiceModel('sagemaker'));
  assert.throws(() => loadServiceModel('../models/manifest'), /Invalid service name/);
  assert.throws(() => getShape(loadServiceModel('sagemaker'), 'NoSuchShape'), /has no shape NoSuchShape/);
});
