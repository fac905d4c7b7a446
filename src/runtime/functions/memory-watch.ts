import { closeSync, openSync, read, readSync, writeSync } from 'node:fs';
import { PollTimer } from './poll-timer.ts';

/** While the function runs: often enough to stop a runaway allocation early, rarely enough to cost nothing (one small procfs read). */
export const BUSY_POLL_MS = 50;
/** Between invocations only what the function left running can allocate. */
export const IDLE_POLL_MS = 1000;
const KB_PER_MB = 1024;
const STATUS_BYTES = 4096;

interface MemoryUse {
  rssKb: number;
  peakKb: number;
}

function parseStatus(status: string): MemoryUse | undefined {
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  const peak = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (rss === null || peak === null) return undefined;
  return { rssKb: Number(rss[1]), peakKb: Number(peak[1]) };
}

function openOrUndefined(path: string, flags: 'r' | 'w'): number | undefined {
  try {
    return openSync(path, flags);
  } catch {
    return undefined;
  }
}

/**
 * Holds a function's process to its MemorySize, as Lambda's cgroup does: its
 * resident memory (VmRSS) is polled, often while it initialises or runs an
 * invocation and seldom in between, and past the limit onExceeded is called
 * (the caller kills it).
 * The peak of each invocation is VmHWM, reset between invocations through
 * clear_refs. Only the process itself is measured, not processes it starts.
 *
 * Both procfs files stay open for the life of the process: every invocation
 * reads one and writes the other, and an open and a close each time would be
 * most of that cost. They stay valid across the launcher's exec (same pid).
 */
export class MemoryWatch {
  private readonly timer = new PollTimer(() => this.poll());
  private reading = false;
  private peakKb = 0;
  private lastRssKb = 0;
  /** One buffer for the polls (filled on the thread pool), one for reads on this thread. */
  private readonly pollBuffer = Buffer.alloc(STATUS_BYTES);
  private readonly buffer = Buffer.alloc(STATUS_BYTES);
  private status: number | undefined;
  private clearRefs: number | undefined;

  constructor(
    pid: number,
    private readonly limitMb: number,
    private readonly onExceeded: () => void,
  ) {
    this.status = openOrUndefined(`/proc/${pid}/status`, 'r');
    this.clearRefs = openOrUndefined(`/proc/${pid}/clear_refs`, 'w');
  }

  /**
   * Starts a new peak at the current resident size (as last read: a process
   * that dies before the next reading still reports what it had). Where
   * clear_refs is refused, the peak covers everything since the process started.
   */
  resetPeak(): void {
    if (this.clearRefs !== undefined) {
      try {
        writeSync(this.clearRefs, '5');
      } catch {
        // The process is gone, or the kernel refuses: the peak then keeps counting from earlier.
      }
    }
    this.peakKb = this.lastRssKb;
  }

  /** Polls every `intervalMs` from now on, in place of any earlier rate. */
  start(intervalMs: number): void {
    this.timer.start(intervalMs);
  }

  stop(): void {
    this.timer.stop();
  }

  /** The process has ended: nothing more to read. A poll in flight closes the files when it is back, so no descriptor is closed under it. */
  close(): void {
    this.timer.close();
    if (!this.reading) this.closeFiles();
  }

  /** The peak since the last reset, in MB (rounded up); what was last seen if the process is gone. */
  peakMb(): number {
    if (this.status !== undefined) {
      try {
        const length = readSync(this.status, this.buffer, 0, STATUS_BYTES, 0);
        this.record(parseStatus(this.buffer.toString('latin1', 0, length)));
      } catch {
        // Gone: the last poll is what there is.
      }
    }
    return Math.ceil(this.peakKb / KB_PER_MB);
  }

  private closeFiles(): void {
    for (const fd of [this.status, this.clearRefs]) if (fd !== undefined) closeSync(fd);
    this.status = undefined;
    this.clearRefs = undefined;
  }

  private poll(): void {
    if (this.reading || this.status === undefined) return;
    this.reading = true;
    read(this.status, this.pollBuffer, 0, STATUS_BYTES, 0, (error, length) => {
      this.reading = false;
      if (this.timer.closed) return this.closeFiles();
      // An error is the process exiting; its exit is reported elsewhere.
      if (error !== null || !this.timer.running) return;
      const use = parseStatus(this.pollBuffer.toString('latin1', 0, length));
      this.record(use);
      if (use !== undefined && use.rssKb > this.limitMb * KB_PER_MB) {
        this.timer.stop();
        this.onExceeded();
      }
    });
  }

  private record(use: MemoryUse | undefined): void {
    if (use === undefined) return;
    this.lastRssKb = use.rssKb;
    this.peakKb = Math.max(this.peakKb, use.peakKb, use.rssKb);
  }
}
