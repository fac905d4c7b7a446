import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PollTimer } from './poll-timer.ts';

/** While the function runs: a write of a few hundred MB/s is caught within a fraction of the default 512 MB. */
export const STORAGE_BUSY_POLL_MS = 250;
/** Between invocations only what the function left running can write. */
export const STORAGE_IDLE_POLL_MS = 2000;
/** More entries than this in /tmp is treated as over the limit: counting them would cost more than the check is worth. */
export const MAX_TMP_ENTRIES = 50_000;

export interface StorageUse {
  /** Bytes allocated on disk (a sparse file counts what it really takes). */
  bytes: number;
  entries: number;
  /** The walk stopped at MAX_TMP_ENTRIES. */
  tooMany: boolean;
}

/** What `dir` holds, without following symbolic links; entries that vanish during the walk are skipped. */
export async function storageUse(dir: string, maxEntries = MAX_TMP_ENTRIES): Promise<StorageUse> {
  let bytes = 0;
  let entries = 0;
  const folders = [dir];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      if (++entries > maxEntries) return { bytes, entries, tooMany: true };
      const path = join(folder, name);
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined) continue;
      bytes += info.blocks * 512;
      if (info.isDirectory()) folders.push(path);
    }
  }
  return { bytes, entries, tooMany: false };
}

/**
 * Holds a function's private temporary folder to its EphemeralStorage, as
 * Lambda's /tmp volume is sized: the folder is walked, often while the function
 * initialises or runs an invocation and seldom in between, and past the limit
 * (in bytes on disk, or in entries) onExceeded is called (the caller kills the
 * process). Lambda's writes would fail with ENOSPC instead; a folder on the
 * host's disk has no size of its own, so stopping the function is what keeps
 * it from filling the disk Kennel's state is on.
 */
export class StorageWatch {
  private readonly timer = new PollTimer(() => void this.poll());
  private walking = false;

  constructor(
    private readonly dir: string,
    private readonly limitMb: number,
    private readonly onExceeded: (use: StorageUse) => void,
  ) {}

  /** Polls every `intervalMs` from now on, in place of any earlier rate. */
  start(intervalMs: number): void {
    this.timer.start(intervalMs);
  }

  stop(): void {
    this.timer.stop();
  }

  close(): void {
    this.timer.close();
  }

  private async poll(): Promise<void> {
    if (this.walking) return;
    this.walking = true;
    try {
      const use = await storageUse(this.dir);
      if (!this.timer.running) return;
      if (use.tooMany || use.bytes > this.limitMb * 1024 * 1024) {
        this.timer.stop();
        this.onExceeded(use);
      }
    } finally {
      this.walking = false;
    }
  }
}

/** How a function stopped by its StorageWatch ended, for "Runtime exited with error: …". */
export function storageExceededExit(use: StorageUse, limitMb: number): string {
  const what = use.tooMany ? `more than ${MAX_TMP_ENTRIES} files` : `${Math.ceil(use.bytes / (1024 * 1024))} MB`;
  return `signal: killed (its /tmp held ${what}, over its EphemeralStorage of ${limitMb} MB)`;
}
