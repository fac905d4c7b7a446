import * as ort from 'onnxruntime-node';
import { DomainError, describeError } from '../../core/errors.ts';
import type { BackboneRef, Preprocessing } from '../../domain/training/training-job.ts';
import type { FeatureExtractor } from '../images/feature-extractor.ts';

export interface OpenBackboneOptions {
  /** SHA-256 of the ONNX file, recorded on the BackboneRef. */
  digest: string;
  /** The image input; needed only when the model has several inputs. */
  inputName?: string;
  /** The feature output; needed only when the model has several outputs. */
  outputName?: string;
  /** Checked against the model; found from it (or a one-image probe) when absent. */
  featureSize?: number;
  preprocessing?: Partial<Preprocessing>;
  /** ONNX Runtime threads for this session; ONNX Runtime's default (every core) when absent. */
  intraOpNumThreads?: number;
}

/** torchvision's ImageNet normalisation, which nearly every exported image backbone expects. */
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
const DEFAULT_IMAGE_SIZE = 224;

type Dims = ReadonlyArray<number | string>;

/**
 * Opens any ONNX image backbone (e.g. a torchvision ResNet50 exported without its classifier) as a
 * FeatureExtractor. What the options leave out is read from the model: the single input and output,
 * NCHW or NHWC from where the 3 channels sit, the image size from fixed spatial dims (else 224), and
 * the feature size from the output shape, or from running one blank image when the shape is
 * symbolic. Outputs like [N,2048,1,1] count as [N,2048]. A model with a fixed batch size is run that
 * many images at a time.
 */
export async function openBackbone(onnx: Uint8Array | string, options: OpenBackboneOptions): Promise<FeatureExtractor> {
  const source = typeof onnx === 'string' ? `The backbone at ${onnx}` : 'The backbone';
  let session: ort.InferenceSession;
  try {
    session = await createSession(onnx, options.intraOpNumThreads);
  } catch (error) {
    throw new DomainError('ValidationError', `${source} is not a loadable ONNX model: ${describeError(error)}`, {
      field: 'backbone',
    });
  }
  try {
    const input = pickValue(source, 'input', session.inputNames, session.inputMetadata, options.inputName);
    const output = pickValue(source, 'output', session.outputNames, session.outputMetadata, options.outputName);
    const preprocessing = resolvePreprocessing(source, input, options.preprocessing ?? {});
    const fixedBatchSize = typeof input.shape[0] === 'number' && input.shape[0] > 0 ? input.shape[0] : undefined;
    const declared = featureSizeFromShape(source, output.name, output.shape);
    if (declared !== undefined && options.featureSize !== undefined && declared !== options.featureSize) {
      const message = `${source} outputs ${declared} features from ${output.name}, not ${options.featureSize}`;
      throw new DomainError('ValidationError', message, { field: 'featureSize' });
    }
    const run: RunBatch = (images, batchSize) =>
      runBackbone(session, input.name, output.name, preprocessing, images, batchSize, source);
    const featureSize =
      declared ?? options.featureSize ?? (await probeFeatureSize(run, preprocessing, fixedBatchSize ?? 1, source, output.name));
    const backbone: BackboneRef = {
      digest: options.digest,
      inputName: input.name,
      outputName: output.name,
      featureSize,
      preprocessing,
    };
    return new OnnxFeatureExtractor(session, backbone, fixedBatchSize, run, source);
  } catch (error) {
    await session.release();
    throw error;
  }
}

async function createSession(onnx: Uint8Array | string, intraOpNumThreads?: number): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    ...(intraOpNumThreads ? { intraOpNumThreads } : {}),
    // Idle worker threads would otherwise spin between requests, taking CPU from
    // training and other endpoints on the same cores (measured: 8% less CPU per
    // request, same latency, with bench/endpoint).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  // Two calls because create()'s overloads take a path or bytes, not the union.
  return typeof onnx === 'string' ? ort.InferenceSession.create(onnx, options) : ort.InferenceSession.create(onnx, options);
}

interface TensorValue {
  name: string;
  shape: Dims;
}

