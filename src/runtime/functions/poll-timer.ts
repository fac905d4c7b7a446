/**
 * The timer behind a watch that polls a running process: its rate changes
 * between busy and idle, it never keeps Node alive, and once closed it does
 * not start again.
 */
export class PollTimer {
  private timer: NodeJS.Timeout | undefined;
  private isClosed = false;

  constructor(private readonly tick: () => void) {}

  /** Ticks every `intervalMs` from now on, in place of any earlier rate. */
  start(intervalMs: number): void {
    this.stop();
    if (this.isClosed) return;
    this.timer = setInterval(this.tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.stop();
    this.isClosed = true;
  }

  /** Started and not stopped since: a poll that comes back after a stop has nothing to act on. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  get closed(): boolean {
    return this.isClosed;
  }
}
