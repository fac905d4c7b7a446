import { describeError } from '../core/errors.ts';
import { recordingSettings, type RecordingSettings, type RuleConfiguration } from '../domain/debugger/configuration.ts';
import { evaluateRules, evaluationDue, initialEvaluations, stopTrainingTarget, type LastEvaluation } from '../domain/debugger/evaluation.ts';
import { TraceBuilder } from '../domain/debugger/trace-builder.ts';
import { encodeTraceRecord, type TraceRecord } from '../domain/debugger/trace-protocol.ts';
import type { TrainingTrace } from '../domain/debugger/trace.ts';
import type { TrainingJob } from '../domain/training/training-job.ts';
import { SystemSampler } from '../runtime/training/system-sampler.ts';
import type { LineAppender } from '../runtime/logs/line-files.ts';
import type { RunContext } from './run-context.ts';
import { requestStop } from './training-stop.ts';

/** How often the system samples are collected and the rules looked at, while a job runs. */
const TICK_MS = 1000;
/** At the end, a script's trace is read until it is all in, at most this many reads (of 4 MB each). */
const MAX_FINAL_READS = 64;

/** Reads what a script appended to its trace since the last read; resolves with how many records it found. */
export type TracePoll = () => Promise<number>;

/**
 * The debugger and profiler of one run: records the trace (to its file, and in memory for
 * the rules), samples the system, evaluates the job's rules as the trace grows, records
 * their statuses on the job, and carries out a rule's StopTraining action while the job runs.
 */
export class JobDebugger {
  readonly settings: RecordingSettings;
  private readonly rules: RuleConfiguration[];
  private sampler: SystemSampler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastEvaluation: LastEvaluation | undefined;
  private currentStep = 0;
  /** Set once close or abandon begins: no tick evaluates or acts after that. */
  private closing = false;
  private closed = false;
  private poll: TracePoll | undefined;
  private polling: Promise<number> | undefined;

  private constructor(
    private readonly run: RunContext,
    job: TrainingJob,
    private readonly builder: TraceBuilder,
    private readonly writer: LineAppender,
  ) {
    this.settings = recordingSettings(job.spec.debugger);
    this.rules = [...(job.spec.debugger?.rules ?? []), ...(job.spec.debugger?.profilerRules ?? [])];
  }

  /**
   * Opens the job's trace. A run that resumes from a checkpoint keeps what its earlier run
   * recorded before `resumeFrom` (the steps done and the epochs finished); any other run
   * starts an empty one.
   */
  static async open(run: RunContext, job: TrainingJob, resumeFrom?: { step: number; epoch: number }): Promise<JobDebugger> {
    const { traces } = run.deps;
    let builder = new TraceBuilder();
    if (resumeFrom) {
      builder = (await traces.read(run.jobName)).builder;
      builder.rewindTo(resumeFrom.step, resumeFrom.epoch);
    }
    await traces.rewrite(run.jobName, builder.records());
    const debug = new JobDebugger(run, job, builder, traces.writer(run.jobName));
    debug.currentStep = builder.trace.steps.at(-1)?.step ?? 0;
    // A run starts its rules afresh: what an earlier, cut-short run found is found again on the trace it kept.
    if (debug.rules.length > 0) {
      const nowMs = run.deps.clock.now();
      run.deps.store.trainingJobs.modify(run.jobName, (current) => ({ ...current, ruleEvaluations: initialEvaluations(debug.rules, nowMs) }));
    }
    return debug;
  }

  get trace(): TrainingTrace {
    return this.builder.trace;
  }