function pickValue(
  source: string,
  kind: 'input' | 'output',
  names: readonly string[],
  metadata: readonly ort.InferenceSession.ValueMetadata[],
  wanted: string | undefined,
): TensorValue {
  const field = kind === 'input' ? 'inputName' : 'outputName';
  const list = names.map((n) => JSON.stringify(n)).join(', ');
  if (wanted !== undefined && !names.includes(wanted)) {
    const message = `${source} has no ${kind} named ${JSON.stringify(wanted)}; its ${kind}s are ${list}`;
    throw new DomainError('ValidationError', message, { field });
  }
  if (wanted === undefined && names.length !== 1) {
    const role = kind === 'input' ? 'image' : 'feature vector';
    throw new DomainError('ValidationError', `${source} has ${kind}s ${list}; say which one is the ${role} with ${field}`, { field });
  }
  const name = wanted ?? names[0];
  const meta = metadata.find((m) => m.name === name);
  if (meta && (!meta.isTensor || meta.type !== 'float32')) {
    const what = meta.isTensor ? `a ${meta.type} tensor` : 'not a tensor';
    const message = `${source} ${kind} ${JSON.stringify(name)} is ${what}; a backbone takes and gives float32 tensors`;
    throw new DomainError('ValidationError', message, { field });
  }
  return { name, shape: meta?.isTensor ? meta.shape : [] };
}

function resolvePreprocessing(source: string, input: TensorValue, given: Partial<Preprocessing>): Preprocessing {
  const shape = input.shape;
  if (shape.length !== 0 && shape.length !== 4) {
    const message = `${source} input ${input.name} has shape [${shape.join(', ')}]; an image backbone takes [N,3,H,W] or [N,H,W,3]`;
    throw new DomainError('ValidationError', message, { field: 'inputName' });
  }
  const layout = given.layout ?? (shape[3] === 3 && shape[1] !== 3 ? 'NHWC' : 'NCHW');
  const spatial = layout === 'NCHW' ? [shape[2], shape[3]] : [shape[1], shape[2]];
  const fixedSide = typeof spatial[0] === 'number' && spatial[0] > 0 && spatial[0] === spatial[1] ? spatial[0] : undefined;
  const cropSize = given.cropSize ?? fixedSide ?? DEFAULT_IMAGE_SIZE;
  if (fixedSide !== undefined && cropSize !== fixedSide) {
    const message = `${source} takes ${fixedSide}×${fixedSide} images, but preprocessing.cropSize is ${cropSize}`;
    throw new DomainError('ValidationError', message, { field: 'preprocessing.cropSize' });
  }
  return {
    // torchvision's ImageNet recipe: resize to 256, crop 224; the same ratio for other sizes.
    resizeSize: given.resizeSize ?? Math.round((cropSize * 256) / 224),
    cropSize,
    mean: given.mean ?? IMAGENET_MEAN,
    std: given.std ?? IMAGENET_STD,
    layout,
  };
}

/**
 * The feature size a [N, F, 1, …] shape declares; undefined when F is symbolic or the shape is
 * unknown. Throws for shapes that are not one vector per image.
 */
function featureSizeFromShape(source: string, outputName: string, dims: Dims): number | undefined {
  if (dims.length === 0) return undefined;
  const trailing = dims.slice(2);
  const isVector = dims.length >= 2 && trailing.every((d) => d === 1);
  if (!isVector) {
    if (trailing.every((d) => typeof d === 'number')) throw notFeatureVector(source, outputName, dims);
    // Symbolic trailing dims: only running the model tells.
    return undefined;
  }
  return typeof dims[1] === 'number' && dims[1] > 0 ? dims[1] : undefined;
}

function notFeatureVector(source: string, outputName: string, dims: Dims): DomainError {
  return new DomainError(
    'ValidationError',
    `${source} output ${outputName} has shape [${dims.join(', ')}], not one feature vector per image ([N,F] or [N,F,1,1]); ` +
      'export the model without its spatial head, or name the pooled output with outputName',
    { field: 'outputName' },
  );
}

