import { appendFile, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.ts';

/** One line of a job's log, as CloudWatch Logs keeps an event: when, and what. */
export interface LogEvent {
  atMs: number;
  message: string;
}

export interface LogPage {
  events: LogEvent[];
  /** Where the next read starts: pass it back as `from` to follow the log. */
  next: number;
}

/** Lines are written in batches at most this far apart, so a crash loses at most this much of the log. */
const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;
/** A read returns at most this much of the file, whatever `limit` says. */
const MAX_READ_BYTES = 1024 * 1024;

/**
 * The logs of training jobs: one file per job, `<dir>/<job>.log`, one JSON
 * object per line (`{"t": <ms>, "m": "<line>"}`), so a message may hold any
 * character and a reader can follow the file by its byte offset. Appending
 * needs no fsync: a `kill -9` loses at most the last unflushed batch, and a line
 * cut short by a crash is skipped by readers.
 */
export class JobLogs {
  constructor(private readonly dir: string) {}

  /** A writer for `jobName`'s log; a job run again after a restart appends to what its earlier run wrote. */
  writer(jobName: string, now: () => number): JobLogWriter {
    return new JobLogWriter(this.file(jobName), now);
  }

  /** Events from byte offset `from` on, at most `limit` of them. A missing log is an empty one. */
  async read(jobName: string, from = 0, limit = 10_000): Promise<LogPage> {
    if (!Number.isInteger(from) || from < 0) throw new DomainError('ValidationError', `The log offset must be a non-negative integer, got ${from}`, { field: 'from' });
    let handle;
    try {
      handle = await open(this.file(jobName), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], next: 0 };
      throw error;
    }
    try {
      const buffer = Buffer.alloc(MAX_READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
      const events: LogEvent[] = [];
      let offset = 0;
      // Only whole lines are read: a line still being written is left for the next read.
      for (;;) {
        const end = buffer.indexOf(0x0a, offset);
        if (end === -1 || end >= bytesRead || events.length >= limit) break;
        const event = parseLine(buffer.toString('utf8', offset, end));
        if (event) events.push(event);
        offset = end + 1;
      }
      // A line longer than a whole read can only be damage (runScript cuts lines far shorter): skip past it.
      if (offset === 0 && bytesRead === buffer.length) return { events, next: from + bytesRead };
      return { events, next: from + offset };
    } finally {
      await handle.close();
    }
  }

  async remove(jobName: string): Promise<void> {
    await rm(this.file(jobName), { force: true });
  }

  private file(jobName: string): string {
    // Job names are SageMaker resource names ([a-zA-Z0-9-]): safe as file names.
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(jobName)) throw new DomainError('ValidationError', `Not a training job name: ${JSON.stringify(jobName)}`);
    return join(this.dir, `${jobName}.log`);
  }
}

/** Buffers a job's lines and appends them in batches; `close` writes what is left. */
export class JobLogWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failed: unknown;

  constructor(
    private readonly file: string,
    private readonly now: () => number,
  ) {}

  append(message: string): void {
    const line = `${JSON.stringify({ t: this.now(), m: message })}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= FLUSH_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what is buffered; resolves once it is in the file. A failed write is logged by the caller through `close`. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return this.writing;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(join(this.file, '..'), { recursive: true });
        await appendFile(this.file, text, 'utf8');
      } catch (error) {
        this.failed ??= error;
      }
    });
    return this.writing;
  }

  /** Flushes, and rejects if any write of this writer failed (a full disk), so the caller can say so. */
  async close(): Promise<void> {
    await this.flush();
    if (this.failed !== undefined) throw this.failed;
  }
}

function parseLine(text: string): LogEvent | undefined {
  try {
    const value = JSON.parse(text) as { t?: unknown; m?: unknown };
    if (typeof value.t === 'number' && typeof value.m === 'string') return { atMs: value.t, message: value.m };
  } catch {
    // A line cut short by a crash, or damaged on disk: skipped, the rest is still readable.
  }
  return undefined;
}
