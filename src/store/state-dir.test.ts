import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isDomainError } from '../core/errors.ts';
import { openStateDir, resolveKennelHome } from './state-dir.ts';

function permissions(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('resolveKennelHome', () => {
  it('uses KENNEL_HOME, made absolute against the working directory', () => {
    assert.equal(resolveKennelHome({ KENNEL_HOME: '/srv/kennel' }, '/home/me'), '/srv/kennel');
    assert.equal(resolveKennelHome({ KENNEL_HOME: 'state' }, '/home/me'), '/home/me/state');
  });

  it('defaults to ./.kennel when KENNEL_HOME is unset or empty', () => {
    assert.equal(resolveKennelHome({}, '/home/me'), '/home/me/.kennel');
    assert.equal(resolveKennelHome({ KENNEL_HOME: '' }, '/home/me'), '/home/me/.kennel');
    assert.equal(resolveKennelHome({}), join(process.cwd(), '.kennel'));
  });
});

describe('openStateDir', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kennel-home-'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates the folder and its subfolders readable by the owner only, and names what lives in it', async () => {
    const home = join(root, 'nested', '.kennel');
    const dirs = await openStateDir(home);
    assert.deepEqual(dirs, {
      home,
      databaseFile: join(home, 'kennel.db'),
      artifactsDir: join(home, 'artifacts'),
      samplesDir: join(home, 'samples'),
      checkpointsDir: join(home, 'checkpoints'),
      logsDir: join(home, 'logs'),
      tracesDir: join(home, 'traces'),
      jobsDir: join(home, 'jobs'),
      functionCodeDir: join(home, 'functions', 'code'),
      sandboxesDir: join(home, 'functions', 'sandboxes'),
      servingDir: join(home, 'serving'),
      credentialsFile: join(home, 'credentials'),
      secretKeyFile: join(home, 'secrets.key'),
    });
    for (const dir of [home, dirs.artifactsDir, dirs.samplesDir, dirs.checkpointsDir, dirs.logsDir, dirs.tracesDir, dirs.jobsDir, dirs.functionCodeDir, dirs.sandboxesDir, dirs.servingDir]) assert.equal(permissions(dir), 0o700, dir);
    assert.equal(existsSync(dirs.credentialsFile), false, 'the credentials file is written by whoever creates the keys');
  });

  it('returns absolute paths for a relative home', async () => {
    const dirs = await openStateDir(join(root, 'a', '..', 'b'));
    assert.equal(dirs.home, join(root, 'b'));
  });

  it('opens an existing folder without changing its contents or permissions', async () => {
    const home = join(root, 'existing');
    mkdirSync(home);
    chmodSync(home, 0o750);
    writeFileSync(join(home, 'credentials'), 'keep');
    const dirs = await openStateDir(home);
    assert.equal(permissions(home), 0o750);
    assert.equal(statSync(dirs.credentialsFile).size, 4);
  });

  it('refuses a home that is a file, naming it', async () => {
    const home = join(root, 'not-a-folder');
    writeFileSync(home, 'x');
    await assert.rejects(
      () => openStateDir(home),
      (error: unknown) => isDomainError(error) && error.code === 'ValidationError' && error.message.includes(home),
    );
  });
});