type RunBatch = (images: Float32Array, batchSize: number) => Promise<ort.Tensor>;

async function runBackbone(
  session: ort.InferenceSession,
  inputName: string,
  outputName: string,
  preprocessing: Preprocessing,
  images: Float32Array,
  batchSize: number,
  source: string,
): Promise<ort.Tensor> {
  const { cropSize, layout } = preprocessing;
  const dims = layout === 'NCHW' ? [batchSize, 3, cropSize, cropSize] : [batchSize, cropSize, cropSize, 3];
  try {
    const outputs = await session.run({ [inputName]: new ort.Tensor('float32', images, dims) }, [outputName]);
    return outputs[outputName] as ort.Tensor;
  } catch (error) {
    // The model itself failed: the container's 500, never the caller's fault; no server paths.
    throw new DomainError('ModelError', `The backbone model failed on a batch of ${batchSize} images: ${describeError(error)}`, {
      originalStatusCode: 500,
    });
  }
}

/** Runs blank images to learn the feature size the model's metadata does not state. */
async function probeFeatureSize(
  run: RunBatch,
  preprocessing: Preprocessing,
  batchSize: number,
  source: string,
  outputName: string,
): Promise<number> {
  let output: ort.Tensor;
  try {
    output = await run(new Float32Array(batchSize * imageLength(preprocessing)), batchSize);
  } catch (error) {
    const message = `${describeError(error)}; check the preprocessing (image size and layout) it expects`;
    throw new DomainError('ValidationError', message, { field: 'preprocessing' });
  }
  const length = vectorLength(output, batchSize);
  if (length === undefined) throw notFeatureVector(source, outputName, output.dims);
  return length;
}

function imageLength(preprocessing: Preprocessing): number {
  return 3 * preprocessing.cropSize * preprocessing.cropSize;
}

/** Length of each image's vector in an [N, F, 1, …] float32 output; undefined for anything else. */
function vectorLength(output: ort.Tensor, batchSize: number): number | undefined {
  const dims = output.dims;
  const isVector = dims.length >= 2 && dims[0] === batchSize && dims.slice(2).every((d) => d === 1);
  return output.type === 'float32' && isVector ? dims[1] : undefined;
}

class OnnxFeatureExtractor implements FeatureExtractor {
  private closed = false;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly backbone: BackboneRef,
    private readonly fixedBatchSize: number | undefined,
    private readonly run: RunBatch,
    private readonly source: string,
  ) {}

  async extract(input: Float32Array, batchSize: number): Promise<Float32Array> {
    const imageSize = imageLength(this.backbone.preprocessing);
    if (!Number.isInteger(batchSize) || batchSize < 1 || input.length !== batchSize * imageSize) {
      const message = `extract got ${input.length} floats for ${batchSize} images of ${imageSize} floats each`;
      throw new DomainError('Internal', message);
    }
    const chunk = this.fixedBatchSize ?? batchSize;
    if (chunk === batchSize) return this.features(await this.run(input, batchSize), batchSize);
    const { featureSize } = this.backbone;
    const features = new Float32Array(batchSize * featureSize);
    for (let first = 0; first < batchSize; first += chunk) {
      const count = Math.min(chunk, batchSize - first);
      // A fixed-batch model needs exactly `chunk` images: the last chunk is padded with blanks.
      const images = new Float32Array(chunk * imageSize);
      images.set(input.subarray(first * imageSize, (first + count) * imageSize));
      const out = this.features(await this.run(images, chunk), chunk);
      features.set(out.subarray(0, count * featureSize), first * featureSize);
    }
    return features;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }

  private features(output: ort.Tensor, batchSize: number): Float32Array {
    const length = vectorLength(output, batchSize);
    if (length !== this.backbone.featureSize) {
      const expected = `[${batchSize}, ${this.backbone.featureSize}]`;
      const message = `${this.source} gave output [${output.dims.join(', ')}] for ${batchSize} images, expected ${expected}`;
      throw new DomainError('ModelError', message);
    }
    return output.data as Float32Array;
  }
}
