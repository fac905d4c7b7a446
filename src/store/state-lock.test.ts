import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../core/errors.ts';
import { acquireStateLock } from './state-lock.ts';

describe('state folder lock', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'kennel-lock-'));
  });
  after(async () => rm(home, { recursive: true, force: true }));

  it('refuses a second owner while the first is alive, naming its pid', () => {
    const lock = acquireStateLock(home);
    const otherPid = process.pid + 1_000_000;
    assert.throws(
      () => acquireStateLock(home, otherPid),
      (error: unknown) => error instanceof DomainError && error.code === 'Conflict' && error.message.includes(`pid ${process.pid}`),
    );
    lock.release();
    acquireStateLock(home, otherPid).release();
  });

  it('takes over a lock left by a process that died (kill -9)', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(join(home, 'kennel.lock'), dead.stdout);
    const lock = acquireStateLock(home);
    lock.release();
  });

  it('takes over a lock file with garbage in it', async () => {
    await writeFile(join(home, 'kennel.lock'), 'not a pid');
    acquireStateLock(home).release();
  });
});
