/**
 * What the endpoint bench needs before it can measure anything: the ResNet50-shaped backbone, a
 * fixed set of photo-sized JPEGs, and a Kennel home with a model on that backbone deployed as two
 * endpoints (one plain instance, and one with several instances and dynamic batching). The model and the JPEGs are cached in bench/.cache; the home is made fresh each run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { startKennel, type Kennel } from '../../src/cli/start.ts';
import { waitForEndpoint, waitForTrainingJob } from '../../src/control/wait.ts';
import type { LabelsDocument } from '../../src/control/labels.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { randomInt, seededRandom, type Random } from '../../src/core/random.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../../src/domain/iam/arn.ts';
import type { BatchingPolicy } from '../../src/domain/serving/batching.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../../src/domain/training/algorithms.ts';
import type { BackboneRef } from '../../src/domain/training/training-job.ts';
import { packModelArchive } from '../../src/runtime/models/model-archive.ts';
import { generateSampleImages } from '../../src/runtime/samples/sample-images.ts';
import { onnxServed } from '../../src/testing/serving.ts';
import { imageClassifierJob } from '../../src/testing/test-kennel.ts';

export const MODEL_FILE = 'resnet50-features.onnx';

/** Where the model comes from: `../shared/tools/make-resnet50-onnx.sh OUTPUT_DIR`, relative to the repo root. */
export function ensureResnetModel(root: string, cacheDir: string): { path: string } | { skipped: string } {
  const path = join(cacheDir, MODEL_FILE);
  if (existsSync(path)) return { path };
  const script = join(root, '..', 'shared', 'tools', 'make-resnet50-onnx.sh');
  if (!existsSync(script)) return { skipped: `${script} is not there, so the ResNet50-shaped model cannot be made` };
  console.log(`making ${path} with ${script} (installs Debian's python3-torch if missing; a minute or two)`);
  const result = spawnSync('bash', [script, cacheDir], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !existsSync(path)) {
    return { skipped: `${script} failed (${result.error?.message ?? `exit status ${result.status}`})` };
  }
  return { path };
}

// ---- JPEGs ----

/** Bumped whenever the pictures change, so an older cached set is regenerated. */
const JPEG_SET_VERSION = 1;

/** Photo-like sizes from the dogImages set (mostly 500 px on the long side, landscape and portrait). */
export const PHOTO_SIZES: ReadonlyArray<[number, number]> = [
  [500, 375],
  [500, 333],
  [375, 500],
  [500, 400],
  [500, 375],
  [450, 338],
  [333, 500],
  [500, 281],
];

/**
 * `count` JPEGs in `cacheDir/jpegs-v<N>-<count>`, made once: a smooth two-colour gradient, a few
 * soft blobs and stripes, and grain, encoded at quality 88. That compresses like a photo (tens of
 * KB at 500×375) rather than like a flat test card, so decoding costs what a real photo costs.
 */
export async function ensureJpegs(cacheDir: string, count: number): Promise<Uint8Array[]> {
  const dir = join(cacheDir, `jpegs-v${JPEG_SET_VERSION}-${count}`);
  const names = Array.from({ length: count }, (_, i) => `${String(i).padStart(3, '0')}.jpg`);
  if (!existsSync(dir)) {
    const temp = `${dir}.partial-${process.pid}`;
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp, { recursive: true });
    for (const [i, name] of names.entries()) await writeFile(join(temp, name), await drawJpeg(seededRandom(1000 + i), i));
    await rename(temp, dir);
  }
  const present = new Set(await readdir(dir));
  if (!names.every((name) => present.has(name))) throw new Error(`${dir} is incomplete: delete it and run again`);
  return Promise.all(names.map(async (name) => new Uint8Array(await readFile(join(dir, name)))));
}

async function drawJpeg(random: Random, index: number): Promise<Buffer> {
  const [width, height] = PHOTO_SIZES[index % PHOTO_SIZES.length];
  const colour = () => [random.next() * 255, random.next() * 255, random.next() * 255];
  const [from, to] = [colour(), colour()];
  const angle = random.next() * Math.PI * 2;
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const blobs = Array.from({ length: randomInt(random, 3, 8) }, () => ({
    x: random.next() * width,
    y: random.next() * height,
    radius: 30 + random.next() * 140,
    colour: colour(),
  }));
  const stripe = { period: 6 + random.next() * 30, strength: random.next() * 40, angle: random.next() * Math.PI };
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + ((x - width / 2) * dx + (y - height / 2) * dy) / Math.max(width, height)));
      const wave = stripe.strength * Math.sin(((x * Math.cos(stripe.angle) + y * Math.sin(stripe.angle)) / stripe.period) * 2 * Math.PI);
      for (let c = 0; c < 3; c++) {
        let value = from[c] * (1 - t) + to[c] * t;
        for (const blob of blobs) {
          const d2 = ((x - blob.x) ** 2 + (y - blob.y) ** 2) / blob.radius ** 2;
          if (d2 < 4) value += (blob.colour[c] - value) * Math.exp(-d2 * 1.5);
        }
        const grain = (random.next() + random.next() + random.next() - 1.5) * 24;
        pixels[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value + wave + grain)));
      }
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
}

// ---- A Kennel home with the endpoints ----

/** How the second, scaled endpoint runs: instances (worker threads) and dynamic batching. */
export interface ScaledEndpointOptions {
  /** InitialInstanceCount of its one production variant. */
  instances: number;
  /** Kennel's batching extension of the variant (`KennelBatching` on the wire). */
  batching: BatchingPolicy;
}

