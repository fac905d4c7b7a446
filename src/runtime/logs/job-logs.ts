import { rm } from 'node:fs/promises';
import { DomainError } from '../../core/errors.ts';
import { jobFile, LineAppender, readLines } from './line-files.ts';

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
    const page = await readLines(this.file(jobName), from, MAX_READ_BYTES, limit);
    const events = page.lines.map(parseLine).filter((event): event is LogEvent => event !== undefined);
    return { events, next: page.next };
  }

  async remove(jobName: string): Promise<void> {
    await rm(this.file(jobName), { force: true });
  }

  private file(jobName: string): string {
    return jobFile(this.dir, jobName, '.log');
  }
}

/** Buffers a job's lines and appends them in batches; `close` writes what is left. */
export class JobLogWriter {
  private readonly lines: LineAppender;

  constructor(
    file: string,
    private readonly now: () => number,
  ) {
    this.lines = new LineAppender(file);
  }

  append(message: string): void {
    this.lines.append(JSON.stringify({ t: this.now(), m: message }));
  }

  flush(): Promise<void> {
    return this.lines.flush();
  }

  /** Flushes, and rejects if any write of this writer failed (a full disk), so the caller can say so. */
  close(): Promise<void> {
    return this.lines.close();
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
