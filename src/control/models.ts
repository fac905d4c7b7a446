import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import type { Model } from '../domain/serving/endpoint.ts';
import { resolveAlgorithm } from '../domain/training/algorithms.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import type { ControlDeps } from './deps.ts';
import { readModelPackage } from './model-package.ts';
import { readObject, sameLocation } from './object-locations.ts';
import { assertResourceNameFree, createResource, requireResource, resourceNotFound } from './sagemaker-resources.ts';

export interface CreateModelInput {
  name: string;
  executionRoleArn: string;
  image?: string;
  /** model.tar.gz: `s3://…` or `file:///…`. */
  modelDataUrl?: string;
  environment?: Record<string, string>;
  /** CreateModel's Containers (inference pipelines), which Kennel does not run. */
  hasContainerList?: boolean;
  tags?: Tag[];
}

/** Kennel's own archives are a few MB (the backbone is named, not packed); this leaves room for large heads. */
const MAX_MODEL_ARCHIVE_BYTES = 512 * 1024 * 1024;

export class ModelService {
  constructor(private readonly deps: ControlDeps) {}

  /** Reads the model archive now, so a model that cannot be served is refused here rather than when an endpoint loads it. */
  async create(input: CreateModelInput): Promise<Model> {
    const name = assertResourceName('Model', input.name);
    const { store, artifacts, clock } = this.deps;
    assertResourceNameFree(store.models, 'model', name);
    if (input.hasContainerList) {
      throw new DomainError('ValidationError', 'Containers (inference pipelines) are not supported; give one PrimaryContainer', { field: 'Containers' });
    }
    if (input.image === undefined) {
      throw new DomainError('ValidationError', 'PrimaryContainer.Image is required', { field: 'PrimaryContainer.Image' });
    }
    if (resolveAlgorithm(input.image, 'PrimaryContainer.Image') !== 'image-classifier') {
      throw new DomainError(
        'ValidationError',
        `PrimaryContainer.Image ${JSON.stringify(input.image)} is a framework image: Kennel serves models of its built-in image classifier (kennel/image-classifier:latest), not inference scripts`,
        { field: 'PrimaryContainer.Image' },
      );
    }
    const url = input.modelDataUrl;
    if (url === undefined) {
      throw new DomainError('ValidationError', 'PrimaryContainer.ModelDataUrl is required: the image classifier serves a model.tar.gz written by a training job', {
        field: 'PrimaryContainer.ModelDataUrl',
      });
    }
    const archive = await readObject(this.deps, url, MAX_MODEL_ARCHIVE_BYTES).catch((error: unknown) => {
      if (error instanceof DomainError && error.code === 'NotFound') {
        throw new DomainError('ValidationError', `Could not find model data at ${url}.`, { field: 'PrimaryContainer.ModelDataUrl' });
      }
      throw error;
    });
    const trainingJob = store.trainingJobs.list().find((job) => job.modelArtifactsUri !== undefined && sameLocation(job.modelArtifactsUri, url));
    const digest = createHash('sha256').update(archive).digest('hex');
    if (trainingJob?.artifacts && trainingJob.artifacts.modelArchive !== digest) {
      throw new DomainError(
        'ValidationError',
        `Model data at ${url} is not what training job ${trainingJob.name} wrote there (its SHA-256 is ${digest}, not ${trainingJob.artifacts.modelArchive}): it was damaged or replaced`,
        { field: 'PrimaryContainer.ModelDataUrl' },
      );
    }
    const model = await readModelPackage(archive, url);
    if (!(await artifacts.has(model.backbone.digest))) {
      throw new DomainError(
        'ValidationError',
        `Model data at ${url} needs backbone sha256:${model.backbone.digest}, which is not in this Kennel's artifact store; train the model on this Kennel`,
        { field: 'PrimaryContainer.ModelDataUrl' },
      );
    }
    const record: Model = {
      name,
      executionRoleArn: input.executionRoleArn,
      image: input.image,
      modelDataUrl: url,
      environment: input.environment ?? {},
      backbone: model.backbone,
      artifacts: {
        headModel: await artifacts.put(model.headModel),
        labels: await artifacts.put(new TextEncoder().encode(JSON.stringify(model.labels))),
        modelArchive: await artifacts.put(archive),
      },
      classCount: model.labels.classes.length,
      ...(model.trainingJobName ? { trainingJobName: model.trainingJobName } : {}),
      tags: mergeTags([], input.tags ?? []),
      createdAtMs: clock.now(),
    };
    createResource(store.models, 'model', record);
    return record;
  }

  describe(name: string): Model {
    return requireResource(this.deps.store.models, 'model', name);
  }

  list(): Model[] {
    return this.deps.store.models.list();
  }

  delete(name: string): void {
    if (!this.deps.store.models.delete(name)) throw resourceNotFound('model', name);
  }
}
