import { describeError } from '../core/errors.ts';
import { recordingSettings, type RecordingSettings, type RuleConfiguration } from '../domain/debugger/configuration.ts';
import { evaluateRules, evaluationDue, initialEvaluations } from '../domain/debugger/evaluation.ts';
import type { TraceBuilder } from '../domain/debugger/trace-builder.ts';
import type { TraceRecord } from '../domain/debugger/trace-protocol.ts';
import type { TrainingTrace } from '../domain/debugger/trace.ts';
import { isTerminal, type TrainingJob } from '../domain/training/training-job.ts';
import { SystemSampler } from '../runtime/training/system-sampler.ts';
import type { TraceWriter } from '../runtime/training/trace-files.ts';
import type { RunContext } from './run-context.ts';
import { requestStop } from './training-stop.ts';

/** How often the system samples are collected and the rules looked at, while a job runs. */
const TICK_MS = 1000;

/**
 * The debugger and profiler of one run: records the trace (to its file, and in memory for
 * the rules), samples the system, evaluates the job's rules as the trace grows, records
 * their statuses on the job, and carries out a rule's StopTraining action.
 */
export class JobDebugger {
  readonly settings: RecordingSettings;
  private readonly rules: RuleConfiguration[];
  private sampler: SystemSampler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastEvaluatedAtMs: number | undefined;
  private currentStep = 0;
  private closed = false;
  /** Called each tick before the rules are looked at: a script-mode run reads what its script appended. */
  private poll: (() => Promise<void>) | undefined;
  private polling = false;

  private constructor(
    private readonly run: RunContext,
    job: TrainingJob,
    private readonly builder: TraceBuilder,
    private readonly writer: TraceWriter,
  ) {
    this.settings = recordingSettings(job.spec.debugger);
    this.rules = [...(job.spec.debugger?.rules ?? []), ...(job.spec.debugger?.profilerRules ?? [])];
  }

  /**
   * Opens the job's trace. A run that resumes from a checkpoint keeps what its earlier run
   * recorded before `resumeFrom`; any other run starts a fresh trace.
   */
  static async open(run: RunContext, job: TrainingJob, resumeFrom?: { step: number; epoch: number }): Promise<JobDebugger> {
    const { traces } = run.deps;
    const loaded = await traces.read(run.jobName);
    if (resumeFrom) loaded.builder.rewindTo(resumeFrom.step, resumeFrom.epoch);
    else loaded.builder.rewindTo(0, 0);
    await traces.rewrite(run.jobName, loaded.builder.records());
    const debug = new JobDebugger(run, job, loaded.builder, traces.writer(run.jobName));
    debug.currentStep = loaded.trace.steps.at(-1)?.step ?? 0;
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
  start(pid: number, options: { processGroup?: boolean; poll?: () => Promise<void> } = {}): void {
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
      this.builder.add(record);
      this.writer.append(record);
      if (record.type === 'step') this.currentStep = record.step.step;
    }
    // New steps are looked at as they come, at most once an evaluation interval.
    if (records.length > 0 && evaluationDue(this.lastEvaluatedAtMs, this.run.deps.clock.now())) this.evaluate(false);
  }

  /** Collects the last samples, evaluates every rule as of the job's end, and closes the trace file. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    await this.pollOnce();
    if (this.sampler) this.record(this.sampler.stop().map((sample) => ({ type: 'system' as const, sample })));
    this.evaluate(true);
    this.closed = true;
    try {
      await this.writer.close();
    } catch (error) {
      this.run.deps.logger.warn('could not write a debugger trace', { jobName: this.run.jobName, error: describeError(error) });
    }
  }

  /** Stops sampling without a last evaluation: the run was abandoned (shutdown) and runs again later. */
  async abandon(): Promise<void> {
    clearInterval(this.timer);
    this.sampler?.stop();
    this.closed = true;
    await this.writer.close().catch(() => {});
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    await this.pollOnce();
    if (this.sampler) this.record(this.sampler.take().map((sample) => ({ type: 'system' as const, sample })));
    if (evaluationDue(this.lastEvaluatedAtMs, this.run.deps.clock.now())) this.evaluate(false);
  }

  private async pollOnce(): Promise<void> {
    if (!this.poll || this.polling) return;
    this.polling = true;
    try {
      await this.poll();
    } catch (error) {
      this.run.deps.logger.warn('could not read a script’s debugger trace', { jobName: this.run.jobName, error: describeError(error) });
    } finally {
      this.polling = false;
    }
  }

  private evaluate(ended: boolean): void {
    if (this.rules.length === 0 || this.run.signal.aborted) return;
    const { store, clock } = this.run.deps;
    const nowMs = clock.now();
    this.lastEvaluatedAtMs = nowMs;
    const previous = store.trainingJobs.get(this.run.jobName)?.ruleEvaluations ?? [];
    const outcome = evaluateRules(this.rules, this.builder.trace, previous, { ended, nowMs });
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
    for (const action of outcome.stopTraining) this.stopTraining(action.configurationName, action.prefix, nowMs);
  }

  /** StopTraining: every running job whose name starts with the prefix, as SageMaker's action stops them. */
  private stopTraining(configurationName: string, prefix: string, nowMs: number): void {
    const { store } = this.run.deps;
    for (const job of store.trainingJobs.listByStatus(['InProgress'])) {
      if (!job.name.startsWith(prefix) || isTerminal(job.status) || job.stopRequest) continue;
      requestStop(store, job.name, { reason: 'StopRequested', atMs: nowMs, by: `rule ${configurationName} (${this.run.jobName})` });
      this.run.log.line(`Rule ${configurationName}'s StopTraining action stops training job ${job.name}`);
    }
  }
}

