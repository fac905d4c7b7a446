import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { resolveAlgorithm } from '../domain/training/algorithms.ts';
import { planChannels } from '../domain/training/channels.ts';
import { HYPERPARAMETER_NAMES, parseHyperParameters } from '../domain/training/hyperparameters.ts';
import { instanceVcpus } from '../domain/training/instance-types.ts';
import { compileMetricDefinitions } from '../domain/training/metric-definitions.ts';
import { resolveFrameworkImage } from '../domain/training/script-mode.ts';
import { BUILT_IN_METRICS, isBuiltInMetric, metricSeries } from '../domain/training/job-metrics.ts';
import { gridSize, parseValues, validateSearchSpace, type TuningStrategy } from '../domain/tuning/ranges.ts';
import type { ObjectiveType, SearchSpace } from '../domain/tuning/search-space.ts';
import { strategyFor } from '../domain/tuning/strategies.ts';
import type { TrialView } from '../domain/tuning/tuning-decider.ts';
import { isTuningTerminal, type TrialTemplate, type TuningJob } from '../domain/tuning/tuning-job.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import { importBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import { parseLocation } from './object-locations.ts';
import { assertResourceNameFree, createResource, requireResource } from './sagemaker-resources.ts';
import { checkScriptInputs } from './script-data.ts';
import { backboneFile, trainingDataTree } from './training-data.ts';
import { scriptSpec } from './training-jobs.ts';

/** SageMaker's limit on HyperParameterTuningJobName, so trial names (`<name>-NNN-xxxxxxxx`) fit in 63 characters. */
const MAX_TUNING_NAME = 32;
const MAX_PARENTS = 5;

export interface CreateTuningJobInput {
  name: string;
  strategy: TuningStrategy;
  hyperband?: { minResource?: number; maxResource?: number };
  objective?: { type: ObjectiveType; metricName: string };
  ranges: SearchSpace;
  maxNumberOfTrainingJobs?: number;
  maxParallelTrainingJobs: number;
  earlyStopping?: 'Off' | 'Auto';
  randomSeed?: number;
  targetObjectiveValue?: number;
  template: {
    trainingImage?: string;
    algorithmName?: string;
    trainingInputMode: string;
    roleArn: string;
    staticHyperParameters?: Record<string, string>;
    channels: TrialTemplate['channels'];
    outputPath?: string;
    instanceType?: string;
    instanceCount?: number;
    volumeSizeInGB?: number;
    maxRuntimeSeconds?: number;
    metricDefinitions?: { name: string; regex: string }[];
    checkpointUri?: string;
    /** Script mode: Environment for every trial. */
    environment?: Record<string, string>;
  };
  warmStart?: { parents: string[]; type: 'IdenticalDataAndAlgorithm' | 'TransferLearning' };
  tags?: Tag[];
}

/**
 * The API side of hyperparameter tuning jobs: everything about the request is
 * checked before anything runs; the tuning reconciler then runs the trials.
 */
export class TuningJobService {
  constructor(
    private readonly deps: ControlDeps,
    private readonly onChange: () => void,
  ) {}

