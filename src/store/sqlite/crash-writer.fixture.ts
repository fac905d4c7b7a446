/**
 * A child process for sqlite-store.test.ts, which kills or races it.
 *
 *   write <file>                 writes batches forever, printing "committed <i>" after each
 *   stall <file>                 commits a few datasets, then blocks in the middle of a putMany
 *                                printing "stalled", with uncommitted pages already in the WAL
 *   append <file> <job> <count>  appends <count> epochs to training job <job>
 *
 * Records are built so a reader can tell a whole one from a torn one.
 */
import { pathToFileURL } from 'node:url';
import type { Dataset } from '../../domain/data/dataset.ts';
import type { TrainingJob } from '../../domain/training/training-job.ts';
import { openSqliteStore } from './sqlite-store.ts';

export const CRASH_EMBEDDING_KEY = 'crash-writer';
export const CRASH_BATCH_SIZE = 64;
export const CRASH_VECTOR_LENGTH = 2048;
export const CRASH_JOB = 'crash-job';
export const STALLED_EMBEDDING_KEY = 'stalled';
export const COMMITTED_BEFORE_STALL = 3;
const STALL_AFTER_VECTORS = 2560;

/** Dataset i lists 100 + i classes and says so in counts.train. */
export function crashDataset(i: number): Dataset {
  const classes = Array.from({ length: 100 + i }, (_, k) => `${String(k).padStart(3, '0')}.class_${k}`);
  return { name: `crash-${i}`, path: `/data/crash-${i}`, classes, counts: { train: classes.length, valid: i, test: i }, createdAtMs: i };
}

export function crashDigest(batch: number, j: number): string {
  return `batch-${batch}-image-${j}`;
}

export function crashVector(batch: number, j: number): Float32Array {
  const vector = new Float32Array(CRASH_VECTOR_LENGTH);
  for (let k = 0; k < vector.length; k++) vector[k] = batch * 1000 + j + k / CRASH_VECTOR_LENGTH;
  return vector;
}

export function emptyJob(name: string): TrainingJob {
  return {
    name,
    spec: {
      algorithm: 'image-classifier',
      trainingImage: 'kennel/image-classifier:latest',
      trainingInputMode: 'File',
      roleArn: 'arn:aws:iam::000000000000:role/Crash',
      hyperParameters: {},
      channels: [{ channelName: 'training', uri: 'file:///data/crash', s3DataType: 'S3Prefix' }],
      outputPath: 's3://sagemaker-us-east-1-000000000000/',
      instanceType: 'ml.m5.large',
      instanceCount: 1,
      volumeSizeInGB: 30,
      maxRuntimeSeconds: 86_400,
      metricDefinitions: [],
      backbone: {
        digest: '0'.repeat(64),
        inputName: 'input',
        outputName: 'features',
        featureSize: CRASH_VECTOR_LENGTH,
        preprocessing: { resizeSize: 224, cropSize: 224, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' },
      },
      head: { learning_rate: 0.01, batch_size: 32, epochs: 1_000_000, hidden_units: 128, seed: 1 },
    },
    tags: [],
    status: 'InProgress',
    secondaryStatus: 'Training',
    secondaryStatusTransitions: [],
    epochs: [],
    createdAtMs: 0,
    lastModifiedAtMs: 0,
  };
}

function writeForever(file: string): void {
  const store = openSqliteStore(file);
  store.trainingJobs.create(emptyJob(CRASH_JOB));
  for (let i = 0; ; i++) {
    store.datasets.create(crashDataset(i));
    const batch = new Map<string, Float32Array>();
    for (let j = 0; j < CRASH_BATCH_SIZE; j++) batch.set(crashDigest(i, j), crashVector(i, j));
    store.embeddings.putMany(CRASH_EMBEDDING_KEY, batch);
    store.trainingJobs.appendEpochs(CRASH_JOB, [{ epoch: i + 1, trainLoss: 1, trainAccuracy: 0, validationLoss: 1, validationAccuracy: 0, seconds: 0 }], i);
    // Writes to a pipe are synchronous on Linux, so the parent sees this line only after the commits above.
    process.stdout.write(`committed ${i}\n`);
  }
}

/**
 * Entries that stop the process while putMany iterates them: the transaction
 * is open and, with 2,560 vectors (21 MB) written past the connection's 16 MB
 * page cache (better-sqlite3's default), has spilled uncommitted pages into
 * the WAL, which recovery must then ignore.
 */
class StallingEntries extends Map<string, Float32Array> {
  override *[Symbol.iterator](): MapIterator<[string, Float32Array]> {
    let yielded = 0;
    for (const entry of super.entries()) {
      if (yielded === STALL_AFTER_VECTORS) {
        process.stdout.write('stalled\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      }
      yield entry;
      yielded++;
    }
  }
}

function stallMidTransaction(file: string): void {
  const store = openSqliteStore(file);
  for (let i = 0; i < COMMITTED_BEFORE_STALL; i++) store.datasets.create(crashDataset(i));
  const entries = new StallingEntries();
  for (let j = 0; j < STALL_AFTER_VECTORS + 512; j++) entries.set(crashDigest(0, j), crashVector(0, j));
  store.embeddings.putMany(STALLED_EMBEDDING_KEY, entries);
}

function appendEpochs(file: string, job: string, count: number): void {
  const store = openSqliteStore(file);
  for (let i = 1; i <= count; i++) {
    store.trainingJobs.appendEpochs(job, [{ epoch: i, trainLoss: process.pid, trainAccuracy: 0, validationLoss: 0, validationAccuracy: 0, seconds: 0 }], i);
  }
  store.close();
}

// Only when run as a script: the test imports the record builders above.
if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [mode, file, job, count] = process.argv.slice(2);
  if (mode === 'write') writeForever(file);
  else if (mode === 'stall') stallMidTransaction(file);
  else if (mode === 'append') appendEpochs(file, job, Number(count));
  else throw new Error(`unknown mode ${mode}: use "write <file>", "stall <file>" or "append <file> <job> <count>"`);
}
