import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import extractZip from 'extract-zip';
import { DomainError } from '../core/errors.ts';
import { globalOptions, kennelHome } from './context.ts';
import { ProgressDisplay } from './progress.ts';

/** Where the real reference data lives (the dataset the public dog-breed project uses). */
const DOG_IMAGES_URL = 'https://s3-us-west-1.amazonaws.com/udacity-aind/dog-project/dogImages.zip';
const EXPORT_SCRIPT = fileURLToPath(new URL('../../examples/dog-breeds/export_resnet50.py', import.meta.url));
const CONNECT_TIMEOUT_MS = 10_000;

export function registerExamples(program: Command): void {
  const group = program.command('examples').description('Example workloads');
  group
    .command('fetch <name>')
    .description('Download what an example needs (dog-breeds: dogImages and an ImageNet ResNet50 as ONNX); needs the internet')
    .option('--dir <dir>', 'where to put it (default $KENNEL_HOME/examples/<name>)')
    .action(async (name: string, options: { dir?: string }, command: Command) => {
      if (name !== 'dog-breeds') throw new DomainError('ValidationError', `Unknown example ${name}; available: dog-breeds`);
      const dir = resolve(options.dir ?? join(kennelHome(globalOptions(command)), 'examples', name));
      await fetchDogBreeds(dir);
    });
}

async function fetchDogBreeds(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const datasetDir = join(dir, 'dogImages');
  if (existsSync(join(datasetDir, 'train'))) {
    process.stdout.write(`dogImages already in ${datasetDir}\n`);
  } else {
    const zip = join(dir, 'dogImages.zip');
    await download(DOG_IMAGES_URL, zip, dir);
    const staging = join(dir, 'dogImages.extracting');
    await rm(staging, { recursive: true, force: true });
    process.stdout.write('Extracting dogImages.zip ...\n');
    await extractZip(zip, { dir: staging });
    await rename(join(staging, 'dogImages'), datasetDir);
    await rm(staging, { recursive: true, force: true });
    await rm(zip, { force: true });
  }

  const backbone = join(dir, 'resnet50-features.onnx');
  if (existsSync(backbone)) {
    process.stdout.write(`Backbone already at ${backbone}\n`);
  } else if (spawnSync('python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0) {
    process.stdout.write('Exporting ImageNet ResNet50 features to ONNX with PyTorch ...\n');
    const result = spawnSync('python3', [EXPORT_SCRIPT, backbone], { stdio: 'inherit' });
    if (result.status !== 0) throw new DomainError('Offline', 'Exporting ResNet50 failed; see the output above');
  } else {
    process.stdout.write(
      `PyTorch is not installed, so the ResNet50 backbone was not exported. Install torch and torchvision, then run:\n  python3 ${EXPORT_SCRIPT} ${backbone}\n`,
    );
    return;
  }
  process.stdout.write(`Ready. With the server running: npm run kennel -- apply -f examples/dog-breeds/kennel.yaml\n`);
}

/** Streams a URL to a file with a progress bar; fails fast with a clear message when offline. */
async function download(url: string, file: string, exampleDir: string): Promise<void> {
  const host = new URL(url).host;
  let response: Response;
  // The timeout covers reaching the server only; the download itself may take long.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
  try {
    response = await fetch(url, { signal: controller.signal });
  } catch (error) {
    clearTimeout(timer);
    const reason = (error as Error).cause ? String((error as Error).cause) : (error as Error).message;
    throw new DomainError(
      'Offline',
      `Cannot reach ${host} (${reason}). Fetching the dog-breeds example needs the internet; on an offline machine copy dogImages/ and resnet50-features.onnx into ${exampleDir} instead`,
    );
  }
  clearTimeout(timer);
  if (!response.ok || !response.body) throw new DomainError('Offline', `Downloading ${url} failed: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length') ?? 0);
  const progress = new ProgressDisplay();
  let done = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => {
    done += chunk.length;
    if (total > 0) progress.update('download', 'Downloading MB', Math.floor(done / 1e6), Math.ceil(total / 1e6));
  });
  const partial = `${file}.partial`;
  try {
    await pipeline(body, createWriteStream(partial));
  } finally {
    progress.stop();
  }
  await rename(partial, file);
}
