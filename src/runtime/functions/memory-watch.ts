import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** Often enough to stop a runaway allocation early, rarely enough to cost nothing: one small procfs read. */
const POLL_MS = 50;
const KB_PER_MB = 1024;

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

/**
 * Holds a function's process to its MemorySize, as Lambda's cgroup does: its
 * resident memory (VmRSS) is polled while it initialises or runs an
 * invocation, and past the limit onExceeded is called (the caller kills it).
 * The peak of each invocation is VmHWM, reset between invocations through
 * clear_refs. Only the process itself is measured, not processes it starts.
 */
export class MemoryWatch {
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private peakKb = 0;

  constructor(
    private readonly pid: number,
    private readonly limitMb: number,
    private readonly onExceeded: () => void,
  ) {}

  /** Starts a new peak at the current resident size. Kernels that refuse clear_refs keep the peak since start. */
  resetPeak(): void {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      // The peak then covers everything since the process started.
    }
    this.peakKb = 0;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The peak since the last reset, in MB (rounded up); what was last seen if the process is gone. */
  peakMb(): number {
    try {
      this.record(parseStatus(readFileSync(`/proc/${this.pid}/status`, 'utf8')));
    } catch {
      // Gone: the last poll is what there is.
    }
    return Math.ceil(this.peakKb / KB_PER_MB);
  }

  /** Whether the peak since the last reset went past the limit, however briefly. */
  exceeded(): boolean {
    return this.peakMb() > this.limitMb;
  }

  private async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const use = parseStatus(await readFile(`/proc/${this.pid}/status`, 'utf8'));
      this.record(use);
      if (use !== undefined && use.rssKb > this.limitMb * KB_PER_MB && this.timer !== undefined) {
        this.stop();
        this.onExceeded();
      }
    } catch {
      // The process is exiting; its exit is reported elsewhere.
    } finally {
      this.reading = false;
    }
  }

  private record(use: MemoryUse | undefined): void {
    if (use !== undefined) this.peakKb = Math.max(this.peakKb, use.peakKb, use.rssKb);
  }
}
