import { constants } from 'node:fs';
import { appendFile, mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DomainError } from '../../core/errors.ts';

/** `<dir>/<job><extension>`: a training job's own file. Job names are SageMaker resource names ([a-zA-Z0-9-]), safe as file names; anything else is refused. */
export function jobFile(dir: string, jobName: string, extension: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(jobName)) throw new DomainError('ValidationError', `Not a training job name: ${JSON.stringify(jobName)}`);
  return join(dir, `${jobName}${extension}`);
}

/** Lines are written in batches at most this far apart, so a crash loses at most this much. */
const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

/**
 * Appends lines to a file in batches. No fsync: a `kill -9` loses at most the last
 * unflushed batch, and a line cut short by a crash is skipped by readers.
 */
export class LineAppender {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(private readonly file: string) {}

  /** One line, without its newline. */
  append(line: string): void {
    this.pending.push(`${line}\n`);
    this.pendingBytes += line.length + 1;
    if (this.pendingBytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves once it is in the file. A failed write is reported by `close`. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return this.writing;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(dirname(this.file), { recursive: true });
        await appendFile(this.file, text, 'utf8');
      } catch (error) {
        this.failed ??= error;
      }
    });
    return this.writing;
  }

  /** Flushes, and rejects if any write failed (a full disk), so the caller can say so. */
  async close(): Promise<void> {
    await this.flush();
    if (this.failed !== undefined) throw this.failed;
  }
}

/** What readLines refuses to read with `regularFileOnly`. */
export class NotARegularFile extends Error {
  constructor(
    readonly file: string,
    readonly what: string,
  ) {
    super(`${file} is ${what}`);
  }
}

export interface LinePage {
  lines: string[];
  /** Where the next read starts: pass it back as `from` to follow the file. */
  next: number;
}

/**
 * The whole lines of a file from byte offset `from` on, reading at most `maxBytes` and
 * returning at most `limit` lines; a line still being written is left for the next read.
 * A missing file reads as empty.
 */
export async function readLines(file: string, from: number, maxBytes: number, limit = Number.POSITIVE_INFINITY, options: { regularFileOnly?: boolean } = {}): Promise<LinePage> {
  let handle;
  try {
    // A file someone else controls may be a symlink or a FIFO: not followed, and not waited on.
    handle = await open(file, options.regularFileOnly ? constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK : 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], next: from };
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new NotARegularFile(file, 'a symbolic link');
    throw error;
  }
  try {
    if (options.regularFileOnly && !(await handle.stat()).isFile()) throw new NotARegularFile(file, 'not a regular file');
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const end = buffer.indexOf(0x0a, offset);
      if (end === -1 || end >= bytesRead || lines.length >= limit) break;
      lines.push(buffer.toString('utf8', offset, end));
      offset = end + 1;
    }
    // A line longer than a whole read can only be damage or a runaway writer: skip past it.
    if (offset === 0 && bytesRead === buffer.length) return { lines, next: from + bytesRead };
    return { lines, next: from + offset };
  } finally {
    await handle.close();
  }
}
