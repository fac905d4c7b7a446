import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import type { SystemSample } from '../../domain/debugger/trace.ts';

/** USER_HZ: /proc counts CPU time in ticks of 10 ms on every Linux build Kennel runs on. */
const MS_PER_TICK = 10;
const KB_PER_MB = 1024;
const LOOP_RESOLUTION_MS = 50;

export interface SystemSamplerOptions {
  /** The process whose CPU and memory are sampled: a script-mode job's, or this one (the built-in trainer's threads are in it). */
  pid: number;
  /** Sample `pid`'s whole process group (a script and the data-loader workers it starts), not the one process. */
  processGroup?: boolean;
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
    // A timer every LOOP_RESOLUTION_MS measures the loop's delays: a pause longer than that is seen whole, and at
    // 100 wake-ups a second (10 ms) the timer itself took a measurable share of a 2-core machine from training.
    this.#loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.#gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#gcPauseMs = Math.max(this.#gcPauseMs, entry.duration);
    });
  }

  static start(options: SystemSamplerOptions): SystemSampler {
    const sampler = new SystemSampler(options);
    sampler.#loopDelay.enable();
    sampler.#gc.observe({ entryTypes: ['gc'] });
    sampler.#last = { atMs: performance.now(), cpuMs: sampler.#cpuMs(sampler.#members()) };
    sampler.#timer = setInterval(() => sampler.#sample(), options.intervalMs);
    // Sampling never keeps a process alive on its own.
    sampler.#timer.unref();
    return sampler;
  }

  /** The samples since the last take, oldest first. */
  take(): SystemSample[] {
    return this.#samples.splice(0);
  }

  /** The samples not yet taken, and one more for the time since the last sample if the process is still there: a job shorter than an interval still shows its use. */
  stop(): SystemSample[] {
    clearInterval(this.#timer);
    const sinceMs = performance.now() - (this.#last?.atMs ?? 0);
    if (sinceMs >= this.#options.intervalMs / 5 && (this.#own || existsSync(`/proc/${this.#options.pid}`))) this.#sample();
    this.#loopDelay.disable();
    this.#gc.disconnect();
    return this.take();
  }

  #sample(): void {
    const nowMs = performance.now();
    const members = this.#members();
    const cpuMs = this.#cpuMs(members);
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
      rssMb: this.#rssMb(members),
      pauseMs: Math.max(loopPauseMs, this.#gcPauseMs),
    });
    this.#gcPauseMs = 0;
  }

  get #own(): boolean {
    return this.#options.pid === process.pid;
  }

  /**
   * The processes sampled, each with its /proc stat fields, read once per sample: `pid`, or
   * every live process of its group. Undefined without /proc.
   */
  #members(): { pid: number; fields: string[] }[] | undefined {
    const members: { pid: number; fields: string[] }[] = [];
    if (!this.#options.processGroup) {
      const fields = statFields(this.#options.pid);
      if (fields) members.push({ pid: this.#options.pid, fields });
      return fields || existsSync('/proc/self') ? members : undefined;
    }
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return undefined;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const fields = statFields(Number(entry));
      // pgrp is field 5.
      if (fields && Number(fields[2]) === this.#options.pid) members.push({ pid: Number(entry), fields });
    }
    return members;
  }

  /** A process that has gone used no more CPU: its last figure stands. */
  #cpuMs(members: { pid: number; fields: string[] }[] | undefined): number {
    if (members === undefined) {
      if (!this.#own) return this.#last?.cpuMs ?? 0;
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000;
    }
    if (members.length === 0) return this.#last?.cpuMs ?? 0;
    let ticks = 0;
    for (const { pid, fields } of members) {
      // utime and stime are fields 14 and 15; the leader's cutime and cstime (16, 17) hold the children it has waited for.
      ticks += Number(fields[11]) + Number(fields[12]);
      if (pid === this.#options.pid && this.#options.processGroup) ticks += Number(fields[13]) + Number(fields[14]);
    }
    return Math.max(ticks * MS_PER_TICK, this.#last?.cpuMs ?? 0);
  }

  #rssMb(members: { pid: number }[] | undefined): number {
    let kb = 0;
    let read = false;
    for (const { pid } of members ?? []) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
        if (rss) (kb += Number(rss[1])), (read = true);
      } catch {
        // Gone since it was listed.
      }
    }
    if (read) return kb / KB_PER_MB;
    return this.#own ? process.memoryUsage.rss() / (KB_PER_MB * KB_PER_MB) : 0;
  }
}

/** The fields of /proc/<pid>/stat after the parenthesised command name (so field 3, state, is [0]); undefined once the process has gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
