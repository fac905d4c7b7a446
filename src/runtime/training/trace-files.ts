import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.ts';
import { TraceBuilder } from '../../domain/debugger/trace-builder.ts';
import { encodeTraceRecord, parseTraceLine, type TraceRecord } from '../../domain/debugger/trace-protocol.ts';
import type { TrainingTrace } from '../../domain/debugger/trace.ts';
import { LineAppender, readLines } from '../logs/line-files.ts';

/** A trace file larger than this is read only this far: a trace is capped far below it (see trace-builder.ts). */
const MAX_TRACE_BYTES = 256 * 1024 * 1024;

export interface LoadedTrace {
  trace: TrainingTrace;
  builder: TraceBuilder;
  /** Lines that were not records: cut short by a crash, or damaged on disk. */
  damagedLines: number;
}

/**
 * Each training job's debugger trace, `<dir>/<job>.jsonl`, in the trace protocol
 * (trace-protocol.ts): appended while the job runs, read by the rules after a restart
 * and by the report. A line cut short by a crash is skipped.
 */
export class TraceFiles {
  constructor(readonly dir: string) {}

  writer(jobName: string): TraceWriter {
    return new TraceWriter(new LineAppender(this.path(jobName)));
  }

  async read(jobName: string): Promise<LoadedTrace> {
    return readTraceFile(this.path(jobName));
  }

  /** Replaces the file with these records, atomically: what a resumed run keeps of its earlier trace. */
  async rewrite(jobName: string, records: readonly TraceRecord[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `${jobName}.jsonl.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, records.map((record) => `${encodeTraceRecord(record)}\n`).join(''));
      await rename(temp, this.path(jobName));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async remove(jobName: string): Promise<void> {
    await rm(this.path(jobName), { force: true });
  }

  private path(jobName: string): string {
    // Job names are SageMaker resource names ([a-zA-Z0-9-]): safe as file names.
    if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(jobName)) throw new DomainError('ValidationError', `Not a training job name: ${JSON.stringify(jobName)}`);
    return join(this.dir, `${jobName}.jsonl`);
  }
}

/** Appends a job's records in batches; `close` writes what is left. */
export class TraceWriter {
  constructor(private readonly lines: LineAppender) {}

  append(record: TraceRecord): void {
    this.lines.append(encodeTraceRecord(record));
  }

  close(): Promise<void> {
    return this.lines.close();
  }
}

/** Reads a whole trace file; a missing one is an empty trace. */
export async function readTraceFile(file: string): Promise<LoadedTrace> {
  const builder = new TraceBuilder();
  let damagedLines = 0;
  let size = 0;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (size > 0) {
    const { lines, next } = await readLines(file, 0, Math.min(size, MAX_TRACE_BYTES));
    for (const line of lines) {
      const record = parseTraceLine(line);
      if ('error' in record) damagedLines++;
      else builder.add(record);
    }
    // A last line with no newline was cut short by a crash.
    if (next < Math.min(size, MAX_TRACE_BYTES)) damagedLines++;
  }
  return { trace: builder.trace, builder, damagedLines };
}

/**
 * Follows a file that a script appends trace records to, as it grows: each call returns
 * the records of the whole lines added since the last, and the lines that are not records,
 * with their line numbers.
 */
export class TraceFollower {
  private offset = 0;
  private lineNumber = 0;

  constructor(
    private readonly file: string,
    private readonly maxReadBytes = 4 * 1024 * 1024,
  ) {}

  async read(): Promise<{ records: TraceRecord[]; rejected: { line: number; error: string }[] }> {
    const page = await readLines(this.file, this.offset, this.maxReadBytes);
    const records: TraceRecord[] = [];
    const rejected: { line: number; error: string }[] = [];
    if (page.lines.length === 0 && page.next > this.offset) {
      // A line longer than a whole read: refused, and skipped.
      this.lineNumber++;
      rejected.push({ line: this.lineNumber, error: `the line is over ${this.maxReadBytes} bytes long` });
    }
    this.offset = page.next;
    for (const line of page.lines) {
      this.lineNumber++;
      if (line.trim() === '') continue;
      const record = parseTraceLine(line);
      if ('error' in record) rejected.push({ line: this.lineNumber, error: record.error });
      else records.push(record);
    }
    return { records, rejected };
  }
}
