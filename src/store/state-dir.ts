import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DomainError } from '../core/errors.ts';

/** Where everything Kennel keeps lives: one folder, by default ./.kennel. */
export interface StateDir {
  home: string;
  /** The SQLite metadata database. */
  databaseFile: string;
  /** Content-addressed artifacts (see artifacts.ts). */
  artifactsDir: string;
  /** The generated sample image set. */
  samplesDir: string;
  /** The latest checkpoint of each training job. */
  checkpointsDir: string;
  /** Training jobs' logs (stdout and stderr of script-mode jobs). */
  logsDir: string;
  /** Training jobs' debugger traces (see runtime/training/trace-files.ts). */
  tracesDir: string;
  /** Script-mode jobs' /opt/ml folders, while they run. */
  jobsDir: string;
  /** Lambda functions' unpacked deployment packages, one folder per package digest. */
  functionCodeDir: string;
  /** Execution environments' private temporary folders, while they run. */
  sandboxesDir: string;
  /** Inference scripts' unpacked model folders, and their instances' private folders. */
  servingDir: string;
  /** Admin keys in the AWS shared-credentials format. */
  credentialsFile: string;
  /** The key that seals stored secret access keys (mode 0600). */
  secretKeyFile: string;
}

/** The state folder: $KENNEL_HOME if set, else ./.kennel, as an absolute path. */
export function resolveKennelHome(env: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): string {
  const configured = env.KENNEL_HOME;
  return resolve(cwd, configured !== undefined && configured !== '' ? configured : '.kennel');
}

/**
 * Creates the state folder and its subfolders where missing, readable by the
 * owner only (0700: it holds secret keys and private data), and returns the
 * paths of what lives in it. An existing folder keeps its permissions.
 */
export async function openStateDir(home: string): Promise<StateDir> {
  const absoluteHome = resolve(home);
  const dirs: StateDir = {
    home: absoluteHome,
    databaseFile: join(absoluteHome, 'kennel.db'),
    artifactsDir: join(absoluteHome, 'artifacts'),
    samplesDir: join(absoluteHome, 'samples'),
    checkpointsDir: join(absoluteHome, 'checkpoints'),
    logsDir: join(absoluteHome, 'logs'),
    tracesDir: join(absoluteHome, 'traces'),
    jobsDir: join(absoluteHome, 'jobs'),
    functionCodeDir: join(absoluteHome, 'functions', 'code'),
    sandboxesDir: join(absoluteHome, 'functions', 'sandboxes'),
    servingDir: join(absoluteHome, 'serving'),
    credentialsFile: join(absoluteHome, 'credentials'),
    secretKeyFile: join(absoluteHome, 'secrets.key'),
  };
  for (const dir of [dirs.home, dirs.artifactsDir, dirs.samplesDir, dirs.checkpointsDir, dirs.logsDir, dirs.tracesDir, dirs.jobsDir, dirs.functionCodeDir, dirs.sandboxesDir, dirs.servingDir]) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTDIR') throw error;
    }
    // mkdir's EEXIST/ENOTDIR and a file in the way both end here, with one clear message.
    const isFolder = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isFolder) {
      throw new DomainError(
        'ValidationError',
        `Kennel state folder ${absoluteHome} cannot be used: ${dir} is not a folder. Set KENNEL_HOME (or --home) to another path.`,
        { path: dir },
      );
    }
  }
  return dirs;
}
