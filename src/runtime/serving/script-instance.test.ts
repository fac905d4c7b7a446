import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { debianPythonWithNumpy } from '../../testing/aws-tools.ts';
import type { ScriptInstance } from './instance-types.ts';
import { describeIsolation } from '../functions/sandbox.ts';
import { startScriptInstance, type ScriptInstanceOptions } from './script-instance.ts';

/** A linear model: model_fn loads weights saved with numpy, predict_fn multiplies. All four functions are the script's own. */
const ALL_FOUR = `
import json, os
import numpy as np

def model_fn(model_dir):
    return np.load(os.path.join(model_dir, "weights.npy"))

def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError("send JSON, not " + content_type)
    return np.array(json.loads(body)["inputs"], dtype=np.float64)

def predict_fn(data, model):
    if np.any(data < 0):
        raise ValueError("negative inputs are not allowed")
    return data @ model

def output_fn(prediction, accept):
    return json.dumps({"outputs": prediction.tolist()}), "application/vnd.kennel+json"
`;

const ONLY_MODEL_FN = `
import os
import numpy as np

class Doubler:
    def __call__(self, data):
        return data * float(open(os.path.join(os.environ["SM_MODEL_DIR"], "factor.txt")).read())

def model_fn(model_dir):
    print("loading from", model_dir)
    return Doubler()
`;

const BAD_MODEL_FN = `
def model_fn(model_dir):
    raise ValueError("weights.npy is from another model")
`;

const HOSTILE = `
import os, sys, time

def model_fn(model_dir):
    return None

def predict_fn(data, model):
    if data == "exit":
        os._exit(3)
    if data == "sleep":
        time.sleep(float(os.environ.get("SLEEP_SECONDS", "30")))
    if data == "garbage":
        os.write(4, b"\\xff\\xff\\xff\\xff not a frame")
        time.sleep(5)
    print("serving", data)
    sys.stdout.flush()
    return data
`;

const NODE_ALL_FOUR = `
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
export async function model_fn(modelDir) {
  return { offset: Number(await readFile(join(modelDir, 'offset.txt'), 'utf8')) };
}
export const input_fn = (body, contentType) => JSON.parse(body.toString('utf8')).inputs;
export const predict_fn = (data, model) => {
  if (data.some((x) => x < 0)) throw Object.assign(new Error('negative inputs are not allowed'), { statusCode: 422 });
  return data.map((x) => x + model.offset);
};
export const output_fn = (prediction, accept) => [JSON.stringify({ outputs: prediction }), accept];
`;

/** A Node.js script that computes synchronously for `busy` seconds, exits its process, or fails to load, as asked. */
const NODE_HOSTILE = `
if (process.env.FAIL_TO_LOAD) await Promise.resolve();
export function model_fn(modelDir) {
  if (process.env.FAIL_TO_LOAD) throw new RangeError('offset.txt is from another model');
  return null;
}
export function predict_fn(data) {
  if (data.busy) {
    const end = Date.now() + data.busy * 1000;
    while (Date.now() < end);
  }
  if (data.exit) process.exit(data.exit);
  return data;
}
`;

