import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * An inference-script endpoint through `kill -9` of the server, driven with the kennel CLI as a
 * user would: the model server process does not outlive Kennel, and the restarted Kennel brings
 * the endpoint back from the state folder and serves it again.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const kennelBin = join(root, 'bin/kennel.js');

const SCRIPT = `
import json, os

def model_fn(model_dir):
    print("loading the greeting")
    with open(os.path.join(model_dir, "greeting.txt")) as f:
        return f.read().strip()

def input_fn(body, content_type):
    return json.loads(body)

def predict_fn(data, model):
    return {"greeting": model, "name": data["name"], "pid": os.getpid()}
`;

function up(home: string): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, [kennelBin, 'up', '--port', '0'], { cwd: home, env: { ...process.env, KENNEL_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kennel up did not listen; output:\n${output}`)), 120_000);
    const check = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/Kennel listening on (http:\/\/[^\s]+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`kennel up exited (${code}); output:\n${output}`)));
  });
  return { child, url };
}

function kennel(home: string, url: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [kennelBin, '--endpoint-url', url, ...args], { cwd: home, env: { ...process.env, KENNEL_HOME: home }, encoding: 'utf8' });
  assert.equal(result.status, 0, `kennel ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** Whether a process with this pid is still there (zombies of other parents count as gone). */
function alive(pid: number): boolean {
  const state = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return state !== '' && !state.startsWith('Z');
}

describe('an inference-script endpoint through kill -9 of the server', { timeout: 300_000 }, () => {
  const children: ChildProcess[] = [];
  let home: string;
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('leaves no model server behind, and comes back serving after a restart', async () => {
    home = await mkdtemp(join(tmpdir(), 'kennel-script-crash-'));
    const modelDir = join(home, 'model');
    await mkdir(join(modelDir, 'code'), { recursive: true });
    await writeFile(join(modelDir, 'greeting.txt'), 'hello');
    await writeFile(join(modelDir, 'code', 'inference.py'), SCRIPT);
    assert.equal(spawnSync('tar', ['czf', join(home, 'model.tar.gz'), '-C', modelDir, '.']).status, 0);

    const first = up(home);
    children.push(first.child);
    const url = await first.url;
    kennel(home, url, 'models', 'create', '--name', 'greeter', '--model-data', join(home, 'model.tar.gz'), '--image', 'kennel/python:3');
    kennel(home, url, 'endpoint-configs', 'create', '--name', 'greeter', '--model', 'greeter');
    kennel(home, url, 'endpoints', 'create', '--name', 'greeter', '--config', 'greeter', '--wait');
    const request = join(home, 'request.json');
    await writeFile(request, JSON.stringify({ name: 'Rex' }));
    const answer = JSON.parse(kennel(home, url, 'endpoints', 'invoke', 'greeter', '--body', request, '-o', 'json')) as { greeting: string; name: string; pid: number };
    assert.deepEqual({ greeting: answer.greeting, name: answer.name }, { greeting: 'hello', name: 'Rex' });
    assert.ok(alive(answer.pid), 'the model server runs');
    const log = kennel(home, url, 'endpoints', 'logs', 'greeter');
    assert.match(log, /\[AllTraffic\] starting an instance of model greeter\n.*\[AllTraffic\] loading the greeting\n/s, `the endpoint's log has what the script printed:\n${log}`);

    await new Promise<void>((resolve) => {
      first.child.once('exit', () => resolve());
      first.child.kill('SIGKILL');
    });
    const deadline = Date.now() + 10_000;
    while (alive(answer.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(alive(answer.pid), false, 'the model server ended with the Kennel that started it');

    const second = up(home);
    children.push(second.child);
    const secondUrl = await second.url;
    const back = Date.now() + 60_000;
    let status = '';
    while (status !== 'InService' && Date.now() < back) {
      status = (JSON.parse(kennel(home, secondUrl, 'endpoints', 'describe', 'greeter', '-o', 'json')) as { EndpointStatus: string }).EndpointStatus;
      if (status !== 'InService') await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(status, 'InService', 'the endpoint is back after the restart');
    const again = JSON.parse(kennel(home, secondUrl, 'endpoints', 'invoke', 'greeter', '--body', request, '-o', 'json')) as { greeting: string; pid: number };
    assert.equal(again.greeting, 'hello');
    assert.notEqual(again.pid, answer.pid, 'a new model server serves');

    // The unpacked model folder stays while an endpoint serves it, and goes once its instance has drained after DeleteEndpoint.
    const modelFolders = async () => (await readdir(join(home, 'serving'))).filter((name) => /^[0-9a-f]{64}$/.test(name));
    assert.equal((await modelFolders()).length, 1);
    kennel(home, secondUrl, 'endpoints', 'delete', 'greeter');
    const gone = Date.now() + 30_000;
    while (Date.now() < gone && (await modelFolders()).length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    assert.deepEqual(await modelFolders(), [], 'the folder of the deleted endpoint was removed');

    // A folder that a Kennel killed mid-drain left behind goes at the next start.
    const stale = join(home, 'serving', 'f'.repeat(64));
    await mkdir(join(stale, 'code'), { recursive: true });
    await new Promise<void>((resolve) => {
      second.child.once('exit', () => resolve());
      second.child.kill('SIGKILL');
    });
    const third = up(home);
    children.push(third.child);
    await third.url;
    assert.deepEqual(await modelFolders(), [], 'the stale folder was removed at start');
    third.child.kill('SIGTERM');
  });
});
