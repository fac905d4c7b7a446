import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

/**
 * `kennel up --sample` as a user runs it (`npm start` does exactly this), including
 * `kill -9` of the server and a restart on the same state folder.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const kennelBin = join(root, 'bin/kennel.js');
const STARTUP_LIMIT_MS = 280_000;

interface Running {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
}

function startUp(home: string, ...flags: string[]): Running {
  const child = spawn(process.execPath, [kennelBin, 'up', ...flags, '--port', '0'], {
    cwd: home,
    env: { ...process.env, KENNEL_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`)), STARTUP_LIMIT_MS);
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            child.off('exit', onExit);
            resolve(match);
          }
        };
        const onExit = (code: number | null) => {
          clearTimeout(timer);
          reject(new Error(`kennel up exited (${code}) before ${pattern}; output:\n${output}`));
        };
        child.stdout!.on('data', check);
        child.once('exit', onExit);
        check();
      }),
  };
}

function kill9(running: Running): Promise<void> {
  return new Promise((resolve) => {
    running.child.once('exit', () => resolve());
    running.child.kill('SIGKILL');
  });
}

function kennel(home: string, url: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [kennelBin, '--endpoint-url', url, ...args], {
    cwd: home,
    env: { ...process.env, KENNEL_HOME: home },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function kennelDb(home: string, sql: string): Record<string, string> {
  const db = new Database(join(home, 'kennel.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).get() as Record<string, string>;
  } finally {
    db.close();
  }
}

function countRows(home: string, sql: string): number {
  return Number(kennelDb(home, sql).n);
}

describe('kennel up --sample', { timeout: 900_000 }, () => {
  const homes: string[] = [];
  const children: Running[] = [];
  after(async () => {
    for (const running of children) running.child.kill('SIGKILL');
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('trains, deploys and serves; the printed curl works; after kill -9 it comes back without retraining; a damaged model heals', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kennel-up-'));
    homes.push(home);
    const first = startUp(home, '--sample');
    children.push(first);
    const [, url] = await first.waitFor(/Kennel listening on (http:\/\/[^\s]+)/);
    await first.waitFor(/Ready\./);
    const output = first.output();
    assert.match(output, /endpoint sample-classifier InService/);
    const accuracy = Number(output.match(/Test accuracy ([\d.]+)%/)?.[1]);
    assert.ok(accuracy >= 90, `sample test accuracy ${accuracy}% is under 90%`);

    // The printed curl, pasted into a shell as is, classifies the printed image correctly.
    const exampleClass = output.match(/Classify a test image of class (\S+) with curl:/)![1];
    const curl = output.match(/(curl --aws-sigv4[\s\S]*?\/invocations)/)![1];
    const pasted = spawnSync('bash', ['-c', curl], { cwd: home, encoding: 'utf8' });
    assert.equal(pasted.status, 0, pasted.stderr);
    const answer = JSON.parse(pasted.stdout) as { predictions: { label: string }[] };
    assert.equal(answer.predictions[0].label, exampleClass.replace(/^\d+\./, '').replace(/_/g, ' '));

    const jobsBefore = countRows(home, 'SELECT count(*) AS n FROM training_jobs');
    const embeddingsBefore = countRows(home, 'SELECT count(*) AS n FROM embeddings');
    assert.equal(jobsBefore, 1);
    assert.ok(embeddingsBefore > 0);

    await kill9(first);
    const second = startUp(home, '--sample');
    children.push(second);
    const [, secondUrl] = await second.waitFor(/Kennel listening on (http:\/\/[^\s]+)/);
    await second.waitFor(/Ready\./);
    assert.match(second.output(), /endpoint sample-classifier InService/);
    assert.doesNotMatch(second.output(), /Embedding images|Training epochs|Generating images/);
    assert.equal(countRows(home, 'SELECT count(*) AS n FROM training_jobs'), jobsBefore);
    assert.equal(countRows(home, 'SELECT count(*) AS n FROM embeddings'), embeddingsBefore);

    const invoked = kennel(home, secondUrl, 'endpoints', 'invoke', 'sample-classifier', '--file', output.match(/--data-binary @'([^']+)'/)![1], '-o', 'json');
    assert.equal(invoked.status, 0, invoked.stderr);
    assert.equal((JSON.parse(invoked.stdout) as { predictions: { label: string }[] }).predictions[0].label, answer.predictions[0].label);
    assert.notEqual(url, undefined);
    await kill9(second);

    // A damaged model file: the next start notices it, trains again (rewriting the file) and serves.
    const digest = (JSON.parse(kennelDb(home, "SELECT record FROM training_jobs").record) as { artifacts: { headModel: string } }).artifacts.headModel;
    const headFile = join(home, 'artifacts', 'sha256', digest.slice(0, 2), digest.slice(2));
    const bytes = await readFile(headFile);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(headFile, bytes);
    const third = startUp(home, '--sample');
    children.push(third);
    await third.waitFor(/Ready\./);
    assert.match(third.output(), /endpoint sample-classifier InService/);
    assert.equal(countRows(home, "SELECT count(*) AS n FROM training_jobs WHERE status = 'Completed'"), 2);
    await kill9(third);
  });

  it('a kill -9 during training resumes the same job on restart, from cached embeddings', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kennel-up-'));
    homes.push(home);
    const first = startUp(home, '--sample');
    children.push(first);
    await first.waitFor(/Embedding images: \d+\/\d+/);
    await kill9(first);
    assert.equal(countRows(home, "SELECT count(*) AS n FROM training_jobs WHERE status = 'InProgress'"), 1, 'killed while training');
    // Each batch is cached before its progress is reported, so what was reported is on disk.
    const cachedAtKill = countRows(home, 'SELECT count(*) AS n FROM embeddings');
    const images = 12 * 56;
    assert.ok(cachedAtKill > 0, 'the batches reported before the kill are cached');

    const second = startUp(home, '--sample');
    children.push(second);
    const [, url] = await second.waitFor(/Kennel listening on (http:\/\/[^\s]+)/);
    await second.waitFor(/Ready\./);
    assert.match(second.output(), /endpoint sample-classifier InService/);
    const jobs = JSON.parse(kennel(home, url, 'training-jobs', 'list', '-o', 'json').stdout) as { TrainingJobName: string; TrainingJobStatus: string }[];
    assert.deepEqual(
      jobs.map((job) => [job.TrainingJobName, job.TrainingJobStatus]),
      [['sample-classifier-training-1', 'Completed']],
      'the interrupted job was resumed, not replaced',
    );
    const metrics = JSON.parse(kennel(home, url, 'training-jobs', 'metrics', jobs[0].TrainingJobName, '-o', 'json').stdout) as {
      embeddingStats: { computed: number; cached: number };
    };
    assert.deepEqual(metrics.embeddingStats, { cached: cachedAtKill, computed: images - cachedAtKill }, 'only what the first run had not embedded was embedded again');
    const described = JSON.parse(kennel(home, url, 'training-jobs', 'describe', jobs[0].TrainingJobName, '-o', 'json').stdout) as {
      SecondaryStatusTransitions: { Status: string }[];
    };
    assert.ok(described.SecondaryStatusTransitions.some((transition) => transition.Status === 'Restarting'), 'the restart is in the job history');
    await kill9(second);
  });

  it('kill -9 and an immediate restart, again and again, never finds the state folder locked', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kennel-up-'));
    homes.push(home);
    // The restart runs while this process is blocked in spawnSync, so the killed server stays an
    // unreaped zombie whose pid still exists: the case a pid-file lock gets wrong.
    const restart = `
      log=$(mktemp); "$NODE" "$KENNEL" up --port 0 > "$log" 2>&1 & pid=$!
      for i in $(seq 1200); do grep -q -e 'Ready\\.' -e 'already running' "$log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
      cat "$log"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; true`;
    for (let round = 0; round < 3; round++) {
      const running = startUp(home);
      children.push(running);
      await running.waitFor(/Ready\./);
      running.child.kill('SIGKILL');
      const restarted = spawnSync('bash', ['-c', restart], {
        env: { ...process.env, KENNEL_HOME: home, NODE: process.execPath, KENNEL: kennelBin },
        encoding: 'utf8',
      });
      assert.match(restarted.stdout, /Ready\./, `round ${round}: ${restarted.stdout}`);
    }
    const holder = startUp(home);
    children.push(holder);
    await holder.waitFor(/Ready\./);
    const second = startUp(home);
    children.push(second);
    await assert.rejects(second.waitFor(/Ready\./), /already running on .* \(pid \d+\)/, 'a live server still holds the folder');
    await kill9(holder);
  });
});
