import { parentPort } from 'node:worker_threads';
import type { Prediction } from '../../domain/serving/predictions.ts';
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
      headModel: Uint8Array;
      labels: string[];
      modelName: string;
      variantName: string;
    }
  | { kind: 'classify'; id: number; image: Uint8Array; topK: number }
  | { kind: 'close' };

export type InstanceReply =
  | { kind: 'loaded'; classCount: number }
  | { kind: 'classified'; id: number; predictions: Prediction[] }
  | ({ kind: 'failed'; id?: number } & WorkerFailure)
  | { kind: 'closed' };

const port = parentPort!;
let replica: Replica | undefined;

// Requests are handled as they come: one image decodes (on libuv's pool) while another runs
// through the model, and the model's run(), which blocks this thread, takes them one at a time.
port.on('message', (request: InstanceRequest) => {
  void handle(request).catch((error: unknown) => {
    const id = request.kind === 'classify' ? request.id : undefined;
    port.postMessage({ kind: 'failed', id, ...failureOf(error) } satisfies InstanceReply);
  });
});

async function handle(request: InstanceRequest): Promise<void> {
  if (request.kind === 'load') {
    const extractor = await openBackbone(request.backbone, request.backboneOptions);
    replica = await loadReplica({ ...request, extractor });
    port.postMessage({ kind: 'loaded', classCount: replica.classCount } satisfies InstanceReply);
  } else if (request.kind === 'classify') {
    const predictions = await replica!.classify(request.image, request.topK);
    port.postMessage({ kind: 'classified', id: request.id, predictions } satisfies InstanceReply);
  } else {
    await replica?.close();
    port.postMessage({ kind: 'closed' } satisfies InstanceReply);
  }
}
