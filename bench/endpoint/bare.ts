/**
 * The bare pipeline, the limit for this machine: the same JPEG bytes decoded and preprocessed by
 * Kennel's sharp code, the backbone run by onnxruntime-node, the trained head, top-5. No HTTP, no
 * auth, no store, no replica wrapper.
 *
 * openBarePipeline: batch 1, one request at a time per call, with the session options the server
 * uses (backbone-session.ts createSession, replica.ts loadReplica), so only the serving layer
 * differs. openBatchedBare: the fastest way found to run the model for many callers at once
 * (batches over one or more sessions in worker threads), the peer of an endpoint with several
 * instances and dynamic batching.
 */
import type { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { topPredictions, type Prediction } from '../../src/domain/serving/predictions.ts';
import type { BackboneRef } from '../../src/domain/training/training-job.ts';
import { preprocessImage } from '../../src/runtime/images/preprocess.ts';
import { startTypeScriptWorker } from '../../src/runtime/workers/typescript-worker.ts';
import type { BareWorkerData, BareWorkerReply, BareWorkerRequest } from './bare-worker.ts';

const BARE_WORKER = new URL('./bare-worker.ts', import.meta.url);

export interface StageTimes {
  preprocessMs: number[];
  backboneMs: number[];
  headMs: number[];
}

export interface BarePipeline {
  classify(jpeg: Uint8Array, times?: StageTimes): Promise<Prediction[]>;
  close(): Promise<void>;
}

export async function openBarePipeline(options: {
  modelPath: string;
  backbone: BackboneRef;
  headModel: Uint8Array;
  labels: readonly string[];
  /** 0 = ONNX Runtime's default, as `kennel up --threads 0`. */
  threads: number;
}): Promise<BarePipeline> {
  const { backbone: ref, labels } = options;
  const backbone = await ort.InferenceSession.create(options.modelPath, {
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
  });
  const head = await ort.InferenceSession.create(options.headModel, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const { cropSize } = ref.preprocessing;
  const dims = ref.preprocessing.layout === 'NCHW' ? [1, 3, cropSize, cropSize] : [1, cropSize, cropSize, 3];
  return {
    async classify(jpeg, times) {
      const t0 = performance.now();
      const input = await preprocessImage(jpeg, ref.preprocessing);
      const t1 = performance.now();
      const out = await backbone.run({ [ref.inputName]: new ort.Tensor('float32', input, dims) }, [ref.outputName]);
      const features = out[ref.outputName].data as Float32Array;
      const t2 = performance.now();
      const scores = await head.run({ features: new ort.Tensor('float32', features, [1, ref.featureSize]) });
      const predictions = topPredictions(scores.probabilities.data as Float32Array, labels, 5);
      const t3 = performance.now();
      times?.preprocessMs.push(t1 - t0);
      times?.backboneMs.push(t2 - t1);
      times?.headMs.push(t3 - t2);
      return predictions;
    },
    async close() {
      await Promise.all([backbone.release(), head.release()]);
    },
  };
}

// ---- The bare pipeline at its best: batches over one or more sessions ----

/** How the batched bare pipeline runs the model. */
export interface BareConfig {
  /** Sessions, each in a worker thread of its own, each taking whole batches. */
  sessions: number;
  /** ONNX Runtime intra-op threads of each session. */
  threadsPerSession: number;
  /** Images per run() of the backbone (fewer only when no more are coming). */
  batchSize: number;
  /** Whether ONNX Runtime's idle threads spin for work (Kennel's server turns it off). */
  spinning: boolean;
}

export function describeBareConfig(config: BareConfig): string {
  const sessions = config.sessions === 1 ? `1 session × ${config.threadsPerSession} threads` : `${config.sessions} sessions × ${config.threadsPerSession} thread${config.threadsPerSession === 1 ? '' : 's'} (one worker thread each)`;
  return `${sessions}, batch ${config.batchSize}${config.spinning ? ', spinning' : ''}`;
}

export interface BatchedBare {
  /** The sessions as opened, and the batch size in use. */
  readonly config: BareConfig;
  /** Changes the batch size of the batches taken from now on (the sessions take any size). */
  setBatchSize(batchSize: number): void;
  classify(jpeg: Uint8Array): Promise<Prediction[]>;
  close(): Promise<void>;
}

/**
 * The bare pipeline as fast as this machine runs it for many callers at once: each caller's JPEG
 * is decoded and preprocessed by Kennel's sharp code as soon as it arrives (on libuv's pool), and
 * the preprocessed images queue for the sessions. An idle session takes `batchSize` of them at
 * once, or whatever is queued when no other image is still being preprocessed (so nothing ever
 * waits for images that are not coming: better than any queue delay a server can choose).
 */
export async function openBatchedBare(options: {
  modelPath: string;
  backbone: BackboneRef;
  headModel: Uint8Array;
  labels: readonly string[];
  config: BareConfig;
}): Promise<BatchedBare> {
  const config = { ...options.config };
  const ref = options.backbone;
  const imageLength = 3 * ref.preprocessing.cropSize * ref.preprocessing.cropSize;
  interface Waiting {
    input: Float32Array;
    resolve: (predictions: Prediction[]) => void;
    reject: (error: unknown) => void;
  }
  interface Session {
    worker: Worker;
    busy: boolean;
    batches: Map<number, Waiting[]>;
  }
  const queue: Waiting[] = [];
  let preprocessing = 0;
  let nextId = 0;
  const sessions: Session[] = [];
  const dispatch = () => {
    for (const session of sessions) {
      if (session.busy || queue.length === 0) continue;
      if (queue.length < config.batchSize && preprocessing > 0) return;
      const batch = queue.splice(0, config.batchSize);
      const images = new Float32Array(batch.length * imageLength);
      batch.forEach((waiting, i) => images.set(waiting.input, i * imageLength));
      const id = nextId++;
      session.busy = true;
      session.batches.set(id, batch);
      session.worker.postMessage({ kind: 'run', id, images, count: batch.length } satisfies BareWorkerRequest, [images.buffer]);
    }
  };
  const workerData: BareWorkerData = {
    modelPath: options.modelPath,
    backbone: ref,
    headModel: options.headModel,
    labels: [...options.labels],
    threads: config.threadsPerSession,
    spinning: config.spinning,
  };
  try {
    for (let i = 0; i < config.sessions; i++) {
      const session: Session = { worker: startTypeScriptWorker(BARE_WORKER, { ...workerData }), busy: false, batches: new Map() };
      sessions.push(session);
      await new Promise<void>((resolve, reject) => {
        session.worker.on('error', reject);
        session.worker.on('message', (reply: BareWorkerReply) => {
          if (reply.kind === 'ready') resolve();
          else if (reply.kind === 'failed' && reply.id === undefined) reject(new Error(`bare worker: ${reply.message}`));
          else if (reply.kind === 'done' || reply.kind === 'failed') {
            const batch = session.batches.get(reply.id!) ?? [];
            session.batches.delete(reply.id!);
            session.busy = false;
            if (reply.kind === 'done') batch.forEach((waiting, j) => waiting.resolve(reply.predictions[j]));
            else for (const waiting of batch) waiting.reject(new Error(`bare worker: ${reply.message}`));
            dispatch();
          }
        });
      });
    }
  } catch (error) {
    await Promise.all(sessions.map((session) => session.worker.terminate()));
    throw error;
  }
  return {
    get config() {
      return { ...config };
    },
    setBatchSize(batchSize) {
      config.batchSize = batchSize;
      dispatch();
    },
    async classify(jpeg) {
      preprocessing++;
      let input: Float32Array;
      try {
        input = await preprocessImage(jpeg, ref.preprocessing);
      } finally {
        preprocessing--;
      }
      return new Promise<Prediction[]>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        dispatch();
      });
    },
    async close() {
      await Promise.all(sessions.map((session) => session.worker.terminate()));
    },
  };
}
