import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { DomainError, isDomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import type { Model } from '../domain/serving/endpoint.ts';
import { inferenceScriptSettings, resolveServingImage, type OnnxServing, type ScriptServing } from '../domain/serving/model-serving.ts';
import type { Interpreter } from '../domain/training/script-mode.ts';
import type { BackboneRef } from '../domain/training/training-job.ts';
import { mergeTags, type Tag } from '../domain/tags.ts';
import { packModelArchive, unpackModelArchive } from '../runtime/models/model-archive.ts';
import { probeHeadClasses } from '../runtime/onnx/head-probe.ts';
import { openBackboneInWorker } from '../runtime/onnx/worker-backbone.ts';
import { packModelDir } from '../runtime/script-mode/model-output.ts';
import { MODEL_FOLDER_LIMITS, SOURCE_FOLDER_LIMITS } from '../runtime/serving/model-folders.ts';
import type { ControlDeps } from './deps.ts';
import { KENNEL_MODEL_FORMAT, MODEL_MANIFEST, readModelPackage } from './model-package.ts';
import { parseLocation, readObject, sameLocation } from './object-locations.ts';
import { readOnnxPackage, type OnnxPackage } from './onnx-package.ts';
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

/** Kennel's own archives are a few MB (the backbone is named, not packed); ONNX classifiers and PyTorch checkpoints are ~100 MB for a ResNet50. */
const MAX_MODEL_ARCHIVE_BYTES = 1024 * 1024 * 1024;
/** An inference script's source: code, not data. */
const MAX_SOURCE_ARCHIVE_BYTES = 256 * 1024 * 1024;

/** What the archive says about the model besides how to serve it. */
interface ServedFacts {
  classCount?: number;
  trainingJobName?: string;
}

export class ModelService {
  constructor(private readonly deps: ControlDeps) {}

  /**
   * Reads the model archive now, so a model that cannot be served is refused here rather than when
   * an endpoint loads it. The image decides how it is served: ONNX Runtime (Kennel's own model.tar.gz
   * or any ONNX classifier), or an inference script on a framework image.
   */
  async create(input: CreateModelInput): Promise<Model> {
    const name = assertResourceName('Model', input.name);
    const { store, clock } = this.deps;
    assertResourceNameFree(store.models, 'model', name);
    if (input.hasContainerList) {
      throw new DomainError('ValidationError', 'Containers (inference pipelines) are not supported; give one PrimaryContainer', { field: 'Containers' });
    }
    if (input.image === undefined) {
      throw new DomainError('ValidationError', 'PrimaryContainer.Image is required', { field: 'PrimaryContainer.Image' });
    }
    const image = resolveServingImage(input.image, 'PrimaryContainer.Image');
    const environment = input.environment ?? {};
    const url = input.modelDataUrl;
    if (url === undefined && image.kind === 'onnx') {
      throw new DomainError('ValidationError', 'PrimaryContainer.ModelDataUrl is required: ONNX serving reads the model from a model.tar.gz', {
        field: 'PrimaryContainer.ModelDataUrl',
      });
    }
    const archive = url === undefined ? await packModelArchive({}) : await this.readModelData(url);
    const served = image.kind === 'onnx' ? await this.onnxServing(archive, url!) : await this.scriptServing(archive, url, image.interpreter, environment);
    const record: Model = {
      name,
      executionRoleArn: input.executionRoleArn,
      image: input.image,
      ...(url !== undefined ? { modelDataUrl: url } : {}),
      environment,
      ...served,
      tags: mergeTags([], input.tags ?? []),
      createdAtMs: clock.now(),
    };
    createResource(store.models, 'model', record);
    return record;
  }

  /** The archive at `url`, checked against what the training job that wrote it recorded. */
  private async readModelData(url: string): Promise<Uint8Array> {
    const archive = await readObject(this.deps, url, MAX_MODEL_ARCHIVE_BYTES).catch((error: unknown) => {
      if (error instanceof DomainError && error.code === 'NotFound') {
        throw new DomainError('ValidationError', `Could not find model data at ${url}.`, { field: 'PrimaryContainer.ModelDataUrl' });
      }
      throw error;
    });
    const trainingJob = this.deps.store.trainingJobs.list().find((job) => job.modelArtifactsUri !== undefined && sameLocation(job.modelArtifactsUri, url));
    const digest = createHash('sha256').update(archive).digest('hex');
    if (trainingJob?.artifacts && trainingJob.artifacts.modelArchive !== digest) {
      throw new DomainError(
        'ValidationError',
        `Model data at ${url} is not what training job ${trainingJob.name} wrote there (its SHA-256 is ${digest}, not ${trainingJob.artifacts.modelArchive}): it was damaged or replaced`,
        { field: 'PrimaryContainer.ModelDataUrl' },
      );
    }
    return archive;
  }

  /** Kennel's own model.tar.gz (a head on a stored backbone), or any ONNX classifier with labels. */
  private async onnxServing(archive: Uint8Array, url: string): Promise<OnnxServing & ServedFacts> {
    const { artifacts } = this.deps;
    if ((await manifestFormat(archive)) === KENNEL_MODEL_FORMAT) {
      const model = await readModelPackage(archive, url);
      if (!(await artifacts.has(model.backbone.digest))) {
        throw new DomainError(
          'ValidationError',
          `Model data at ${url} needs backbone sha256:${model.backbone.digest}, which is not in this Kennel's artifact store; train the model on this Kennel`,
          { field: 'PrimaryContainer.ModelDataUrl' },
        );
      }
      return {
        backbone: model.backbone,
        artifacts: {
          headModel: await artifacts.put(model.headModel),
          labels: await artifacts.put(json(model.labels)),
          modelArchive: await artifacts.put(archive),
        },
        // Kennel's heads end in a softmax.
        scores: 'probabilities',
        classCount: model.labels.classes.length,
        ...(model.trainingJobName ? { trainingJobName: model.trainingJobName } : {}),
      };
    }
    const onnx = await readOnnxPackage(archive, url);
    const backbone = await probeOnnxModel(onnx, await artifacts.put(onnx.model), url);
    const classCount = onnx.head ? await probeHeadClasses(onnx.head, backbone.featureSize).catch(rethrowFor(url)) : backbone.featureSize;
    if (classCount !== onnx.labels.classes.length) {
      throw new DomainError(
        'ValidationError',
        `Model data ${url} cannot be served by ONNX Runtime: the model gives ${classCount} class scores, and its labels name ${onnx.labels.classes.length} classes; give one label per output, in order`,
        { field: 'PrimaryContainer.ModelDataUrl' },
      );
    }
    return {
      backbone,
      artifacts: {
        ...(onnx.head ? { headModel: await artifacts.put(onnx.head) } : {}),
        labels: await artifacts.put(json(onnx.labels)),
        modelArchive: await artifacts.put(archive),
      },
      ...(onnx.scores ? { scores: onnx.scores } : {}),
      classCount,
    };
  }

  /**
   * An inference script: its settings from the environment, the code from SAGEMAKER_SUBMIT_DIRECTORY or
   * the archive's code/ folder (which must hold the script), both kept as they are now, so later edits
   * to the source do not change a deployed model, as on SageMaker.
   */
  private async scriptServing(archive: Uint8Array, url: string | undefined, interpreter: Interpreter, environment: Record<string, string>): Promise<ScriptServing> {
    const { artifacts } = this.deps;
    const settings = inferenceScriptSettings(environment, interpreter);
    const where = url ?? 'the model (no ModelDataUrl)';
    let sourceArchive: string | undefined;
    if (settings.submitDirectory !== undefined) {
      const source = await readSourceArchive(this.deps, settings.submitDirectory);
      if (!(await holdsFile(source, settings.program, settings.submitDirectory, 'PrimaryContainer.Environment.SAGEMAKER_SUBMIT_DIRECTORY'))) {
        throw missingProgram(settings.program, `the source at ${settings.submitDirectory}`, 'PrimaryContainer.Environment.SAGEMAKER_PROGRAM');
      }
      sourceArchive = await artifacts.put(source);
    } else if (!(await holdsFile(archive, `code/${settings.program}`, where, 'PrimaryContainer.ModelDataUrl'))) {
      throw missingProgram(
        settings.program,
        `code/ in ${where}`,
        'PrimaryContainer.Environment.SAGEMAKER_PROGRAM',
        ' Put the script in the archive (tar czf model.tar.gz model.pth code/inference.py), or name its source with SAGEMAKER_SUBMIT_DIRECTORY',
      );
    }
    return {
      script: {
        interpreter,
        program: settings.program,
        modelArchive: await artifacts.put(archive),
        ...(sourceArchive ? { sourceArchive } : {}),
        timeoutMs: settings.timeoutMs,
        environment,
      },
    };
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

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** The `format` of the archive's kennel-model.json, or undefined when it has none. */
async function manifestFormat(archive: Uint8Array): Promise<string | undefined> {
  const manifest = (await unpackModelArchive(archive, { only: new Set([MODEL_MANIFEST]), maxEntryBytes: 1024 * 1024 })).get(MODEL_MANIFEST);
  if (!manifest) return undefined;
  try {
    const format = (JSON.parse(new TextDecoder().decode(manifest)) as { format?: unknown }).format;
    return typeof format === 'string' ? format : undefined;
  } catch {
    return undefined;
  }
}

/** Opens the classifier (or backbone) as ONNX Runtime will serve it, off this thread: what it takes, and how many scores it gives. */
async function probeOnnxModel(onnx: OnnxPackage, digest: string, url: string): Promise<BackboneRef> {
  const extractor = await openBackboneInWorker(onnx.model, {
    digest,
    ...(onnx.inputName ? { inputName: onnx.inputName } : {}),
    ...(onnx.outputName ? { outputName: onnx.outputName } : {}),
    preprocessing: onnx.preprocessing,
    intraOpNumThreads: 1,
  }).catch(rethrowFor(url));
  try {
    return extractor.backbone;
  } finally {
    await extractor.close();
  }
}

/** A refusal of the model's files, said about the model data at `url`. */
function rethrowFor(url: string): (error: unknown) => never {
  return (error) => {
    if (isDomainError(error) && error.code === 'ValidationError') {
      throw new DomainError('ValidationError', `Model data ${url} cannot be served by ONNX Runtime: ${error.message.replace(/^The backbone/, 'the model')}`, {
        field: 'PrimaryContainer.ModelDataUrl',
      });
    }
    throw error;
  };
}

/** SAGEMAKER_SUBMIT_DIRECTORY's code as a gzip-compressed tar: the archive itself, or a file:// folder packed now. */
async function readSourceArchive(deps: ControlDeps, uri: string): Promise<Uint8Array> {
  const field = 'PrimaryContainer.Environment.SAGEMAKER_SUBMIT_DIRECTORY';
  const location = parseLocation(uri);
  if (location.scheme === 'file') {
    // The code is copied where the script can read it: never Kennel's own state (its keys and every model).
    const [path, home] = await Promise.all([realpath(location.path).catch(() => location.path), realpath(deps.home).catch(() => deps.home)]);
    const within = (inner: string, outer: string) => outer === '/' || inner === outer || inner.startsWith(`${outer}/`);
    if (within(path, home) || within(home, path)) {
      throw new DomainError('ValidationError', `${field} ${uri} is or holds Kennel's state folder, which holds its keys: give the code from a folder of its own`, { field });
    }
    if (await stat(path).then((info) => info.isDirectory(), () => false)) return (await packModelDir(path, SOURCE_FOLDER_LIMITS)).archive;
  }
  return readObject(deps, uri, MAX_SOURCE_ARCHIVE_BYTES).catch((error: unknown) => {
    if (isDomainError(error) && error.code === 'NotFound') throw new DomainError('ValidationError', `${field} ${uri} does not exist`, { field });
    throw error;
  });
}

async function holdsFile(archive: Uint8Array, name: string, where: string, field: string): Promise<boolean> {
  try {
    // The instance's limits (model-folders.ts): a Node.js code/ folder with its node_modules has many files.
    const limits = field === 'PrimaryContainer.ModelDataUrl' ? MODEL_FOLDER_LIMITS : SOURCE_FOLDER_LIMITS;
    return (await unpackModelArchive(archive, { only: new Set([name]), maxEntries: limits.maxFiles, maxTotalBytes: limits.maxBytes, maxEntryBytes: MAX_SOURCE_ARCHIVE_BYTES })).has(name);
  } catch (error) {
    if (isDomainError(error)) throw new DomainError('ValidationError', `${where}: ${error.message}`, { field });
    throw error;
  }
}

function missingProgram(program: string, where: string, field: string, hint = ''): DomainError {
  return new DomainError('ValidationError', `The inference script ${JSON.stringify(program)} (${field.split('.').at(-1)}) is not in ${where}.${hint}`, { field });
}
