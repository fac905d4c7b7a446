import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../../core/errors.ts';
import { TraceBuilder } from '../../domain/debugger/trace-builder.ts';
import { encodeTraceRecord, parseTraceLine, type TraceRecord } from '../../domain/debugger/trace-protocol.ts';
import type { TrainingTrace } from '../../domain/debugger/trace.ts';
import { LineAppender, NotARegularFile, readLines } from '../logs/line-files.ts';

/** A trace file is read this much at a time. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

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

  /** The file a job's trace is in. */
  file(jobName: string): string {
    return this.path(jobName);
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

/** Appends a job's records in batches; `flush` writes what is buffered, `close` what is left. */
export class TraceWriter {
  constructor(private readonly lines: LineAppender) {}

  append(record: TraceRecord): void {
    this.lines.append(encodeTraceRecord(record));
  }

  /** One record, as its encoded line (encodeTraceRecord). */
  appendLine(line: string): void {
    this.lines.append(line);
  }

  flush(): Promise<void> {
    return this.lines.flush();
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
  // In chunks, so that memory follows what the trace keeps (trace-builder.ts), not the file's size.
  for (let offset = 0; offset < size; ) {
    const { lines, next } = await readLines(file, offset, READ_CHUNK_BYTES);
    if (next === offset) {
      // A last line with no newline was cut short by a crash.
      damagedLines++;
      break;
    }
    if (lines.length === 0) damagedLines++; // a line longer than a chunk, skipped
    for (const line of lines) {
      const record = parseTraceLine(line);
      if ('error' in record) damagedLines++;
      else builder.add(record, line.length);
    }
    offset = next;
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
  /** Set once the path is found to be something other than a file: nothing more is read. */
  private refused = false;
  /** In the middle of a line too long to read. */
  private skipping = false;

  constructor(
    private readonly file: string,
    private readonly maxReadBytes = 4 * 1024 * 1024,
  ) {}

  async read(): Promise<{ records: TraceRecord[]; rejected: { line: number; error: string }[] }> {
    if (this.refused) return { records: [], rejected: [] };
    let page;
    try {
      page = await readLines(this.file, this.offset, this.maxReadBytes, Number.POSITIVE_INFINITY, { regularFileOnly: true });
    } catch (error) {
      if (!(error instanceof NotARegularFile)) throw error;
      this.refused = true;
      return { records: [], rejected: [{ line: this.lineNumber + 1, error: `the trace is ${error.what}, which Kennel does not read: write the records to a regular file` }] };
    }
    const records: TraceRecord[] = [];
    const rejected: { line: number; error: string }[] = [];
    let { lines } = page;
    if (lines.length === 0 && page.next > this.offset) {
      // A line longer than a whole read: refused once, and skipped to its end.
      if (!this.skipping) {
        this.lineNumber++;
        rejected.push({ line: this.lineNumber, error: `the line is over ${this.maxReadBytes} bytes long` });
      }
      this.skipping = true;
    } else if (this.skipping && lines.length > 0) {
      // The end of the over-long line.
      lines = lines.slice(1);
      this.skipping = false;
    }
    this.offset = page.next;
    for (const line of lines) {
      this.lineNumber++;
      if (line.trim() === '') continue;
      const record = parseTraceLine(line);
      if ('error' in record) rejected.push({ line: this.lineNumber, error: record.error });
      else records.push(record);
    }
    return { records, rejected };
  }
}