  /**
   * Starts sampling `pid` (this process for the built-in trainer, a script's process group
   * for script mode) and looking at the rules every tick; `poll` runs first at each tick.
   */
  start(pid: number, options: { processGroup?: boolean; poll?: TracePoll } = {}): void {
    const { profilingIntervalMs } = this.settings;
    if (profilingIntervalMs !== undefined) {
      this.sampler = SystemSampler.start({ pid, processGroup: options.processGroup ?? false, intervalMs: profilingIntervalMs, currentStep: () => this.currentStep });
    }
    this.poll = options.poll;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  record(records: readonly TraceRecord[]): void {
    if (this.closed) return;
    for (const record of records) {
      const line = encodeTraceRecord(record);
      // The file holds what the trace keeps: the builder bounds both.
      const kept = this.builder.add(record, line.length);
      if (kept) this.writer.append(kept === record ? line : encodeTraceRecord(kept));
      if (record.type === 'step') this.currentStep = record.step.step;
    }
    // New steps are looked at as they come, as often as evaluationDue allows.
    if (records.length > 0 && !this.closing && evaluationDue(this.lastEvaluation, this.run.deps.clock.now())) this.evaluate(false);
  }

  /** Writes what is recorded so far: a checkpoint is saved only after the trace up to it is in its file. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Reads the rest of a script's trace and the last samples, evaluates every rule as of the job's end, and closes the file. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    await this.polling?.catch(() => 0);
    for (let reads = 0; this.poll && reads < MAX_FINAL_READS; reads++) {
      if ((await this.pollOnce()) === 0) break;
    }
    if (this.sampler) this.record(this.sampler.stop().map((sample) => ({ type: 'system' as const, sample })));
    this.evaluate(true);
    this.closed = true;
    try {
      await this.writer.close();
    } catch (error) {
      this.run.deps.logger.warn('could not write a debugger trace', { jobName: this.run.jobName, error: describeError(error) });
    }
  }

  /** Stops without a last evaluation: the run was abandoned (shutdown), and its job runs again or was recorded Stopped. */
  async abandon(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.closed = true;
    clearInterval(this.timer);
    this.sampler?.stop();
    await this.writer.close().catch(() => {});
  }

  private async tick(): Promise<void> {
    if (this.closing) return;
    if (this.poll && !this.polling) await this.pollOnce();
    if (this.closing) return;
    if (this.sampler) this.record(this.sampler.take().map((sample) => ({ type: 'system' as const, sample })));
    if (!this.closing && evaluationDue(this.lastEvaluation, this.run.deps.clock.now())) this.evaluate(false);
  }

  private async pollOnce(): Promise<number> {
    this.polling = this.poll!().catch((error: unknown) => {
      this.run.deps.logger.warn('could not read a script’s debugger trace', { jobName: this.run.jobName, error: describeError(error) });
      return 0;
    });
    try {
      return await this.polling;
    } finally {
      this.polling = undefined;
    }
  }

  /** Evaluates the rules and records what changed; while the job runs, a new finding's StopTraining action is carried out. */
  private evaluate(ended: boolean): void {
    if (this.rules.length === 0 || this.run.signal.aborted) return;
    const { store, clock } = this.run.deps;
    const nowMs = clock.now();
    const startedAt = performance.now();
    const previous = store.trainingJobs.get(this.run.jobName)?.ruleEvaluations ?? [];
    const outcome = evaluateRules(this.rules, this.builder.trace, previous, { ended, nowMs });
    this.lastEvaluation = { atMs: nowMs, tookMs: performance.now() - startedAt };
    if (outcome.evaluations.some((evaluation, i) => evaluation !== previous[i])) {
      try {
        store.trainingJobs.modify(this.run.jobName, (job) => ({ ...job, ruleEvaluations: outcome.evaluations }));
      } catch (error) {
        this.run.deps.logger.warn('could not record rule evaluations', { jobName: this.run.jobName, error: describeError(error) });
        return;
      }
    }
    for (const evaluation of outcome.evaluations) {
      const before = previous.find((p) => p.configurationName === evaluation.configurationName);
      if (evaluation.status === 'IssuesFound' && before?.status !== 'IssuesFound') {
        this.run.log.line(`Rule ${evaluation.configurationName}: IssuesFound${evaluation.step !== undefined ? ` at step ${evaluation.step}` : ''}: ${evaluation.details}`);
      }
    }
    // Once the job has ended there is nothing left to stop: its ending is its own.
    if (!ended) for (const action of outcome.stopTraining) this.stopTraining(action.configurationName, action.prefix, nowMs);
  }

  /** StopTraining: the one running job whose name starts with the prefix, as SageMaker's action stops it. */
  private stopTraining(configurationName: string, prefix: string, nowMs: number): void {
    const { store } = this.run.deps;
    const running = store.trainingJobs.listByStatus(['InProgress']).filter((job) => job.stopRequest === undefined);
    const target = stopTrainingTarget(prefix, running.map((job) => job.name));
    if (target === undefined) {
      const matching = running.filter((job) => job.name.startsWith(prefix)).length;
      this.run.log.line(`Rule ${configurationName}'s StopTraining action stops nothing: ${matching} running training jobs start with "${prefix}", and it stops only when exactly one does`);
      return;
    }
    requestStop(store, target, { reason: 'StopRequested', atMs: nowMs, by: `rule ${configurationName} (${this.run.jobName})` });
    this.run.log.line(`Rule ${configurationName}'s StopTraining action stops training job ${target}`);
  }
}
