import { parentPort } from 'node:worker_threads';
import type { FeatureExtractor } from '../images/feature-extractor.ts';
import { failureOf, type WorkerFailure } from '../workers/worker-errors.ts';
import { openBackbone, type OpenBackboneOptions } from './backbone-session.ts';

/**
 * A worker thread holding one backbone session: the backbone's forward pass, by
 * far the longest step of embedding, blocks this thread and never the server's.
 */
export type BackboneRequest =
  | { kind: 'open'; onnx: Uint8Array | string; options: OpenBackboneOptions }
  | { kind: 'extract'; id: number; input: Float32Array; batchSize: number }
  | { kind: 'close' };

export type BackboneReply =
  | { kind: 'opened'; backbone: FeatureExtractor['backbone'] }
  | { kind: 'extracted'; id: number; features: Float32Array }
  | ({ kind: 'failed'; id?: number } & WorkerFailure)
  | { kind: 'closed' };

const port = parentPort!;
let extractor: FeatureExtractor | undefined;

port.on('message', (request: BackboneRequest) => {
  void handle(request).catch((error: unknown) => {
    const id = request.kind === 'extract' ? request.id : undefined;
    port.postMessage({ kind: 'failed', id, ...failureOf(error) } satisfies BackboneReply);
  });
});

async function handle(request: BackboneRequest): Promise<void> {
  if (request.kind === 'open') {
    extractor = await openBackbone(request.onnx, request.options);
    port.postMessage({ kind: 'opened', backbone: extractor.backbone } satisfies BackboneReply);
  } else if (request.kind === 'extract') {
    const features = await extractor!.extract(request.input, request.batchSize);
    port.postMessage({ kind: 'extracted', id: request.id, features } satisfies BackboneReply, [features.buffer as ArrayBuffer]);
  } else {
    await extractor?.close();
    port.postMessage({ kind: 'closed' } satisfies BackboneReply);
  }
}