describe('inference script instances', () => {
  let dir: string;
  let python: string;
  const started: ScriptInstance[] = [];

  before(async () => {
    python = debianPythonWithNumpy();
    dir = await mkdtemp(join(tmpdir(), 'kennel-script-instance-'));
  });
  after(async () => {
    await Promise.all(started.map((instance) => instance.close()));
    await rm(dir, { recursive: true, force: true });
  });

  /** A model folder with `files` (code/ among them) and an instance serving it. */
  async function serve(name: string, files: Record<string, string | Uint8Array>, overrides: Partial<ScriptInstanceOptions> = {}) {
    const modelDir = join(dir, name);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(modelDir, path, '..'), { recursive: true });
      await writeFile(join(modelDir, path), content);
    }
    await mkdir(join(modelDir, 'code'), { recursive: true });
    const tmpDir = join(dir, `${name}-tmp`);
    await mkdir(tmpDir, { recursive: true });
    const logs: string[] = [];
    const instance = await startScriptInstance({
      modelName: name,
      variantName: 'AllTraffic',
      interpreter: 'python',
      modelDir,
      codeDir: join(modelDir, 'code'),
      program: 'inference.py',
      tmpDir,
      environment: {},
      threads: 1,
      timeoutMs: 20_000,
      startTimeoutMs: 20_000,
      onLog: (_stream, line) => logs.push(line),
      logHint: 'See the test log.',
      serverEnv: { KENNEL_PYTHON: python },
      ...overrides,
    });
    started.push(instance);
    return { instance, logs, tmpDir };
  }

  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

  it('runs all four functions of a numpy script, with model_fn once at start', async () => {
    const weights = npy([[1, 2], [3, 4]]);
    const { instance } = await serve('linear', { 'weights.npy': weights, 'code/inference.py': ALL_FOUR });
    const answer = await instance.invoke({ body: json({ inputs: [[1, 1], [0, 2]] }), contentType: 'application/json' });
    assert.equal(answer.contentType, 'application/vnd.kennel+json');
    assert.deepEqual(JSON.parse(text(answer.body)), { outputs: [[4, 6], [6, 8]] });
    const refused = await instance.invoke({ body: json({ inputs: [[-1, 0]] }), contentType: 'application/json' }).catch((error: unknown) => error);
    assert.ok(isDomainError(refused) && refused.code === 'ModelError', String(refused));
    assert.equal(refused.details.originalStatusCode, 500);
    assert.equal(refused.details.originalMessage, 'negative inputs are not allowed');
    assert.match(refused.message, /^Received server error \(500\) from primary with message "negative inputs are not allowed"/);
    const again = await instance.invoke({ body: json({ inputs: [[2, 0]] }), contentType: 'application/json' });
    assert.deepEqual(JSON.parse(text(again.body)), { outputs: [[2, 4]] }, 'the instance serves on after a failing request');
  });

  it("uses the toolkit's defaults for what the script leaves out: JSON and CSV in, the model called, JSON out", async () => {
    const { instance, logs } = await serve('doubler', { 'factor.txt': '2', 'code/inference.py': ONLY_MODEL_FN });
    const answer = await instance.invoke({ body: json([[1, 2], [3, 4]]), contentType: 'application/json' });
    assert.equal(answer.contentType, 'application/json');
    assert.deepEqual(JSON.parse(text(answer.body)), [[2, 4], [6, 8]]);
    const csv = await instance.invoke({ body: new TextEncoder().encode('1,2\n3,4\n'), contentType: 'text/csv', accept: 'text/csv' });
    assert.equal(text(csv.body), '2.0,4.0\n6.0,8.0\n');
    // The toolkit's UnsupportedFormatError, which its transformer answers with 500.
    const unsupported = await instance.invoke({ body: new Uint8Array([1, 2]), contentType: 'image/gif' }).catch((error: unknown) => error);
    assert.ok(isDomainError(unsupported) && unsupported.details.originalStatusCode === 500, String(unsupported));
    assert.match(unsupported.message, /^Received server error \(500\) from primary with message "Content type image\/gif is not supported by this framework/);
    assert.ok(logs.some((line) => line.startsWith('loading from ')), 'what the script prints is its log');
  });

  it('reports a model_fn that raises with its error and where it was raised', async () => {
    await assert.rejects(serve('bad', { 'code/inference.py': BAD_MODEL_FN }), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.match(error.message, /model_fn or its import raised ValueError: weights\.npy is from another model\) at File ".*inference\.py", line 3, in model_fn/);
      return true;
    });
    await assert.rejects(serve('missing', { 'code/other.py': '' }), /raised ModuleNotFoundError: No module named 'inference'/);
    await assert.rejects(serve('syntax', { 'code/inference.py': 'def model_fn(:\n' }), /raised SyntaxError/);
  });

  it('refuses the requests in flight when the process exits, says it died, and removes its private folder', async () => {
    const { instance, tmpDir } = await serve('exits', { 'code/inference.py': HOSTILE });
    const died = new Promise<string>((resolve) => instance.onExit(resolve));
    const queued = instance.invoke({ body: json('queued'), contentType: 'application/json' });
    const exiting = instance.invoke({ body: json('exit'), contentType: 'application/json' });
    const behind = instance.invoke({ body: json('behind'), contentType: 'application/json' });
    assert.equal(text((await queued).body), '"queued"');
    for (const request of [exiting, behind]) {
      await assert.rejects(request, (error: unknown) => isDomainError(error) && error.code === 'ServiceUnavailable' && /exited with code 3/.test(error.message));
    }
    assert.match(await died, /its process exited with code 3/);
    assert.equal(instance.alive, false);
    await assert.rejects(instance.invoke({ body: json('after'), contentType: 'application/json' }), /stopped/);
    await assert.rejects(instance.ping(), /stopped/, 'a ping of a dead instance is refused, not left waiting');
    await waitFor(async () => (await stat(tmpDir).catch(() => undefined)) === undefined);
  });

  it('answers pings while a request runs, and gives up on a request past the timeout', async () => {
    const { instance } = await serve('slow', { 'code/inference.py': HOSTILE }, { timeoutMs: 1500 });
    const died = new Promise<string>((resolve) => instance.onExit(resolve));
    const slow = instance.invoke({ body: json('sleep'), contentType: 'application/json' });
    const pinged = performance.now();
    await instance.ping();
    assert.ok(performance.now() - pinged < 1000, 'a ping is answered while predict_fn sleeps');
    await assert.rejects(slow, (error: unknown) => isDomainError(error) && error.code === 'ModelError' && /timed out .* no answer within 1\.5 s/.test(error.message));
    assert.match(await died, /a request took longer than 1\.5 s/);
  });

  it('gives up on a process that writes garbage where the protocol goes', async () => {
    const { instance } = await serve('garbage', { 'code/inference.py': HOSTILE });
    const died = new Promise<string>((resolve) => instance.onExit(resolve));
    await assert.rejects(instance.invoke({ body: json('garbage'), contentType: 'application/json' }), /broke the protocol/);
    assert.match(await died, /broke the protocol: a frame header of \d+ bytes, over the/);
  });

  it('serves a Node.js inference.mjs with the same contract', async () => {
    const { instance } = await serve('node', { 'offset.txt': '10', 'code/inference.mjs': NODE_ALL_FOUR }, { interpreter: 'node', program: 'inference.mjs' });
    const answer = await instance.invoke({ body: json({ inputs: [1, 2] }), contentType: 'application/json', accept: 'application/json' });
    assert.deepEqual(JSON.parse(text(answer.body)), { outputs: [11, 12] });
    assert.equal(answer.contentType, 'application/json');
    const smuggled = await instance.invoke({ body: json({ inputs: [1] }), contentType: 'application/json', accept: 'text/plain\r\nSet-Cookie: x=1' });
    assert.equal(smuggled.contentType, 'application/octet-stream', 'a content type that cannot be a header value is not passed on');
    const refused = await instance.invoke({ body: json({ inputs: [-1] }), contentType: 'application/json' }).catch((error: unknown) => error);
    assert.ok(isDomainError(refused) && refused.details.originalStatusCode === 422 && refused.details.originalMessage === 'negative inputs are not allowed', String(refused));
  });

  it('answers pings while a synchronous Node.js predict_fn holds its thread, and gives up on it past the timeout', async () => {
    const { instance } = await serve('node-busy', { 'code/inference.mjs': NODE_HOSTILE }, { interpreter: 'node', program: 'inference.mjs', timeoutMs: 4000 });
    const busy = instance.invoke({ body: json({ busy: 2 }), contentType: 'application/json' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pinged = performance.now();
    await instance.ping();
    assert.ok(performance.now() - pinged < 1000, `a ping is answered while predict_fn computes (${(performance.now() - pinged).toFixed(0)} ms)`);
    assert.deepEqual(JSON.parse(text((await busy).body)), { busy: 2 });
    const died = new Promise<string>((resolve) => instance.onExit(resolve));
    const stuck = instance.invoke({ body: json({ busy: 30 }), contentType: 'application/json' });
    await assert.rejects(stuck, (error: unknown) => isDomainError(error) && error.code === 'ModelError' && /timed out/.test(error.message));
    assert.match(await died, /a request took longer than 4 s/);
  });

  it('ends the Node.js instance when its script calls process.exit, failing the request in flight', async () => {
    const { instance } = await serve('node-exits', { 'code/inference.mjs': NODE_HOSTILE }, { interpreter: 'node', program: 'inference.mjs' });
    const died = new Promise<string>((resolve) => instance.onExit(resolve));
    assert.deepEqual(JSON.parse(text((await instance.invoke({ body: json({ n: 1 }), contentType: 'application/json' })).body)), { n: 1 });
    await assert.rejects(instance.invoke({ body: json({ exit: 5 }), contentType: 'application/json' }), (error: unknown) => isDomainError(error) && error.code === 'ServiceUnavailable' && /exited with code 5/.test(error.message));
    assert.match(await died, /its process exited with code 5/);
  });

  it('reports a Node.js model_fn that throws with its error and the line of the script that threw', async () => {
    await assert.rejects(serve('node-bad', { 'code/inference.mjs': NODE_HOSTILE }, { interpreter: 'node', program: 'inference.mjs', environment: { FAIL_TO_LOAD: '1' } }), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.match(error.message, /model_fn or its import raised RangeError: offset\.txt is from another model\) at (Object\.)?model_fn \(file:\/\/.*inference\.mjs:4:/);
      return true;
    });
  });

  it("keeps the script out of everything but its model folder and its own, where the kernel has Landlock", async () => {
    const secret = join(dir, 'credentials');
    await writeFile(secret, '[kennel]\naws_secret_access_key = not-for-scripts\n');
    const probe = `
def model_fn(model_dir):
    return None

def predict_fn(data, model):
    try:
        with open(str(data)) as f:
            return {"read": f.read()}
    except OSError as error:
        return {"refused": type(error).__name__}
`;
    const { instance, tmpDir } = await serve('nosy', { 'weights.txt': 'w', 'code/inference.py': probe });
    const read = async (path: string) => JSON.parse(text((await instance.invoke({ body: json(path), contentType: 'application/json' })).body)) as { read?: string; refused?: string };
    assert.deepEqual(await read(join(dir, 'nosy', 'weights.txt')), { read: 'w' }, 'its model folder is readable');
    await writeFile(join(tmpDir, 'scratch'), 'mine');
    assert.deepEqual(await read(join(tmpDir, 'scratch')), { read: 'mine' }, 'its private folder is readable');
    const isolation = await describeIsolation({ KENNEL_PYTHON: python });
    if (isolation.landlock.available) assert.deepEqual(await read(secret), { refused: 'PermissionError' }, 'a file beside the model folder is refused');
    else assert.deepEqual(await read(secret), { read: '[kennel]\naws_secret_access_key = not-for-scripts\n' }, `without Landlock (${isolation.landlock.reason}) nothing holds the script`);
  });

  it('times out a request that waits too long behind others without giving up on a healthy instance', async () => {
    const { instance } = await serve('queue', { 'code/inference.py': HOSTILE }, { timeoutMs: 1500, environment: { SLEEP_SECONDS: '0.6' } });
    // Five requests of 0.6 s each, one at a time: the first two answer within the 1.5 s the whole call may take, the rest do not.
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => instance.invoke({ body: json('sleep'), contentType: 'application/json' })));
    const answered = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    assert.equal(answered.length, 2, JSON.stringify(outcomes.map((outcome) => outcome.status)));
    for (const answer of answered) assert.ok(answer.computeMs >= 550 && answer.computeMs < 1400, `the script's own time (${answer.computeMs} ms) is what it took, its wait aside`);
    assert.ok(answered[1].modelLatencyMs > 1100, 'ModelLatency includes the wait behind the first');
    for (const outcome of outcomes.slice(2)) assert.match(String((outcome as PromiseRejectedResult).reason), /timed out while waiting for a response from container primary/);
    // No single request ran past the timeout: the process is kept, and serves once it has worked through the abandoned ones.
    assert.equal(instance.alive, true);
    await new Promise((resolve) => setTimeout(resolve, 1700));
    assert.equal(text((await instance.invoke({ body: json('after'), contentType: 'application/json' })).body), '"after"');
  });

  it("passes the toolkit's context, runs pre_model_fn and model_warmup_fn, and offers the toolkit's own modules", async () => {
    const script = `
from sagemaker_inference import content_types, errors

calls = []

def pre_model_fn(model_dir):
    calls.append("pre")

def model_fn(model_dir, context):
    calls.append("model:" + context.system_properties["model_dir"].split("/")[-1])
    return "m"

def model_warmup_fn(model_dir, model):
    calls.append("warmup:" + model)

def transform_fn(model, body, content_type, accept, context):
    headers = context.request_processor[0].get_request_properties()
    if body == b"teapot":
        raise errors.GenericInferenceToolkitError(418, "I am a teapot")
    return {"calls": calls, "attributes": headers.get("X-Amzn-SageMaker-Custom-Attributes"), "json": content_types.JSON}, "application/json"
`;
    const { instance } = await serve('toolkit', { 'code/inference.py': script });
    const answer = await instance.invoke({ body: new TextEncoder().encode('hello'), contentType: 'text/plain', customAttributes: 'top_k=3' });
    assert.deepEqual(JSON.parse(text(answer.body)), { calls: ['pre', 'model:toolkit', 'warmup:m'], attributes: 'top_k=3', json: 'application/json' });
    const teapot = await instance.invoke({ body: new TextEncoder().encode('teapot'), contentType: 'text/plain' }).catch((error: unknown) => error);
    assert.ok(isDomainError(teapot) && teapot.details.originalStatusCode === 418 && teapot.details.originalMessage === 'I am a teapot', String(teapot));
  });

  it('fails an answer over 6 MB, and serves on', async () => {
    const script = `
def model_fn(model_dir):
    return None

def transform_fn(model, body, content_type, accept):
    return b"x" * (int(body) if isinstance(body, (bytes, str)) else 0)
`;
    const { instance } = await serve('huge', { 'code/inference.py': script });
    const huge = await instance.invoke({ body: new TextEncoder().encode(String(7 * 1024 * 1024)), contentType: 'text/plain' }).catch((error: unknown) => error);
    assert.ok(isDomainError(huge) && huge.code === 'ModelError', String(huge));
    assert.match(huge.message, /the response is 7340032 bytes, over InvokeEndpoint's limit of 6291456 bytes/);
    assert.equal((await instance.invoke({ body: new TextEncoder().encode('3'), contentType: 'text/plain' })).body.length, 3);
  });

  it('says which interpreter is missing', async () => {
    await assert.rejects(serve('no-python', { 'code/inference.py': ONLY_MODEL_FN }, { serverEnv: { KENNEL_PYTHON: '/nonexistent/python3' } }), /the interpreter \/nonexistent\/python3 was not found/);
  });
});

/** A float64 .npy file of a 2-D array: numpy's format, version 1.0. */
function npy(rows: number[][]): Uint8Array {
  const shape = `(${rows.length}, ${rows[0].length})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const data = new Float64Array(rows.flat());
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer), 10 + header.length);
  return out;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) assert.fail('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
