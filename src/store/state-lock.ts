import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../core/errors.ts';

export interface StateLock {
  release(): void;
}

/**
 * One server per state folder: two would run the same training jobs twice and
 * fight over endpoints. The lock file holds the owner's pid; a lock left by a
 * process that no longer exists (kill -9) is taken over.
 */
export function acquireStateLock(home: string, pid = process.pid): StateLock {
  const file = join(home, 'kennel.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(pid));
      closeSync(fd);
      return {
        release: () => {
          if (readOwner(file) === pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(file);
      if (owner !== undefined && owner !== pid && isAlive(owner)) {
        throw new DomainError(
          'Conflict',
          `Kennel is already running on ${home} (pid ${owner}); stop it first or use another KENNEL_HOME`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new DomainError('Conflict', `Could not take the lock ${file}; another Kennel may be starting on ${home}`);
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
