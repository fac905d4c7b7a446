import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import { parseHyperParameters } from '../domain/training/hyperparameters.ts';
import { isTerminal, type TrainingJob } from '../domain/training/training-job.ts';
import { importBackbone, type BackboneSpec } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import { assertNameFree, requireRecord } from './records.ts';

export interface CreateTrainingJobInput {
  name: string;
  datasetName: string;
  backbone: BackboneSpec;
  /** SageMaker-style: values may be strings ("0.01") or numbers. */
  hyperParameters?: Record<string, string | number>;
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
    assertNameFree(store.trainingJobs, 'Training job', name);
    if (!store.datasets.get(input.datasetName)) {
      throw new DomainError('NotFound', `Dataset ${input.datasetName} does not exist; register it first`, {
        field: 'datasetName',
      });
    }
    const hyperParameters = parseHyperParameters(input.hyperParameters ?? {});
    const backbone = await importBackbone(this.deps, input.backbone);
    const job: TrainingJob = {
      name,
      algorithm: 'image-classifier',
      datasetName: input.datasetName,
      backbone,
      hyperParameters,
      status: 'InProgress',
      phase: 'Starting',
      epochs: [],
      createdAtMs: clock.now(),
    };
    store.trainingJobs.create(job);
    this.onChange();
    return job;
  }

  describe(name: string): TrainingJob {
    return requireRecord(this.deps.store.trainingJobs, 'Training job', name);
  }

  list(): TrainingJob[] {
    return this.deps.store.trainingJobs.list();
  }

  /** Asks a running job to stop; it ends Stopped after its current epoch. */
  stop(name: string): TrainingJob {
    const job = this.describe(name);
    if (isTerminal(job.status)) {
      throw new DomainError('Conflict', `Training job ${name} is already ${job.status}`);
    }
    const updated = this.deps.store.trainingJobs.update(name, { status: 'Stopping' });
    this.onChange();
    return updated;
  }
}
