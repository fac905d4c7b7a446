import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { resolveAlgorithm } from '../domain/training/algorithms.ts';
import { planChannels } from '../domain/training/channels.ts';
import { parseHyperParameters } from '../domain/training/hyperparameters.ts';
import { instanceVcpus } from '../domain/training/instance-types.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import { isTerminal, type TrainingChannel, type TrainingJob, type TrainingJobSpec } from '../domain/training/training-job.ts';
import { importBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import { parseLocation } from './object-locations.ts';
import { assertResourceNameFree, createResource, requireResource } from './sagemaker-resources.ts';
import { backboneFile, trainingDataTree } from './training-data.ts';
import { requestStop } from './training-job-reconciler.ts';

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
    const job: TrainingJob = {
      name,
      spec,
      tags: mergeTags([], input.tags ?? []),
      status: 'InProgress',
      secondaryStatus: 'Starting',
      secondaryStatusTransitions: [{ status: 'Starting', startMs: now, message: 'Preparing to train on this machine' }],
      epochs: [],
      createdAtMs: now,
      lastModifiedAtMs: now,
    };
    // Checked again now that the slow part is done: another create may have taken the name or the last slot.
    this.assertBelowLimit();
    createResource(store.trainingJobs, 'training-job', job);
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
    const { head, backbone: settings } = parseHyperParameters(input.hyperParameters ?? {});
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
    return {
      algorithm,
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
      metricDefinitions: input.metricDefinitions ?? [],
      backbone,
      head,
    };
  }
}
