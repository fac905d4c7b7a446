import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { TraceBuilder } from '../../domain/debugger/trace-builder.ts';
import { encodeTraceRecord, parseTraceLine, type TraceRecord } from '../../domain/debugger/trace-protocol.ts';
import type { TrainingTrace } from '../../domain/debugger/trace.ts';
import { jobFile, LineAppender, NotARegularFile, readLines } from '../logs/line-files.ts';

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

  /** Appends to the job's trace, a line per record (encodeTraceRecord), in batches. */
  writer(jobName: string): LineAppender {
    return new LineAppender(this.path(jobName));
  }

  async read(jobName: string): Promise<LoadedTrace> {
    return readTraceFile(this.path(jobName));
  }

  /** Replaces the file with these records, atomically: what a resumed run keeps of its earlier trace. */
  async rewrite(jobName: string, records: readonly TraceRecord[]): Promise<void> {
    const file = this.path(jobName);
    await mkdir(this.dir, { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temp, records.map((record) => `${encodeTraceRecord(record)}\n`).join(''));
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  private path(jobName: string): string {
    return jobFile(this.dir, jobName, '.jsonl');
  }
}

/** Reads a whole trace file, a chunk at a time so that memory follows what the trace keeps (trace-builder.ts); a missing one is an empty trace. */
export async function readTraceFile(file: string): Promise<LoadedTrace> {
  const builder = new TraceBuilder();
  const follower = new TraceFollower(file, READ_CHUNK_BYTES);
  let damagedLines = 0;
  for (let before = -1; follower.position !== before; ) {
    before = follower.position;
    const { entries, rejected } = await follower.readEntries();
    damagedLines += rejected.length;
    for (const { record, chars } of entries) builder.add(record, chars);
  }
  // A last line with no newline was cut short by a crash.
  const size = await stat(file).then((s) => s.size, () => 0);
  if (follower.position < size) damagedLines++;
  return { trace: builder.trace, builder, damagedLines };
}

export interface RejectedLine {
  line: number;
  error: string;
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

  /** Where the next read starts: the bytes read so far. */
  get position(): number {
    return this.offset;
  }

  async read(): Promise<{ records: TraceRecord[]; rejected: RejectedLine[] }> {
    const { entries, rejected } = await this.readEntries();
    return { records: entries.map((entry) => entry.record), rejected };
  }

  /** As read, with each record's line length (what the trace's tensor budget counts). */
  async readEntries(): Promise<{ entries: { record: TraceRecord; chars: number }[]; rejected: RejectedLine[] }> {
    if (this.refused) return { entries: [], rejected: [] };
    let page;
    try {
      page = await readLines(this.file, this.offset, this.maxReadBytes, Number.POSITIVE_INFINITY, { regularFileOnly: true });
    } catch (error) {
      if (!(error instanceof NotARegularFile)) throw error;
      this.refused = true;
      return { entries: [], rejected: [{ line: this.lineNumber + 1, error: `the trace is ${error.what}, which Kennel does not read: write the records to a regular file` }] };
    }
    const entries: { record: TraceRecord; chars: number }[] = [];
    const rejected: RejectedLine[] = [];
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
      else entries.push({ record, chars: line.length });
    }
    return { entries, rejected };
  }
}
