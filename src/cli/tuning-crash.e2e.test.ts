import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { makeSmallDataset } from '../testing/test-kennel.ts';

/**
 * A tuning job survives `kill -9` of the server: after a restart on the same
 * state folder, finished trials are kept as they were, interrupted ones go on
 * from their checkpoints, and the job runs to its budget with no trial lost or
 * run twice.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const kennelBin = join(root, 'bin/kennel.js');
const LIMIT_MS = 240_000;
const TRIALS = 4;
/** Some seconds of training per trial on the small dataset, so that the kill lands part-way through one. */
const EPOCHS = 3000;

interface Server {
  child: ChildProcess;
  url: Promise<string>;
}

function startServer(home: string): Server {
  const child = spawn(process.execPath, [kennelBin, 'up', '--port', '0'], { cwd: home, env: { ...process.env, KENNEL_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no Ready line; output:\n${output}`)), LIMIT_MS);
    const check = () => {
      const match = output.match(/Kennel listening on (http:\/\/\S+)[\s\S]*Ready\./);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      check();
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kennel up exited (${code}); output:\n${output}`));
    });
  });
  return { child, url };
}

function kill9(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGKILL');
  });
}

function kennel<T>(home: string, url: string, ...args: string[]): T {
  const result = spawnSync(process.execPath, [kennelBin, '--endpoint-url', url, ...args, '-o', 'json'], { cwd: home, env: { ...process.env, KENNEL_HOME: home }, encoding: 'utf8' });
  assert.equal(result.status, 0, `kennel ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** The trials' training jobs as the database holds them, read while the server is dead. */
function trialRows(home: string): { name: string; status: string; record: { epochs: unknown[]; endedAtMs?: number; finalMetrics?: unknown } }[] {
  const db = new Database(join(home, 'kennel.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT name, status, record FROM training_jobs WHERE name LIKE 'crash-hpo-%' ORDER BY name").all() as { name: string; status: string; record: string }[];
    return rows.map((row) => ({ ...row, record: JSON.parse(row.record) as never }));
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a tuning job and kill -9', { timeout: 600_000 }, () => {
  const homes: string[] = [];
  const servers: Server[] = [];
  after(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('keeps finished trials, resumes interrupted ones from their checkpoints, and runs to its budget with no trial lost or duplicated', async () => {
    const home = await mkdtemp(join(tmpdir(), 'kennel-tuning-crash-'));
    homes.push(home);
    await makeSmallDataset(join(home, 'images'));
    const first = startServer(home);
    servers.push(first);
    const url = await first.url;
    kennel(home, url, 'tuning-jobs', 'create', '--name', 'crash-hpo', '--data', join(home, 'images'), '--strategy', 'Random',
      '--continuous', 'learning_rate=0.0005:0.005:Logarithmic', '--hp', `epochs=${EPOCHS}`, '--hp', 'hidden_units=256', '--hp', 'batch_size=16',
      '--max-jobs', String(TRIALS), '--max-parallel', '2', '--seed', '11');

    // Kill once some trials have finished and others are part-way through their epochs.
    type Report = { status: string; trials: { trainingJobName: string; status: string; curve: number[] }[] };
    const killBy = Date.now() + LIMIT_MS;
    for (;;) {
      assert.ok(Date.now() < killBy, 'the trials never got going');
      const report = kennel<Report>(home, url, 'tuning-jobs', 'describe', 'crash-hpo');
      assert.equal(report.status, 'InProgress', 'the job ended before the kill could land part-way through a trial');
      const running = report.trials.filter((trial) => trial.status === 'InProgress' && trial.curve.length >= 5);
      if (report.trials.filter((trial) => trial.status === 'Completed').length >= 2 && running.length >= 1) break;
      await sleep(100);
    }
    await kill9(first);
    const atKill = trialRows(home);
    const finished = atKill.filter((row) => row.status === 'Completed');
    const interrupted = atKill.filter((row) => row.status === 'InProgress' && row.record.epochs.length > 0);
    assert.ok(finished.length >= 2 && interrupted.length >= 1, JSON.stringify(atKill.map((row) => [row.name, row.status, row.record.epochs.length])));

    const second = startServer(home);
    servers.push(second);
    const url2 = await second.url;
    let report: Report & { counters: Record<string, number> };
    const finishBy = Date.now() + LIMIT_MS;
    for (;;) {
      assert.ok(Date.now() < finishBy, 'the tuning job did not finish after the restart');
      report = kennel(home, url2, 'tuning-jobs', 'describe', 'crash-hpo');
      if (report.status !== 'InProgress') break;
      await sleep(250);
    }
    assert.equal(report.status, 'Completed');
    assert.equal(report.trials.length, TRIALS, 'the job ran to its budget');
    assert.deepEqual(report.counters, { Completed: TRIALS, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 0 });

    const after = trialRows(home);
    assert.equal(after.length, TRIALS, 'one training job per trial: none lost, none run twice');
    assert.equal(new Set(after.map((row) => row.name)).size, TRIALS);
    for (const row of finished) {
      const now = after.find((candidate) => candidate.name === row.name)!;
      assert.deepEqual(now.record.finalMetrics, row.record.finalMetrics, `${row.name} finished before the kill and was kept as it was`);
      assert.equal(now.record.endedAtMs, row.record.endedAtMs);
    }
    for (const row of interrupted) {
      const job = kennel<{ TrainingJobStatus: string; SecondaryStatusTransitions: { Status: string; StatusMessage: string }[] }>(home, url2, 'training-jobs', 'describe', row.name);
      assert.equal(job.TrainingJobStatus, 'Completed');
      const messages = job.SecondaryStatusTransitions.map((transition) => `${transition.Status}: ${transition.StatusMessage}`);
      assert.ok(messages.some((message) => message.startsWith('Restarting:')), messages.join('\n'));
      assert.ok(messages.some((message) => new RegExp(`from the checkpoint after epoch \\d+ of ${EPOCHS}`).test(message)), `${row.name} resumed from its checkpoint:\n${messages.join('\n')}`);
    }
    await kill9(second);
  });
});
