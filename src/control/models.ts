import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import type { Model } from '../domain/serving/endpoint.ts';
import type { ControlDeps } from './deps.ts';
import { assertNameFree, deleteRecord, requireRecord } from './records.ts';

export interface CreateModelInput {
  name: string;
  /** The completed training job whose artifacts become the model. */
  trainingJobName: string;
}

export class ModelService {
  constructor(private readonly deps: ControlDeps) {}

  create(input: CreateModelInput): Model {
    const name = assertResourceName('Model', input.name);
    const { store, clock } = this.deps;
    assertNameFree(store.models, 'Model', name);
    const job = store.trainingJobs.get(input.trainingJobName);
    if (!job) {
      throw new DomainError('NotFound', `Training job ${input.trainingJobName} does not exist`, { field: 'trainingJobName' });
    }
    if (job.status !== 'Completed' || !job.artifacts) {
      throw new DomainError(
        'Conflict',
        `Training job ${job.name} is ${job.status}; a model can be created only from a Completed training job`,
      );
    }
    const dataset = store.datasets.get(job.datasetName);
    const model: Model = {
      name,
      trainingJobName: job.name,
      backbone: job.backbone,
      artifacts: job.artifacts,
      classCount: dataset?.classes.length ?? 0,
      createdAtMs: clock.now(),
    };
    store.models.create(model);
    return model;
  }

  describe(name: string): Model {
    return requireRecord(this.deps.store.models, 'Model', name);
  }

  list(): Model[] {
    return this.deps.store.models.list();
  }

  delete(name: string): void {
    deleteRecord(this.deps.store.models, 'Model', name);
  }
}
