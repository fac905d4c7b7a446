import { parentPort } from 'node:worker_threads';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { decideBatch, type BatchingPolicy } from '../../domain/serving/batching.ts';
import type { Prediction, ScoreKind } from '../../domain/serving/predictions.ts';
import { openBackbone, type OpenBackboneOptions } from '../onnx/backbone-session.ts';
import { failureOf, type WorkerFailure } from '../workers/worker-errors.ts';
import { loadReplica, type Replica } from './replica.ts';

/**
 * One endpoint instance in a worker thread: it owns the model's sessions and
 * does the whole invocation, decoding and preprocessing included, so that
 * ONNX Runtime's run(), which blocks the thread it runs on, never blocks the
 * thread that serves HTTP.
 */
export type InstanceRequest =
  | {
      kind: 'load';
      backbone: Uint8Array;
      backboneOptions: OpenBackboneOptions;
      headModel?: Uint8Array;
      labels: string[];
      scores?: ScoreKind;
      batching: BatchingPolicy;
    }
  | { kind: 'classify'; id: number; image: Uint8Array; topK: number }
  | { kind: 'ping'; id: number }
  /** End this thread as soon as no native call is under way (see `exitWhenIdle`). */
  | { kind: 'exit' }
  | { kind: 'close' };

export type InstanceReply =
  | { kind: 'loaded'; classCount: number }
  /** modelMs: from arrival to answer; computeMs: this request's share of its batch's run. */
  | { kind: 'classified'; id: number; predictions: Prediction[]; modelMs: number; computeMs: number }
  | { kind: 'pong'; id: number }
  | ({ kind: 'failed'; id?: number } & WorkerFailure)
  | { kind: 'closed' };

interface Queued {
  id: number;
  input: Float32Array;
  topK: number;
  /** When the request arrived in this worker: ModelLatency starts here. */
  receivedMs: number;
  /** When its preprocessed input joined the queue: the batcher's clock. */
  queuedMs: number;
}

const port = parentPort!;
let replica: Replica | undefined;
let batching: BatchingPolicy;
const queue: Queued[] = [];
let running = false;
let wakeUp: NodeJS.Timeout | undefined;
/** Native calls under way (sharp decoding, ONNX Runtime runs), which the thread must not end inside. */
let nativeCalls = 0;
let exiting = false;

/**
 * Ending a worker thread while a native addon is inside a call (ONNX Runtime's run(), a sharp
 * decode) can abort the whole process when the call returns into a torn-down environment, so
 * the thread ends itself between native calls instead. One stuck inside a call never gets
 * there; its instance has already been replaced, and the thread is left to it.
 */
function exitWhenIdle(): void {
  if (exiting && nativeCalls === 0) process.exit(0);
}

function native<T>(call: () => Promise<T>): Promise<T> {
  nativeCalls++;
  return call().finally(() => {
    nativeCalls--;
    exitWhenIdle();
  });
}

// Requests are handled as they come: images decode (on libuv's pool) while a batch runs through
// the model, and the batcher hands the model's run(), which blocks this thread, one batch at a time.
port.on('message', (request: InstanceRequest) => {
  void handle(request).catch((error: unknown) => fail(request.kind === 'classify' ? [request.id] : [undefined], error));
});

function fail(ids: (number | undefined)[], error: unknown): void {
  const failure = failureOf(error);
  for (const id of ids) port.postMessage({ kind: 'failed', id, ...failure } satisfies InstanceReply);
}

async function handle(request: InstanceRequest): Promise<void> {
  if (request.kind === 'load') {
    const extractor = await openBackbone(request.backbone, request.backboneOptions);
    replica = await loadReplica({ ...request, extractor });
    batching = request.batching;
    port.postMessage({ kind: 'loaded', classCount: replica.classCount } satisfies InstanceReply);
  } else if (request.kind === 'classify') {
    if (exiting) return;
    const receivedMs = performance.now();
    const input = await native(() => replica!.preprocess(request.image));
    queue.push({ id: request.id, input, topK: request.topK, receivedMs, queuedMs: performance.now() });
    pump();
  } else if (request.kind === 'exit') {
    exiting = true;
    exitWhenIdle();
  } else if (request.kind === 'ping') {
    // Answered from this thread's event loop: a worker stuck in a run() that never returns cannot answer.
    port.postMessage({ kind: 'pong', id: request.id } satisfies InstanceReply);
  } else {
    await replica?.close();
    port.postMessage({ kind: 'closed' } satisfies InstanceReply);
  }
}

/** Asks the batching policy what to do whenever the model is free or a request arrives. */
function pump(): void {
  if (running || exiting) return;
  clearTimeout(wakeUp);
  const now = performance.now();
  const decision = decideBatch(
    queue.map((entry) => entry.queuedMs),
    batching,
    now,
  );
  if (decision.kind === 'wait') wakeUp = setTimeout(pump, decision.untilMs - now);
  if (decision.kind !== 'dispatch') return;
  const batch = queue.splice(0, decision.count);
  running = true;
  void run(batch).finally(() => {
    running = false;
    pump();
  });
}

async function run(batch: Queued[]): Promise<void> {
  try {
    const runStartMs = performance.now();
    const predictions = await native(() =>
      replica!.classifyBatch(
        batch.map((entry) => entry.input),
        batch.map((entry) => entry.topK),
      ),
    );
    const doneMs = performance.now();
    const computeMs = (doneMs - runStartMs) / batch.length;
    for (const [i, entry] of batch.entries()) {
      const answer = predictions[i];
      if (answer instanceof DomainError) fail([entry.id], answer);
      else port.postMessage({ kind: 'classified', id: entry.id, predictions: answer, modelMs: doneMs - entry.receivedMs, computeMs } satisfies InstanceReply);
    }
  } catch (error) {
    // The model itself failed (ONNX Runtime threw): SageMaker answers that as ModelError, status 424.
    const reason = isDomainError(error) ? error : new DomainError('ModelError', `The model failed on this input: ${error instanceof Error ? error.message : String(error)}`, { originalStatusCode: 500 });
    fail(
      batch.map((entry) => entry.id),
      reason,
    );
  }
}
