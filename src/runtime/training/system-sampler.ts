import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import type { SystemSample } from '../../domain/debugger/trace.ts';

/** USER_HZ: /proc counts CPU time in ticks of 10 ms on every Linux build Kennel runs on. */
const MS_PER_TICK = 10;
const KB_PER_MB = 1024;

export interface SystemSamplerOptions {
  /** The process whose CPU and memory are sampled: a script-mode job's, or this one (the built-in trainer's threads are in it). */
  pid: number;
  /** ProfilingIntervalInMilliseconds. */
  intervalMs: number;
  /** The step the job is on, for each sample. */
  currentStep: () => number;
}

/**
 * The profiler's system metrics for a running job, every `intervalMs`: the process's CPU use
 * as a percentage of all cores, its resident memory, and the longest pause of this process's
 * event loop or garbage collector since the previous sample (what stalls the server's side of
 * a job). CPU and memory come from /proc; without it, this process's own figures stand in
 * for its own, and a process that has gone shows none.
 */
export class SystemSampler {
  readonly #options: SystemSamplerOptions;
  readonly #samples: SystemSample[] = [];
  readonly #loopDelay: IntervalHistogram;
  readonly #gc: PerformanceObserver;
  readonly #cores = availableParallelism();
  #gcPauseMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #last: { atMs: number; cpuMs: number } | undefined;

  private constructor(options: SystemSamplerOptions) {
    this.#options = options;
    this.#loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.#gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#gcPauseMs = Math.max(this.#gcPauseMs, entry.duration);
    });
  }

  static start(options: SystemSamplerOptions): SystemSampler {
    const sampler = new SystemSampler(options);
    sampler.#loopDelay.enable();
    sampler.#gc.observe({ entryTypes: ['gc'] });
    sampler.#last = { atMs: performance.now(), cpuMs: sampler.#cpuMs() };
    sampler.#timer = setInterval(() => sampler.#sample(), options.intervalMs);
    // Sampling never keeps a process alive on its own.
    sampler.#timer.unref();
    return sampler;
  }

  /** The samples since the last take, oldest first. */
  take(): SystemSample[] {
    return this.#samples.splice(0);
  }

  stop(): SystemSample[] {
    clearInterval(this.#timer);
    this.#loopDelay.disable();
    this.#gc.disconnect();
    return this.take();
  }

  #sample(): void {
    const nowMs = performance.now();
    const cpuMs = this.#cpuMs();
    const last = this.#last!;
    const elapsedMs = nowMs - last.atMs;
    this.#last = { atMs: nowMs, cpuMs };
    if (elapsedMs <= 0) return;
    const loopPauseMs = this.#loopDelay.max / 1e6;
    this.#loopDelay.reset();
    this.#samples.push({
      atMs: Date.now(),
      step: this.#options.currentStep(),
      cpuPercent: Math.min(100, Math.max(0, (100 * (cpuMs - last.cpuMs)) / (elapsedMs * this.#cores))),
      rssMb: this.#rssMb(),
      pauseMs: Math.max(loopPauseMs, this.#gcPauseMs),
    });
    this.#gcPauseMs = 0;
  }

  get #own(): boolean {
    return this.#options.pid === process.pid;
  }

  /** A process that has gone used no more CPU: its last figure stands. */
  #cpuMs(): number {
    try {
      const stat = readFileSync(`/proc/${this.#options.pid}/stat`, 'utf8');
      // utime and stime are fields 14 and 15, counted after the parenthesised command name.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
    } catch {
      if (!this.#own) return this.#last?.cpuMs ?? 0;
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000;
    }
  }

  #rssMb(): number {
    try {
      const status = readFileSync(`/proc/${this.#options.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
      if (kb) return Number(kb[1]) / KB_PER_MB;
    } catch {
      // Gone, or no /proc.
    }
    return this.#own ? process.memoryUsage.rss() / (KB_PER_MB * KB_PER_MB) : 0;
  }
}
