import { DomainError } from '../../core/errors.ts';
import { IMAGE_CLASSIFIER_REPOSITORY, splitImage } from '../training/algorithms.ts';
import type { Interpreter } from '../training/script-mode.ts';
import type { BackboneRef } from '../training/training-job.ts';
import type { ScoreKind } from './predictions.ts';

/**
 * How a model is served, chosen by CreateModel's PrimaryContainer.Image as a
 * SageMaker container image would be: Kennel's ONNX serving images run the
 * model in ONNX Runtime worker threads with no code of the user's; framework
 * inference images run the user's inference script (SageMaker's inference
 * toolkit contract: model_fn, input_fn, predict_fn, output_fn) in a worker
 * process on this machine's interpreter.
 */

/** Kennel's ONNX serving image: a model.tar.gz holding model.onnx (or backbone.onnx and head.onnx) and labels. */
export const ONNX_SERVING_REPOSITORY = 'kennel/onnx-classifier';
export const ONNX_SERVING_IMAGE = `${ONNX_SERVING_REPOSITORY}:latest`;

/** Inference repositories of SageMaker's framework containers, and Kennel's own script images. */
const SCRIPT_REPOSITORIES: Readonly<Record<string, Interpreter>> = {
  'pytorch-inference': 'python',
  'sagemaker-scikit-learn': 'python',
  'kennel/python': 'python',
  'kennel/node': 'node',
};

export type ServingImage = { kind: 'onnx' } | { kind: 'script'; interpreter: Interpreter };

/** What an inference image stands for; any registry, tag or digest is accepted, as for training images. */
export function resolveServingImage(image: string, field: string): ServingImage {
  const { repository } = splitImage(image);
  if (repository === IMAGE_CLASSIFIER_REPOSITORY || repository === ONNX_SERVING_REPOSITORY) return { kind: 'onnx' };
  if (Object.hasOwn(SCRIPT_REPOSITORIES, repository)) return { kind: 'script', interpreter: SCRIPT_REPOSITORIES[repository] };
  throw new DomainError(
    'ValidationError',
    `${field} ${JSON.stringify(image)} is not an inference image Kennel can run. Kennel serves ` +
      `${ONNX_SERVING_IMAGE} (and kennel/image-classifier) with ONNX Runtime: a model.tar.gz holding model.onnx, or backbone.onnx and head.onnx, with labels; ` +
      `and, with your inference script (model_fn, input_fn, predict_fn, output_fn), the framework images ` +
      `${Object.keys(SCRIPT_REPOSITORIES).join(', ')} (any registry and tag), run with this machine's Python or Node.js.`,
    { field },
  );
}

/** The files an ONNX-served model runs from, as content-addressed artifact digests. */
export interface ModelArtifacts {
  /** Head ONNX model: features → class scores; absent when the backbone is the whole classifier. */
  headModel?: string;
  /** Labels JSON (Kennel's labels document): class names in index order. */
  labels: string;
  /** The model.tar.gz the model was created from; absent on models of Kennel 0.1, which had none. */
  modelArchive?: string;
}

/**
 * A model served by ONNX Runtime: the backbone (a whole classifier, or a
 * feature extractor with a head), its labels, and whether its scores are
 * probabilities or logits that need a softmax.
 */
export interface OnnxServing {
  backbone: BackboneRef;
  artifacts: ModelArtifacts;
  /** What the model's scores are, as declared by its manifest or metadata; absent, told from the values (asProbabilities). */
  scores?: ScoreKind;
}

/** A model served by the user's inference script, as SageMaker's framework containers serve one. */
export interface InferenceScript {
  interpreter: Interpreter;
  /** SAGEMAKER_PROGRAM: the script, relative to the code folder. */
  program: string;
  /** SHA-256 of the model.tar.gz: unpacked as the model folder (model_fn's model_dir). */
  modelArchive: string;
  /** SHA-256 of the source archive (SAGEMAKER_SUBMIT_DIRECTORY), unpacked as the code folder; absent, it is code/ in the model archive. */
  sourceArchive?: string;
  /** SAGEMAKER_MODEL_SERVER_TIMEOUT: how long one invocation may take. */
  timeoutMs: number;
  /** The model's Environment, as the container gets it (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT among it): kept with the deployment, which outlives the model. */
  environment: Record<string, string>;
}

