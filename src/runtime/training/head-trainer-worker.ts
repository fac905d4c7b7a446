import { parentPort } from 'node:worker_threads';
import type { TraceStep } from '../../domain/debugger/trace.ts';
import type { EpochMetrics } from '../../domain/training/training-job.ts';
import { evaluateHead, trainHead, type LabelledFeatures, type TrainerCheckpoint } from './head-trainer.ts';
import type { TrainerMessage, TrainRequest } from './head-trainer-protocol.ts';
import { failureOf } from '../workers/worker-errors.ts';

/**
 * A worker thread that trains heads, one request at a time: ONNX Runtime's run()
 * is synchronous, and here it blocks only this thread, never the server's.
 * Checkpoints travel back as transferred buffers, so an epoch costs one copy of
 * the optimiser state, not two.
 */
const port = parentPort!;

/**
 * onnxruntime-node refuses typed arrays over a SharedArrayBuffer, so shared
 * features are copied into this thread's memory, once per data key: the trials
 * of a tuning job on this worker share one copy.
 */
let cached: { key: string; data: Pick<TrainRequest, 'train' | 'validation' | 'test'> } | undefined;

function ownMemory(data: LabelledFeatures | undefined): LabelledFeatures | undefined {
  if (!data || !(data.features.buffer instanceof SharedArrayBuffer)) return data;
  return { features: new Float32Array(data.features), labels: data.labels };
}

function localData(request: TrainRequest): Pick<TrainRequest, 'train' | 'validation' | 'test'> {
  if (request.dataKey !== undefined && cached?.key === request.dataKey) return cached.data;
  const data = { train: ownMemory(request.train)!, validation: ownMemory(request.validation)!, test: ownMemory(request.test) };
  if (request.dataKey !== undefined) cached = { key: request.dataKey, data };
  return data;
}

port.on('message', (request: TrainRequest) => {
  void train(request).then(
    (message) => port.postMessage(message),
    (error: unknown) => {
      port.postMessage({ kind: 'error', ...failureOf(error) } satisfies TrainerMessage);
    },
  );
});

async function train(request: TrainRequest): Promise<TrainerMessage> {
  const { train: trainData, validation, test } = localData(request);
  const { stopFlag, reportEveryMs, debug, dataKey: _dataKey, train: _train, validation: _validation, test: _test, ...rest } = request;
  let unreported: EpochMetrics[] = [];
  let steps: TraceStep[] = [];
  let reportedAt = performance.now();
  let latest: (() => TrainerCheckpoint) | undefined;
  const report = () => {
    if (unreported.length === 0 || !latest) return;
    const saved = latest();
    const message: TrainerMessage = { kind: 'epochs', metrics: unreported, checkpoint: saved, ...(debug ? { steps } : {}) };
    port.postMessage(message, Object.values(saved.state).map((values) => values.buffer as ArrayBuffer));
    unreported = [];
    steps = [];
    reportedAt = performance.now();
  };
  const trained = await trainHead({
    ...rest,
    train: trainData,
    validation,
    shouldStop: () => Atomics.load(stopFlag, 0) === 1,
    ...(debug ? { debug: { ...debug, onStep: (step: TraceStep) => void steps.push(step) } } : {}),
    // Small heads train an epoch in milliseconds: reporting each one would keep the server's thread busy with
    // records and checkpoints, so epochs go in batches, and only the batch's last checkpoint is copied out.
    onEpoch: (metrics, checkpoint) => {
      unreported.push(metrics);
      latest = checkpoint;
      if (performance.now() - reportedAt >= reportEveryMs) report();
    },
  });
  report();
  const metrics = test && trained.epochs.length > 0 ? await evaluateHead(trained.weights, test, { intraOpNumThreads: rest.intraOpNumThreads }) : undefined;
  return { kind: 'done', weights: trained.weights, epochs: trained.epochs, ...(metrics ? { test: metrics } : {}) };
}