export interface PreparedHome {
  /** One instance, no batching: what the c=1/2/4 measurements use. */
  endpointName: string;
  /** `scaled.instances` instances, with batching where the server supports it. */
  scaledEndpointName: string;
  /** What the control plane recorded for the scaled endpoint's variant. */
  scaled: { instances: number; batching: BatchingPolicy | undefined };
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The backbone as the server records it: names, feature size, preprocessing. */
  backbone: BackboneRef;
  /** The trained head's ONNX bytes, exactly what the server loads. */
  headModel: Uint8Array;
  labels: string[];
  trainingSeconds: number;
  /** The same-shaped PyTorch model served by an inference script (script_inference.py), one instance; absent without torch. */
  scriptEndpointName?: string;
}

/**
 * Starts Kennel in-process in `home`, trains a tiny classifier on the ResNet50-shaped backbone
 * (3 classes × 4/2/2 generated images, 2 epochs), deploys it as two endpoints (one instance
 * without batching, and `scaled`), waits until both are InService, and closes Kennel again, so a
 * server started later on the same home serves them.
 */
export async function prepareHome(
  home: string,
  modelPath: string,
  servingThreads: number,
  scaled: ScaledEndpointOptions,
  /** Also deploy script_inference.py (Kennel runs it with KENNEL_PYTHON), with this environment. */
  script?: { environment: Record<string, string> },
): Promise<PreparedHome> {
  const started = performance.now();
  const name = 'bench-resnet';
  const scaledName = `${name}-scaled`;
  const kennel = await startKennel({ home, host: '127.0.0.1', port: 0, logger: silentLogger, servingThreads });
  try {
    const { platform } = kennel;
    const imagesDir = join(home, 'bench-images');
    await generateSampleImages(imagesDir, { seed: 7, classes: 3, perClass: { train: 4, valid: 2, test: 2 } });
    await platform.trainingJobs.create(
      imageClassifierJob(`${name}-job`, imagesDir, {
        channels: [
          { channelName: 'training', uri: pathToFileURL(imagesDir).href, s3DataType: 'S3Prefix' },
          { channelName: 'backbone', uri: pathToFileURL(modelPath).href, s3DataType: 'S3Prefix' },
        ],
        // 256 → 224 as torchvision's ImageNet eval transform, which both sides then use.
        hyperParameters: { epochs: 2, batch_size: 8, learning_rate: 0.003, hidden_units: 128, seed: 1, resize_size: 256 },
      }),
    );
    const job = await waitForTrainingJob(platform, `${name}-job`);
    if (job.status !== 'Completed' || !job.artifacts) throw new Error(`training job ${job.name} ended ${job.status}: ${job.failureReason ?? ''}`);
    await platform.models.create({ name, executionRoleArn: KENNEL_EXECUTION_ROLE_ARN, image: IMAGE_CLASSIFIER_IMAGE, modelDataUrl: job.modelArtifactsUri });
    platform.endpointConfigs.create({ name, productionVariants: [{ variantName: 'AllTraffic', modelName: name, initialInstanceCount: 1 }] });
    platform.endpointConfigs.create({
      name: scaledName,
      productionVariants: [{ variantName: 'AllTraffic', modelName: name, initialInstanceCount: scaled.instances, batching: scaled.batching }],
    });
    const recorded = platform.endpointConfigs.describe(scaledName).productionVariants[0];
    platform.endpoints.create({ name, endpointConfigName: name });
    platform.endpoints.create({ name: scaledName, endpointConfigName: scaledName });
    await waitForEndpoint(platform, name);
    await waitForEndpoint(platform, scaledName);
    const scriptName = script ? await deployScript(platform, home, `${name}-script`, script.environment) : undefined;
    const model = onnxServed(platform.models.describe(name));
    const artifacts = platform.deps.artifacts;
    const labels = JSON.parse(new TextDecoder().decode(await artifacts.get(model.artifacts.labels))) as LabelsDocument;
    return {
      endpointName: name,
      scaledEndpointName: scaledName,
      scaled: { instances: recorded.initialInstanceCount, batching: recorded.batching },
      credentials: { accessKeyId: kennel.admin.key.accessKeyId, secretAccessKey: kennel.admin.key.secretAccessKey },
      backbone: model.backbone,
      headModel: await artifacts.get(model.artifacts.headModel!),
      labels: labels.classes.map((entry) => entry.label),
      trainingSeconds: (performance.now() - started) / 1000,
      ...(scriptName ? { scriptEndpointName: scriptName } : {}),
    };
  } finally {
    await kennel.close();
  }
}

/** script_inference.py in a model.tar.gz's code/, on the kennel/python image, one ml.m5.large instance (the one-instance endpoint's thread budget). */
async function deployScript(platform: Kennel['platform'], home: string, name: string, environment: Record<string, string>): Promise<string> {
  const archive = join(home, `${name}.tar.gz`);
  const code = await readFile(fileURLToPath(new URL('./script_inference.py', import.meta.url)));
  await writeFile(archive, await packModelArchive({ 'code/inference.py': code }));
  // The head's classes: the 3 of the generated training set above.
  await platform.models.create({ name, executionRoleArn: KENNEL_EXECUTION_ROLE_ARN, image: 'kennel/python:3', modelDataUrl: pathToFileURL(archive).href, environment: { ...environment, BENCH_CLASSES: '3' } });
  platform.endpointConfigs.create({ name, productionVariants: [{ variantName: 'AllTraffic', modelName: name, initialInstanceCount: 1 }] });
  platform.endpoints.create({ name, endpointConfigName: name });
  const endpoint = await waitForEndpoint(platform, name);
  if (endpoint.status !== 'InService') throw new Error(`the script endpoint ${name} is ${endpoint.status}: ${endpoint.failureReason ?? ''}`);
  return name;
}
