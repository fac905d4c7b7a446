import { DomainError, describeError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { parseDebuggerConfiguration, type DebuggerInput } from '../domain/debugger/configuration.ts';
import { initialEvaluations } from '../domain/debugger/evaluation.ts';
import { resolveAlgorithm } from '../domain/training/algorithms.ts';
import { planChannels } from '../domain/training/channels.ts';
import { parseHyperParameters } from '../domain/training/hyperparameters.ts';
import { instanceVcpus } from '../domain/training/instance-types.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import { compileMetricDefinitions } from '../domain/training/metric-definitions.ts';
import { resolveFrameworkImage, scriptModeSettings } from '../domain/training/script-mode.ts';
import { isTerminal, type BaseTrainingSpec, type ScriptSpec, type TrainingChannel, type TrainingJob, type TrainingJobSpec } from '../domain/training/training-job.ts';
import type { TrialEntry, TuningJob } from '../domain/tuning/tuning-job.ts';
import { importBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import { childUri, parseLocation } from './object-locations.ts';
import { assertResourceNameFree, createResource, requireResource } from './sagemaker-resources.ts';
import { backboneFile, trainingDataTree } from './training-data.ts';
import { checkScriptInputs } from './script-data.ts';
import { requestStop } from './training-stop.ts';

/** SageMaker's default for StoppingCondition.MaxRuntimeInSeconds: one day. */
export const DEFAULT_MAX_RUNTIME_SECONDS = 86_400;

/** CreateTrainingJob, in Kennel's terms: what the request asks for, already checked against the service model. */
export interface CreateTrainingJobInput {
  name: string;
  trainingImage?: string;
  algorithmName?: string;
  trainingInputMode?: string;
  roleArn: string;
  /** SageMaker sends strings; numbers are accepted for callers inside Kennel. */
  hyperParameters?: Record<string, string | number>;
  channels: TrainingChannel[];
  /** `s3://bucket/prefix` or `file:///abs/path`; default `s3://sagemaker-<region>-<account>/`. */
  outputPath?: string;
  instanceType?: string;
  instanceCount?: number;
  volumeSizeInGB?: number;
  hasInstanceGroups?: boolean;
  maxRuntimeSeconds?: number;
  /** CheckpointConfig.S3Uri. */
  checkpointUri?: string;
  metricDefinitions?: { name: string; regex: string }[];
  /** Environment: variables for a script-mode job's script. */
  environment?: Record<string, string>;
  /** DebugHookConfig, DebugRuleConfigurations, ProfilerConfig and ProfilerRuleConfigurations. */
  debugger?: DebuggerInput;
  tags?: Tag[];
}

/**
 * The API side of training jobs: calls validate and record the desired state;
 * the controller runs the job (see training-runner.ts).
 */
export class TrainingJobService {
  constructor(
    private readonly deps: ControlDeps,
    private readonly onChange: () => void,
  ) {}

  async create(input: CreateTrainingJobInput): Promise<TrainingJob> {
    const name = assertResourceName('TrainingJob', input.name);
    const { store, clock } = this.deps;
    assertResourceNameFree(store.trainingJobs, 'training-job', name);
    this.assertBelowLimit();
    const spec = await this.specOf(input);
    const now = clock.now();
    const rules = [...(spec.debugger?.rules ?? []), ...(spec.debugger?.profilerRules ?? [])];
    const job: TrainingJob = {
      name,
      spec,
      tags: mergeTags([], input.tags ?? []),
      status: 'InProgress',
      secondaryStatus: 'Starting',
      secondaryStatusTransitions: [{ status: 'Starting', startMs: now, message: 'Preparing to train on this machine' }],
      epochs: [],
      ...(rules.length > 0 ? { ruleEvaluations: initialEvaluations(rules, now) } : {}),
      createdAtMs: now,
      lastModifiedAtMs: now,
    };
    // Checked again now that the slow part is done: another create may have taken the name or the last slot.
    this.assertBelowLimit();
    createResource(store.trainingJobs, 'training-job', job);
    this.onChange();
    return job;
  }

  /**
   * The training job of one trial of a tuning job, from its template: nothing is
   * read or imported again (the tuning job checked the data and holds the
   * backbone). A trial whose values the algorithm refuses is recorded Failed,
   * as a SageMaker trial whose container rejects them would end.
   */
  createTrial(tuning: TuningJob, entry: TrialEntry): TrainingJob {
    const { template } = tuning.spec;
    const now = this.deps.clock.now();
    const base: BaseTrainingSpec = {
      trainingImage: template.trainingImage,
      trainingInputMode: template.trainingInputMode,
      roleArn: template.roleArn,
      hyperParameters: { ...template.staticHyperParameters, ...entry.hyperParameters },
      channels: template.channels,
      outputPath: template.outputPath,
      ...(template.checkpointUri !== undefined ? { checkpointUri: childUri(template.checkpointUri, entry.trainingJobName) } : {}),
      instanceType: template.instanceType,
      instanceCount: template.instanceCount,
      volumeSizeInGB: template.volumeSizeInGB,
      maxRuntimeSeconds: template.maxRuntimeSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS,
      metricDefinitions: template.metricDefinitions,
      tuningJobName: tuning.name,
      objectiveMetric: tuning.spec.objective.metricName,
    };
    let spec: TrainingJobSpec;
    let failureReason: string | undefined;
    try {
      spec = template.backbone
        ? { ...base, algorithm: 'image-classifier', ...(tuning.preparedData ? { preparedDataDigest: tuning.preparedData.digest } : {}), backbone: template.backbone, head: parseHyperParameters(base.hyperParameters).head }
        : scriptSpec(base, template.environment ?? {});
    } catch (error) {
      // The tuned values are checked at their range ends when the tuning job is created; one the algorithm still refuses fails its trial only.
      failureReason = `ClientError: ${describeError(error)}`;
      spec = template.backbone
        ? { ...base, algorithm: 'image-classifier', backbone: template.backbone, head: parseHyperParameters(template.staticHyperParameters).head }
        : { ...base, algorithm: 'script', script: { framework: 'python', interpreter: 'python', program: '', submitDirectory: '' }, environment: {} };
    }
    const job: TrainingJob = {
      name: entry.trainingJobName,
      spec,
      tags: [],
      status: failureReason ? 'Failed' : 'InProgress',
      secondaryStatus: failureReason ? 'Failed' : 'Starting',
      secondaryStatusTransitions: [{ status: failureReason ? 'Failed' : 'Starting', startMs: now, message: failureReason ?? `Trial ${entry.number + 1} of tuning job ${tuning.name}` }],
      ...(failureReason ? { failureReason, endedAtMs: now } : {}),
      epochs: [],
      createdAtMs: now,
      lastModifiedAtMs: now,
    };
    createResource(this.deps.store.trainingJobs, 'training-job', job);
    this.onChange();
    return job;
  }

  describe(name: string): TrainingJob {
    return requireResource(this.deps.store.trainingJobs, 'training-job', name);
  }

  list(): TrainingJob[] {
    return this.deps.store.trainingJobs.list();
  }

  /** Asks a running job to stop; it ends Stopped after its current epoch, keeping the model trained so far. */
  stop(name: string): TrainingJob {
    const job = this.describe(name);
    if (isTerminal(job.status) || job.status === 'Stopping') {
      throw new DomainError('Conflict', `The request was rejected because the training job is in status ${job.status}.`);
    }
    const updated = requestStop(this.deps.store, name, { reason: 'StopRequested', atMs: this.deps.clock.now() });
    this.onChange();
    return updated;
  }

  private assertBelowLimit(): void {
    const { maxConcurrentTrainingJobs } = this.deps.limits;
    const active = this.deps.store.trainingJobs.listByStatus(['InProgress', 'Stopping']).length;
    if (active >= maxConcurrentTrainingJobs) {
      throw new DomainError(
        'LimitExceeded',
        `The account-level service limit 'training jobs running at once' is ${maxConcurrentTrainingJobs} jobs, with current utilization of ${active} jobs and a request delta of 1 job. ` +
          `Wait for a job to finish, stop one, or start Kennel with a higher --max-training-jobs.`,
      );
    }
  }

  /** Everything the job will need, checked now so that a bad request fails here and not halfway through the job. */
  private async specOf(input: CreateTrainingJobInput): Promise<TrainingJobSpec> {
    if (input.trainingImage === undefined) {
      throw new DomainError(
        'ValidationError',
        input.algorithmName !== undefined
          ? `AlgorithmSpecification.AlgorithmName ${JSON.stringify(input.algorithmName)} is not supported: Kennel has no algorithm resources; set TrainingImage instead`
          : 'AlgorithmSpecification.TrainingImage is required',
        { field: 'AlgorithmSpecification.TrainingImage' },
      );
    }
    const algorithm = resolveAlgorithm(input.trainingImage, 'AlgorithmSpecification.TrainingImage');
    const trainingInputMode = input.trainingInputMode ?? 'File';
    if (trainingInputMode === 'Pipe') {
      throw new DomainError('ValidationError', 'TrainingInputMode Pipe is not supported by the image classifier; use File or FastFile', {
        field: 'AlgorithmSpecification.TrainingInputMode',
      });
    }
    if (input.hasInstanceGroups) {
      throw new DomainError('ValidationError', 'ResourceConfig.InstanceGroups (heterogeneous clusters) is not supported; set InstanceType and InstanceCount', {
        field: 'ResourceConfig.InstanceGroups',
      });
    }
    if (input.instanceType === undefined) {
      throw new DomainError('ValidationError', 'ResourceConfig.InstanceType is required', { field: 'ResourceConfig.InstanceType' });
    }
    instanceVcpus(input.instanceType);
    const instanceCount = input.instanceCount ?? 1;
    if (instanceCount !== 1) {
      throw new DomainError('ValidationError', `ResourceConfig.InstanceCount must be 1 (got ${instanceCount}): Kennel trains a job on one instance, this machine`, {
        field: 'ResourceConfig.InstanceCount',
      });
    }
    const outputPath = input.outputPath ?? `s3://${DEFAULT_BUCKET}/`;
    parseLocation(outputPath);
    if (input.checkpointUri !== undefined) parseLocation(input.checkpointUri);
    const metricDefinitions = input.metricDefinitions ?? [];
    compileMetricDefinitions(metricDefinitions);
    const debuggerSpec = input.debugger ? parseDebuggerConfiguration(input.debugger, input.name) : undefined;
    const base: BaseTrainingSpec = {
      trainingImage: input.trainingImage,
      trainingInputMode,
      roleArn: input.roleArn,
      hyperParameters: Object.fromEntries(Object.entries(input.hyperParameters ?? {}).map(([key, value]) => [key, String(value)])),
      channels: input.channels,
      outputPath,
      ...(input.checkpointUri !== undefined ? { checkpointUri: input.checkpointUri } : {}),
      instanceType: input.instanceType,
      instanceCount,
      volumeSizeInGB: input.volumeSizeInGB ?? 30,
      maxRuntimeSeconds: input.maxRuntimeSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS,
      metricDefinitions,
      ...(debuggerSpec ? { debugger: debuggerSpec } : {}),
    };
    if (algorithm === 'script') {
      const spec = scriptSpec(base, input.environment ?? {});
      await checkScriptInputs(this.deps, spec.script.submitDirectory, spec.channels);
      return spec;
    }
    const { head, backbone: settings } = parseHyperParameters(base.hyperParameters);
    const plan = planChannels(input.channels);
    // Opening the data tree checks that every channel's data is there.
    await trainingDataTree(this.deps, plan.data);
    let backbone;
    if (plan.backbone) {
      backbone = await importBackbone(this.deps, { path: await backboneFile(this.deps, plan.backbone), ...settings });
    } else if (Object.keys(settings).length > 0) {
      throw new DomainError('ValidationError', 'Backbone hyperparameters need a backbone channel: add a channel named backbone with the ONNX model', {
        field: 'HyperParameters',
      });
    } else {
      backbone = await importBackbone(this.deps, { sample: true });
    }
    return { ...base, algorithm: 'image-classifier', backbone, head };
  }
}

/** A script-mode job's spec: its entry point and source, read and checked from the hyperparameters. */
export function scriptSpec(base: BaseTrainingSpec, environment: Record<string, string>): ScriptSpec {
  const image = resolveFrameworkImage(base.trainingImage)!;
  const settings = scriptModeSettings({ hyperParameters: base.hyperParameters, image, channelNames: base.channels.map((channel) => channel.channelName) });
  return {
    ...base,
    algorithm: 'script',
    script: { framework: image.framework, interpreter: image.interpreter, program: settings.program, submitDirectory: settings.submitDirectory },
    environment,
  };
}
