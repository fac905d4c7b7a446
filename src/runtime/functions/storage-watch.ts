import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PollTimer } from './poll-timer.ts';

/** While the function runs: a write of a few hundred MB/s is caught within a fraction of the default 512 MB. */
export const STORAGE_BUSY_POLL_MS = 250;
/** Between invocations only what the function left running can write. */
export const STORAGE_IDLE_POLL_MS = 2000;
/** More entries than this in /tmp is treated as over the limit: counting them would cost more than the check is worth. */
export const MAX_TMP_ENTRIES = 50_000;
/** After a walk that took d ms, the next waits at least this many times d: a /tmp of many files is walked less often, so walks take at most a fifth of one of libuv's threads. */
const REST_PER_WALK = 4;

export interface StorageUse {
  /** Bytes allocated on disk (a sparse file counts what it really takes). */
  bytes: number;
  entries: number;
  /** The walk stopped at MAX_TMP_ENTRIES. */
  tooMany: boolean;
}

/** One file or folder, whatever path it is reached by. */
function inodeOf(info: { dev: number; ino: number }): string {
  return `${info.dev}:${info.ino}`;
}

/**
 * What `dir` holds, without following symbolic links; entries that vanish during the walk are
 * skipped. A folder is listed only while it is still the folder found (same device and inode), so
 * one swapped for a link to elsewhere is not counted; its entries are looked at through their
 * paths under `dir`, which never leave it.
 */
export async function storageUse(dir: string, maxEntries = MAX_TMP_ENTRIES): Promise<StorageUse> {
  let bytes = 0;
  let entries = 0;
  const folders: { path: string; id?: string }[] = [{ path: dir }];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    const names = await readdir(folder.path).catch(() => [] as string[]);
    if (folder.id !== undefined) {
      const again = await lstat(folder.path).catch(() => undefined);
      if (again === undefined || !again.isDirectory() || inodeOf(again) !== folder.id) continue;
    }
    for (const name of names) {
      if (++entries > maxEntries) return { bytes, entries, tooMany: true };
      const path = join(folder.path, name);
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined) continue;
      bytes += info.blocks * 512;
      if (info.isDirectory()) folders.push({ path, id: inodeOf(info) });
    }
  }
  return { bytes, entries, tooMany: false };
}

/**
 * Bytes on disk of the files under `dir` that process `pid` has deleted and still holds open: no
 * walk of `dir` sees them, yet what is written to them takes the disk. Each is counted once
 * however many descriptors it has; at most `maxDescriptors` are looked at.
 */
export async function deletedOpenBytes(pid: number, dir: string, maxDescriptors = MAX_TMP_ENTRIES): Promise<number> {
  const fds = `/proc/${pid}/fd`;
  const names = (await readdir(fds).catch(() => [] as string[])).slice(0, maxDescriptors);
  const counted = new Set<string>();
  let bytes = 0;
  for (const name of names) {
    const target = await readlink(join(fds, name)).catch(() => undefined);
    if (target === undefined || !target.startsWith(`${dir}/`)) continue;
    const info = await stat(join(fds, name)).catch(() => undefined);
    if (info === undefined || info.nlink !== 0 || counted.has(inodeOf(info))) continue;
    counted.add(inodeOf(info));
    bytes += info.blocks * 512;
  }
  return bytes;
}

/**
 * Holds a function's private temporary folder to its EphemeralStorage, as
 * Lambda's /tmp volume is sized: the folder is walked, often while the function
 * initialises or runs an invocation and seldom in between, and past the limit
 * (in bytes on disk, or in entries) onExceeded is called (the caller kills the
 * process). Files the process deleted and holds open count too. Lambda's writes
 * would fail with ENOSPC instead; a folder on the host's disk has no size of
 * its own, so stopping the function is what keeps it from going on filling the
 * disk Kennel's state is on. Being a poll, it stops a function soon after the
 * limit, not at it: a fast writer, or one large preallocation, can put a few
 * hundred MB more on the disk first, until the folder is removed with the
 * environment. Files kept open only by processes the function started are not
 * seen once deleted.
 */
export class StorageWatch {
  private readonly timer = new PollTimer(() => void this.poll());
  private walking = false;
  private restUntil = 0;
  /** `dir` as the kernel names it in /proc/PID/fd: with no symbolic links in it. */
  private realDir: string | undefined;

  constructor(
    private readonly pid: number,
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
    if (this.walking || performance.now() < this.restUntil) return;
    this.walking = true;
    const started = performance.now();
    try {
      const use = await storageUse(this.dir);
      this.realDir ??= await realpath(this.dir).catch(() => this.dir);
      if (!use.tooMany) use.bytes += await deletedOpenBytes(this.pid, this.realDir);
      if (!this.timer.running) return;
      if (use.tooMany || use.bytes > this.limitMb * 1024 * 1024) {
        this.timer.stop();
        this.onExceeded(use);
      }
    } finally {
      this.walking = false;
      this.restUntil = performance.now() + REST_PER_WALK * (performance.now() - started);
    }
  }
}

/** How a function stopped by its StorageWatch ended, for "Runtime exited with error: …". */
export function storageExceededExit(use: StorageUse, limitMb: number): string {
  const what = use.tooMany ? `more than ${MAX_TMP_ENTRIES} files` : `${Math.ceil(use.bytes / (1024 * 1024))} MB`;
  return `signal: killed (its /tmp held ${what}, over its EphemeralStorage of ${limitMb} MB)`;
}
