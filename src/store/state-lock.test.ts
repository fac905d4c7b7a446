import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DomainError } from '../core/errors.ts';
import { acquireStateLock } from './state-lock.ts';

const FIXTURE = fileURLToPath(new URL('./state-lock-holder.fixture.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A child that takes the lock on `home`; resolves once it printed "locked". */
async function startHolder(home: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, home], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`lock holder exited by itself with code ${code}`));
    child.once('exit', onExit);
    child.stdout!.setEncoding('utf8');
    let output = '';
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('locked\n')) {
        child.off('exit', onExit);
        resolve();
      }
    });
  });
  return child;
}

function assertConflict(home: string, pid: number): void {
  assert.throws(
    () => acquireStateLock(home),
    (error: unknown) => {
      assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
      assert.equal(error.code, 'Conflict');
      assert.equal(
        error.message,
        `Kennel is already running on ${home} (pid ${pid}); stop it first or use another KENNEL_HOME`,
      );
      return true;
    },
  );
}

/**
 * Whether the process has died but was not reaped: Linux shows the thread-group
 * leader as Z once every other thread has gone. Each thread closes its files
 * before it leaves, so by then the kernel has dropped the process's locks.
 */
function isUnreapedZombie(pid: number): boolean {
  if (readdirSync(`/proc/${pid}/task`).length !== 1) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

/**
 * Waits synchronously, so the event loop cannot run and Node cannot reap the
 * child (libuv calls waitpid from the loop). The deadline only turns a hang
 * into a failure.
 */
function waitUntilZombie(pid: number): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30_000;
  while (!isUnreapedZombie(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not die after SIGKILL`);
    Atomics.wait(pause, 0, 0, 1);
  }
}

describe('state folder lock', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'kennel-lock-'));
  });
  beforeEach(async () => {
    await rm(join(home, 'kennel.lock'), { force: true });
    await rm(join(home, 'kennel.pid'), { force: true });
  });
  after(async () => rm(home, { recursive: true, force: true }));

  it('refuses a second acquisition in the same process, naming this pid', () => {
    const lock = acquireStateLock(home);
    try {
      assertConflict(home, process.pid);
    } finally {
      lock.release();
    }
  });

  it('refuses while another process holds the lock, naming its pid', async () => {
    const holder = await startHolder(home);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    try {
      assertConflict(home, holder.pid!);
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
  });

  it('is free as soon as a SIGKILLed holder has died, before its parent reaps it', async (t) => {
    if (!existsSync('/proc/self/task')) {
      t.skip('needs /proc to tell a zombie from a live process');
      return;
    }
    for (let round = 0; round < 20; round++) {
      const holder = await startHolder(home);
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      const pid = holder.pid!;
      // Kill, wait for the kernel to finish the process, take the lock: all in one
      // synchronous stretch, so the child is a zombie throughout.
      holder.kill('SIGKILL');
      waitUntilZombie(pid);
      let lock;
      try {
        lock = acquireStateLock(home);
      } catch (error) {
        throw new Error(`round ${round}: the lock of dead, unreaped pid ${pid} was not free: ${String(error)}`);
      }
      assert.ok(isUnreapedZombie(pid), `round ${round}: the child must still be unreaped when the lock was taken`);
      lock.release();
      await exited;
    }
  });

  it('takes over a lock file left in the pid-text format by a Kennel that is gone', async () => {
    for (const leftover of [String(process.pid), '4194303', 'not a pid']) {
      await writeFile(join(home, 'kennel.lock'), leftover);
      const lock = acquireStateLock(home);
      try {
        assertConflict(home, process.pid);
      } finally {
        lock.release();
      }
    }
  });

  it('refuses a folder whose pid-text lock names a live process: an older Kennel may be running there', async () => {
    const older = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(home, 'kennel.lock'), String(older.pid));
      assertConflict(home, older.pid!);
      assert.equal(await readFile(join(home, 'kennel.lock'), 'utf8'), String(older.pid), 'the older lock is left as it was');
    } finally {
      older.kill('SIGKILL');
      await new Promise((resolve) => older.once('exit', resolve));
    }
    acquireStateLock(home).release();
  });

  it('can be taken again after release; release twice is harmless', async () => {
    const first = acquireStateLock(home);
    assert.equal((await readFile(join(home, 'kennel.pid'), 'utf8')).trim(), String(process.pid));
    first.release();
    first.release();
    const second = acquireStateLock(home);
    first.release();
    assertConflict(home, process.pid);
    second.release();
    acquireStateLock(home).release();
  });
});
