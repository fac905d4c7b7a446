import type { EpochMetrics, TrainingJob } from './training-job.ts';

/** The metrics the built-in image classifier publishes, as FinalMetricDataList names them and a tuning objective may. */
export const BUILT_IN_METRICS = ['train:loss', 'train:accuracy', 'validation:loss', 'validation:accuracy', 'test:loss', 'test:accuracy'] as const;
export type BuiltInMetric = (typeof BUILT_IN_METRICS)[number];

const PER_EPOCH: Partial<Record<BuiltInMetric, (epoch: EpochMetrics) => number>> = {
  'train:loss': (epoch) => epoch.trainLoss,
  'train:accuracy': (epoch) => epoch.trainAccuracy,
  'validation:loss': (epoch) => epoch.validationLoss,
  'validation:accuracy': (epoch) => epoch.validationAccuracy,
};

export function isBuiltInMetric(name: string): name is BuiltInMetric {
  return (BUILT_IN_METRICS as readonly string[]).includes(name);
}

/**
 * A metric of a training job: its values so far, and its final value once the
 * job has ended with a result (Completed, or Stopped with what it saved).
 *
 * The image classifier's own metrics come from its epochs: one value per epoch,
 * and the test metrics only at the end, measured on the test split. Any other
 * metric is one of the job's MetricDefinitions, scraped from its log: every
 * value in order, and the last one as the final value, as SageMaker takes a
 * tuning objective.
 */
export function metricSeries(job: TrainingJob, name: string): { intermediate: number[]; final?: number } {
  if (job.spec.algorithm === 'image-classifier' && isBuiltInMetric(name)) {
    const perEpoch = PER_EPOCH[name];
    const intermediate = perEpoch ? job.epochs.map(perEpoch) : [];
    if (!job.finalMetrics) return { intermediate };
    const final = name === 'test:loss' ? job.finalMetrics.testLoss : name === 'test:accuracy' ? job.finalMetrics.testAccuracy : intermediate.at(-1);
    return final === undefined ? { intermediate } : { intermediate, final };
  }
  const intermediate = (job.scrapedMetrics?.[name] ?? []).map((point) => point.value);
  const ended = job.status === 'Completed' || (job.status === 'Stopped' && job.modelArtifactsUri !== undefined);
  const final = ended ? intermediate.at(-1) : undefined;
  return final === undefined ? { intermediate } : { intermediate, final };
}
