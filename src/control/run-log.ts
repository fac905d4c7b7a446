import { describeError } from '../core/errors.ts';
import { compileMetricDefinitions, scrapeMetrics, type CompiledMetricDefinition } from '../domain/training/metric-definitions.ts';
import type { BaseTrainingSpec, MetricPoint } from '../domain/training/training-job.ts';
import type { JobLogWriter } from '../runtime/logs/job-logs.ts';
import type { ControlDeps } from './deps.ts';

/** Scraped values are written to the job's record at most this often... */
const METRICS_FLUSH_MS = 1000;
/** ...and each metric keeps its latest this many (CloudWatch keeps them all; a record must stay small). */
const MAX_POINTS_PER_METRIC = 10_000;

/**
 * One run's log: every line goes to the job's log file, and each of the job's
 * MetricDefinitions is matched against it, as SageMaker scrapes a training
 * container's output into CloudWatch metrics. Scraped values reach the job's
 * record in batches (scrapedMetrics), where tuning reads them.
 */
export class RunLog {
  private readonly writer: JobLogWriter;
  private readonly metrics: CompiledMetricDefinition[];
  private readonly pending = new Map<string, MetricPoint[]>();
  private readonly counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: ControlDeps,
    private readonly jobName: string,
    metricDefinitions: readonly { name: string; regex: string }[],
  ) {
    this.writer = deps.logs.writer(jobName, () => deps.clock.now());
    this.metrics = compileMetricDefinitions(metricDefinitions);
  }

  line(text: string): void {
    this.writer.append(text);
    if (this.metrics.length === 0) return;
    const atMs = this.deps.clock.now();
    for (const { name, value } of scrapeMetrics(text, this.metrics)) {
      const points = this.pending.get(name) ?? [];
      points.push({ value, atMs });
      this.pending.set(name, points);
      this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    }
    if (this.pending.size > 0) this.timer ??= setTimeout(() => this.flushMetrics(), METRICS_FLUSH_MS);
  }

  /**
   * Why a tuning trial fails when its objective is one of its MetricDefinitions
   * and the regex never matched: the tuning job then goes on with the other
   * trials instead of counting one with no result. Undefined when all is well.
   */
  objectiveNeverReported(spec: Pick<BaseTrainingSpec, 'objectiveMetric' | 'metricDefinitions'>): string | undefined {
    const objective = spec.objectiveMetric;
    if (objective === undefined || (this.counts.get(objective) ?? 0) > 0) return undefined;
    const definition = spec.metricDefinitions.find((metric) => metric.name === objective);
    if (!definition) return undefined;
    return `AlgorithmError: The objective metric ${objective} was never reported: its regex ${JSON.stringify(definition.regex)} matched no line of the job's log`;
  }

  /** Writes what is buffered: the log to its file, the scraped values to the job's record. */
  async close(): Promise<void> {
    this.flushMetrics();
    try {
      await this.writer.close();
    } catch (error) {
      this.deps.logger.warn('could not write a training job log', { jobName: this.jobName, error: describeError(error) });
    }
  }

  private flushMetrics(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = new Map(this.pending);
    this.pending.clear();
    try {
      this.deps.store.trainingJobs.modify(this.jobName, (job) => {
        const scraped = { ...job.scrapedMetrics };
        for (const [name, points] of batch) scraped[name] = [...(scraped[name] ?? []), ...points].slice(-MAX_POINTS_PER_METRIC);
        return { ...job, scrapedMetrics: scraped };
      });
    } catch (error) {
      // The store is closing (shutdown): the run is abandoned, and its rerun scrapes again.
      this.deps.logger.warn('could not record scraped metrics', { jobName: this.jobName, error: describeError(error) });
    }
  }
}
