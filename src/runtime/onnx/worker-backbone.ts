import type { Worker } from 'node:worker_threads';
import { DomainError } from '../../core/errors.ts';
import type { BackboneRef } from '../../domain/training/training-job.ts';
import type { FeatureExtractor } from '../images/feature-extractor.ts';
import { startTypeScriptWorker } from '../workers/typescript-worker.ts';
import { errorOf } from '../workers/worker-errors.ts';
import type { OpenBackboneOptions } from './backbone-session.ts';
import type { BackboneReply, BackboneRequest } from './backbone-worker.ts';

const WORKER_MODULE = new URL('./backbone-worker.ts', import.meta.url);


/**
 * openBackbone in a worker thread of its own: the same FeatureExtractor, with
 * the forward pass off the calling thread. Inputs are copied to the worker (the
 * caller reuses its buffers); features come back without a copy.
 */
export async function openBackboneInWorker(onnx: Uint8Array | string, options: OpenBackboneOptions): Promise<FeatureExtractor> {
  const worker = startTypeScriptWorker(WORKER_MODULE);
  const waiting = new Map<number, { resolve: (features: Float32Array) => void; reject: (error: unknown) => void }>();
  let opened: { resolve: (backbone: BackboneRef) => void; reject: (error: unknown) => void } | undefined;
  let closed: (() => void) | undefined;
  let dead: DomainError | undefined;
  const failAll = (error: DomainError) => {
    dead = error;
    opened?.reject(error);
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
    closed?.();
  };
  worker.on('message', (reply: BackboneReply) => {
    if (reply.kind === 'opened') opened?.resolve(reply.backbone);
    else if (reply.kind === 'extracted') {
      waiting.get(reply.id)?.resolve(reply.features);
      waiting.delete(reply.id);
    } else if (reply.kind === 'failed') {
      if (reply.id === undefined) opened?.reject(errorOf(reply));
      else {
        waiting.get(reply.id)?.reject(errorOf(reply));
        waiting.delete(reply.id);
      }
    } else {
      closed?.();
    }
  });
  worker.on('error', (error) => failAll(new DomainError('Internal', `The backbone worker failed: ${error.message}`)));
  worker.on('exit', (code) => failAll(new DomainError('Internal', `The backbone worker exited (code ${code})`)));
  const send = (request: BackboneRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(request, transfer);

  let backbone: BackboneRef;
  try {
    backbone = await new Promise<BackboneRef>((resolve, reject) => {
      opened = { resolve, reject };
      send({ kind: 'open', onnx, options });
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  let nextId = 0;
  return {
    backbone,
    extract(input, batchSize) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      const copy = input.slice();
      return new Promise<Float32Array>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        send({ kind: 'extract', id, input: copy, batchSize }, [copy.buffer as ArrayBuffer]);
      });
    },
    async close() {
      if (!dead) {
        await new Promise<void>((resolve) => {
          closed = resolve;
          send({ kind: 'close' });
        });
      }
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