  async create(input: CreateTuningJobInput): Promise<TuningJob> {
    const name = assertResourceName('HyperParameterTuningJob', input.name);
    if (name.length > MAX_TUNING_NAME) {
      throw invalid('HyperParameterTuningJobName', `HyperParameterTuningJobName ${name} is ${name.length} characters; at most ${MAX_TUNING_NAME}, so trial names fit`);
    }
    const { store, clock, limits } = this.deps;
    assertResourceNameFree(store.tuningJobs, 'hyper-parameter-tuning-job', name);
    validateSearchSpace(input.ranges, input.strategy);
    const earlyStopping = input.earlyStopping ?? 'Off';
    const maxNumberOfTrainingJobs = this.budget(input);
    if (input.maxParallelTrainingJobs > maxNumberOfTrainingJobs) {
      throw invalid(
        'ResourceLimits.MaxParallelTrainingJobs',
        `ResourceLimits.MaxParallelTrainingJobs (${input.maxParallelTrainingJobs}) is more than MaxNumberOfTrainingJobs (${maxNumberOfTrainingJobs})`,
      );
    }
    if (input.maxParallelTrainingJobs > limits.maxConcurrentTrainingJobs) {
      throw new DomainError(
        'LimitExceeded',
        `The account-level service limit 'training jobs running at once' is ${limits.maxConcurrentTrainingJobs} jobs, and MaxParallelTrainingJobs asks for ${input.maxParallelTrainingJobs}. Lower it, or start Kennel with a higher --max-training-jobs.`,
      );
    }
    const objective = this.objective(input);
    const template = await this.template(input);
    // Builds the strategy once so that a bad Hyperband or early-stopping setting is refused now.
    strategyFor(input.strategy, { earlyStopping, hyperband: input.hyperband, staticHyperParameters: template.staticHyperParameters, randomSeed: input.randomSeed });
    const parentTrials = input.warmStart ? this.parentTrials(input.warmStart, template, objective.metricName) : undefined;
    const now = clock.now();
    const job: TuningJob = {
      name,
      spec: {
        strategy: input.strategy,
        ...(input.hyperband ? { hyperband: input.hyperband } : {}),
        objective,
        ranges: input.ranges,
        maxNumberOfTrainingJobs,
        maxParallelTrainingJobs: input.maxParallelTrainingJobs,
        earlyStopping,
        randomSeed: input.randomSeed ?? 0,
        ...(input.targetObjectiveValue !== undefined ? { targetObjectiveValue: input.targetObjectiveValue } : {}),
        template,
        ...(input.warmStart ? { warmStart: input.warmStart } : {}),
      },
      tags: mergeTags([], input.tags ?? []),
      status: 'InProgress',
      trials: [],
      ...(parentTrials ? { parentTrials } : {}),
      createdAtMs: now,
      lastModifiedAtMs: now,
    };
    createResource(store.tuningJobs, 'hyper-parameter-tuning-job', job);
    this.onChange();
    return job;
  }

  describe(name: string): TuningJob {
    return requireResource(this.deps.store.tuningJobs, 'hyper-parameter-tuning-job', name);
  }

  list(): TuningJob[] {
    return this.deps.store.tuningJobs.list();
  }

  /** The job's trials with their training jobs' status and objective, in trial order. */
  trials(job: TuningJob): TrialView[] {
    return trialViews(this.deps.store, job);
  }

  /** Stops the tuning job: its running trials are stopped, and no new one starts. */
  stop(name: string): TuningJob {
    const job = this.describe(name);
    if (isTuningTerminal(job.status) || job.status === 'Stopping') {
      throw new DomainError('Conflict', `The request was rejected because the hyperparameter tuning job is in status ${job.status}.`);
    }
    const now = this.deps.clock.now();
    const updated = this.deps.store.tuningJobs.update(name, { status: 'Stopping', stopRequest: { atMs: now }, lastModifiedAtMs: now });
    this.onChange();
    return updated;
  }

  private budget(input: CreateTuningJobInput): number {
    if (input.strategy === 'Grid') {
      const size = gridSize(input.ranges);
      if (input.maxNumberOfTrainingJobs !== undefined && input.maxNumberOfTrainingJobs < size) {
        throw invalid(
          'ResourceLimits.MaxNumberOfTrainingJobs',
          `The grid has ${size} combinations but MaxNumberOfTrainingJobs is ${input.maxNumberOfTrainingJobs}; leave it out for Grid, which runs every combination once`,
        );
      }
      return size;
    }
    if (input.maxNumberOfTrainingJobs === undefined) {
      throw invalid('ResourceLimits.MaxNumberOfTrainingJobs', `ResourceLimits.MaxNumberOfTrainingJobs is required for the ${input.strategy} strategy`);
    }
    return input.maxNumberOfTrainingJobs;
  }