export interface ScriptServing {
  script: InferenceScript;
}

export type Serving = OnnxServing | ScriptServing;

export function isScriptServing(serving: Serving): serving is ScriptServing {
  return 'script' in serving;
}

/** The serving members of a record that carries them (a model, a deployed variant), and nothing else. */
export function servingOf(record: Serving): Serving {
  if (isScriptServing(record)) return { script: record.script };
  const { backbone, artifacts, scores } = record;
  return { backbone, artifacts, ...(scores ? { scores } : {}) };
}

/** The inference toolkit's defaults: the module inference.py (inference.mjs on Node.js), 60 s per request, JSON answers. */
const DEFAULT_PROGRAM: Record<Interpreter, string> = { python: 'inference.py', node: 'inference.mjs' };
const PROGRAM_EXTENSIONS: Record<Interpreter, readonly string[]> = { python: ['.py'], node: ['.mjs', '.js', '.cjs'] };
const DEFAULT_TIMEOUT_SECONDS = 60;
/** SageMaker's real-time endpoints answer within 60 s; longer timeouts are accepted for local experiments, up to an hour. */
const MAX_TIMEOUT_SECONDS = 3600;
/** Where the SageMaker SDK's repacked model.tar.gz keeps the code, as SAGEMAKER_SUBMIT_DIRECTORY names it. */
export const ARCHIVE_CODE_DIRECTORY = '/opt/ml/model/code';

export interface InferenceScriptSettings {
  program: string;
  /** An s3:// or file:// URI of the source (a .tar.gz, or a folder with file://); absent, the code is in the model archive's code/. */
  submitDirectory?: string;
  timeoutMs: number;
}

/**
 * The serving settings a SageMaker framework container reads from its environment
 * (sagemaker-inference-toolkit's environment.py), checked: a bad value is refused
 * at CreateModel, naming the variable, instead of failing every instance later.
 */
export function inferenceScriptSettings(environment: Readonly<Record<string, string>>, interpreter: Interpreter): InferenceScriptSettings {
  const field = (name: string) => `PrimaryContainer.Environment.${name}`;
  const program = programName(environment.SAGEMAKER_PROGRAM ?? DEFAULT_PROGRAM[interpreter], interpreter, field('SAGEMAKER_PROGRAM'));
  const submit = environment.SAGEMAKER_SUBMIT_DIRECTORY;
  const inArchive = submit === undefined || submit === '' || submit.replace(/\/+$/, '') === ARCHIVE_CODE_DIRECTORY;
  if (!inArchive && !/^(s3|file):\/\//.test(submit)) {
    throw new DomainError(
      'ValidationError',
      `${field('SAGEMAKER_SUBMIT_DIRECTORY')} ${JSON.stringify(submit)} is not a place Kennel can read the code from: give an s3:// or file:// URI of a .tar.gz ` +
        `(or, with file://, a folder), or ${ARCHIVE_CODE_DIRECTORY} for the code/ folder inside the model archive`,
      { field: field('SAGEMAKER_SUBMIT_DIRECTORY') },
    );
  }
  const timeoutText = environment.SAGEMAKER_MODEL_SERVER_TIMEOUT;
  const timeoutSeconds = timeoutText === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(timeoutText);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw new DomainError('ValidationError', `${field('SAGEMAKER_MODEL_SERVER_TIMEOUT')} must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS} (got ${JSON.stringify(timeoutText)})`, {
      field: field('SAGEMAKER_MODEL_SERVER_TIMEOUT'),
    });
  }
  return { program, ...(inArchive ? {} : { submitDirectory: submit }), timeoutMs: timeoutSeconds * 1000 };
}

/** A script path inside the code folder: relative, no `..`, with its interpreter's extension (a bare module name gets it). */
function programName(given: string, interpreter: Interpreter, field: string): string {
  const extensions = PROGRAM_EXTENSIONS[interpreter];
  const program = extensions.some((extension) => given.endsWith(extension)) ? given : `${given}${extensions[0]}`;
  const segments = program.split('/');
  if (program.startsWith('/') || segments.some((segment) => segment === '' || segment === '.' || segment === '..') || program.includes('\0')) {
    throw new DomainError('ValidationError', `${field} ${JSON.stringify(given)} must name a script inside the code folder, such as "inference${extensions[0]}"`, { field });
  }
  return program;
}