  /** The training job every trial starts from, with its data checked and (for the built-in algorithm) its backbone imported once. */
  private async template(input: CreateTuningJobInput): Promise<TrialTemplate> {
    const t = input.template;
    if (t.trainingImage === undefined) {
      throw invalid('TrainingJobDefinition.AlgorithmSpecification.TrainingImage', 'TrainingJobDefinition.AlgorithmSpecification.TrainingImage is required');
    }
    const algorithm = resolveAlgorithm(t.trainingImage, 'TrainingJobDefinition.AlgorithmSpecification.TrainingImage');
    const metricDefinitions = t.metricDefinitions ?? [];
    compileMetricDefinitions(metricDefinitions, 'TrainingJobDefinition.AlgorithmSpecification.MetricDefinitions');
    const staticHyperParameters = t.staticHyperParameters ?? {};
    for (const range of input.ranges) {
      if (Object.hasOwn(staticHyperParameters, range.name)) {
        throw invalid(`ParameterRanges: ${range.name}`, `Hyperparameter ${range.name} is both static and tuned; give it in one place`);
      }
    }
    const instanceType = t.instanceType ?? 'ml.m5.large';
    instanceVcpus(instanceType);
    const outputPath = t.outputPath ?? `s3://${DEFAULT_BUCKET}/`;
    parseLocation(outputPath);
    if (t.checkpointUri !== undefined) parseLocation(t.checkpointUri);
    const common = {
      trainingImage: t.trainingImage,
      trainingInputMode: t.trainingInputMode,
      roleArn: t.roleArn,
      staticHyperParameters,
      channels: t.channels,
      outputPath,
      instanceType,
      instanceCount: t.instanceCount ?? 1,
      volumeSizeInGB: t.volumeSizeInGB ?? 30,
      ...(t.maxRuntimeSeconds !== undefined ? { maxRuntimeSeconds: t.maxRuntimeSeconds } : {}),
      metricDefinitions,
      ...(t.checkpointUri !== undefined ? { checkpointUri: t.checkpointUri } : {}),
    };
    if (algorithm === 'script') {
      for (const range of input.ranges) {
        if (range.name.startsWith('sagemaker_')) {
          throw invalid(`ParameterRanges: ${range.name}`, `Hyperparameter ${range.name} configures script mode itself; it cannot be tuned`);
        }
      }
      const spec = scriptSpec({ ...common, hyperParameters: staticHyperParameters, maxRuntimeSeconds: 1 }, t.environment ?? {});
      await checkScriptInputs(this.deps, spec.script.submitDirectory, spec.channels);
      return { ...common, environment: t.environment ?? {} };
    }

    const { backbone: settings } = parseHyperParameters(staticHyperParameters);
    for (const range of input.ranges) {
      const field = `ParameterRanges: ${range.name}`;
      if (!HYPERPARAMETER_NAMES.includes(range.name)) {
        throw invalid(field, `Hyperparameter ${range.name} is not one the image classifier takes; it takes ${HYPERPARAMETER_NAMES.join(', ')}`);
      }
      if (range.name.startsWith('backbone_') || ['resize_size', 'crop_size', 'normalize_mean', 'normalize_std', 'input_layout'].includes(range.name)) {
        throw invalid(field, `Hyperparameter ${range.name} sets up the backbone, which every trial shares; it cannot be tuned`);
      }
      // Every value the range can produce must be one the algorithm accepts: its ends, or each category.
      const values = range.kind === 'Categorical' ? range.values : [String(range.min), String(range.max)];
      for (const value of values) parseHyperParameters({ ...staticHyperParameters, [range.name]: value });
    }
    const plan = planChannels(t.channels);
    await trainingDataTree(this.deps, plan.data);
    const backbone = plan.backbone
      ? await importBackbone(this.deps, { path: await backboneFile(this.deps, plan.backbone), ...settings })
      : await importBackbone(this.deps, { sample: true });
    return { ...common, backbone };
  }

  private objective(input: CreateTuningJobInput): { type: ObjectiveType; metricName: string } {
    const objective = input.objective;
    if (!objective) {
      throw invalid('HyperParameterTuningJobConfig.HyperParameterTuningJobObjective', 'HyperParameterTuningJobObjective is required: which metric to minimize or maximize');
    }
    const declared = (input.template.metricDefinitions ?? []).some((definition) => definition.name === objective.metricName);
    const builtIn = input.template.trainingImage !== undefined && resolveFrameworkImage(input.template.trainingImage) === undefined && isBuiltInMetric(objective.metricName);
    if (!builtIn && !declared) {
      throw invalid(
        'HyperParameterTuningJobObjective.MetricName',
        `The objective metric ${JSON.stringify(objective.metricName)} is neither one the image classifier publishes (${BUILT_IN_METRICS.join(', ')}) nor declared in MetricDefinitions` +
          (resolveFrameworkImage(input.template.trainingImage ?? '') ? '; a script-mode job publishes only what its MetricDefinitions scrape from its log' : ''),
      );
    }
    return { type: objective.type, metricName: objective.metricName };
  }

  /** The parents' finished trials, as history for the strategy; parents must have ended, and share data and algorithm when told so. */
  private parentTrials(warmStart: NonNullable<CreateTuningJobInput['warmStart']>, template: TrialTemplate, metricName: string): NonNullable<TuningJob['parentTrials']> {
    if (warmStart.parents.length === 0 || warmStart.parents.length > MAX_PARENTS) {
      throw invalid('WarmStartConfig.ParentHyperParameterTuningJobs', `WarmStartConfig needs from 1 to ${MAX_PARENTS} parent tuning jobs`);
    }
    return warmStart.parents.flatMap((parentName) => {
      const parent = this.describe(parentName);
      if (!isTuningTerminal(parent.status)) {
        throw invalid('WarmStartConfig.ParentHyperParameterTuningJobs', `Parent tuning job ${parentName} is ${parent.status}; a parent must have ended`);
      }
      if (warmStart.type === 'IdenticalDataAndAlgorithm') {
        const same =
          parent.spec.template.trainingImage === template.trainingImage &&
          JSON.stringify(parent.spec.template.channels) === JSON.stringify(template.channels) &&
          parent.spec.template.backbone?.digest === template.backbone?.digest;
        if (!same) {
          throw invalid(
            'WarmStartConfig.WarmStartType',
            `Parent tuning job ${parentName} used other data or another algorithm; use WarmStartType TransferLearning with it`,
          );
        }
      }
      return parent.trials.flatMap((trial) => {
        const job = this.deps.store.trainingJobs.get(trial.trainingJobName);
        if (!job) return [];
        const { intermediate, final } = metricSeries(job, metricName);
        const state = trial.earlyStopped ? 'pruned' : final !== undefined ? 'complete' : 'failed';
        return [{ hyperParameters: trial.hyperParameters, state, intermediate, ...(final !== undefined ? { value: final } : {}) }];
      });
    });
  }
}

/** Each trial's training job status and objective, as the decider and the API see them. */
export function trialViews(store: ControlDeps['store'], job: TuningJob): TrialView[] {
  return job.trials.map((entry) => {
    const trainingJob = store.trainingJobs.get(entry.trainingJobName);
    const params = parseValues(entry.hyperParameters, job.spec.ranges);
    if (!trainingJob) return { entry, params, status: 'Pending', intermediate: [] };
    const { intermediate, final } = metricSeries(trainingJob, job.spec.objective.metricName);
    return { entry, params, status: trainingJob.status, intermediate, ...(final !== undefined ? { final } : {}) };
  });
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('ValidationError', message, { field });
}
