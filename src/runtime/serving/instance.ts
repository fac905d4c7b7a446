import { DomainError } from '../../core/errors.ts';
import type { BatchingPolicy } from '../../domain/serving/batching.ts';
import type { ScoreKind } from '../../domain/serving/predictions.ts';
import type { OpenBackboneOptions } from '../onnx/backbone-session.ts';
import { startTypeScriptWorker } from '../workers/typescript-worker.ts';
import { errorOf } from '../workers/worker-errors.ts';
import type { InstanceReply, InstanceRequest } from './instance-worker.ts';
import type { Classification, ClassifierInstance } from './instance-types.ts';

const WORKER_MODULE = new URL('./instance-worker.ts', import.meta.url);

export interface InstanceOptions {
  modelName: string;
  variantName: string;
  /** The backbone's ONNX bytes, and how to open it (threads included). */
  backbone: Uint8Array;
  backboneOptions: OpenBackboneOptions;
  /** ONNX bytes of the head: features [N,F] → scores [N,C]; absent, the backbone is the whole classifier. */
  headModel?: Uint8Array;
  labels: readonly string[];
  /** What the model's scores are; absent, told from the values. */
  scores?: ScoreKind;
  /** How the instance groups requests into batches for the model. */
  batching: BatchingPolicy;
}

/**
 * Starts an endpoint instance: a worker thread that loads the model and then
 * classifies images for it. Every request in flight when the worker dies is
 * refused with ServiceUnavailable, so none waits for an answer that cannot come.
 *
 * A worker thread per instance, each with its own session, rather than more
 * threads in one session: on this 2-core machine, at batch 1 on the
 * ResNet50-shaped backbone, two 1-thread sessions in two workers ran 34 images/s
 * together against 26 for one 2-thread session, since ONNX Runtime's threads
 * wait for each other inside every layer. A thread rather than a process:
 * it starts in milliseconds, and an error in one ends only its worker. The
 * one thing a thread must not be is ended from outside inside a native call,
 * so it ends itself (see instance-worker.ts).
 */
export async function startInstance(options: InstanceOptions): Promise<ClassifierInstance> {
  const worker = startTypeScriptWorker(WORKER_MODULE);
  const waiting = new Map<number, { resolve: (classification: Classification) => void; reject: (error: unknown) => void }>();
  const pinging = new Map<number, () => void>();
  let loading: { resolve: (classCount: number) => void; reject: (error: unknown) => void } | undefined;
  let closing: (() => void) | undefined;
  let dead: DomainError | undefined;
  let closed = false;
  const exitListeners: ((reason: string) => void)[] = [];

  let deadReason = '';
  const die = (reason: string) => {
    if (dead) return;
    deadReason = reason;
    dead = new DomainError('ServiceUnavailable', `The instance serving variant ${options.variantName} stopped (${reason}); retry the request`);
    loading?.reject(dead);
    for (const pending of waiting.values()) pending.reject(dead);
    waiting.clear();
    pinging.clear();
    closing?.();
    if (!closed) for (const listener of exitListeners) listener(reason);
  };
  worker.on('message', (reply: InstanceReply) => {
    if (reply.kind === 'loaded') loading?.resolve(reply.classCount);
    else if (reply.kind === 'classified') {
      waiting.get(reply.id)?.resolve({ predictions: reply.predictions, modelLatencyMs: reply.modelMs, computeMs: reply.computeMs });
      waiting.delete(reply.id);
    } else if (reply.kind === 'pong') {
      pinging.get(reply.id)?.();
      pinging.delete(reply.id);
    } else if (reply.kind === 'failed') {
      if (reply.id === undefined) {
        // The load failed, or the close did: either way nothing more is coming.
        loading?.reject(errorOf(reply));
        closing?.();
      }
      else {
        waiting.get(reply.id)?.reject(errorOf(reply));
        waiting.delete(reply.id);
      }
    } else {
      closing?.();
    }
  });
  worker.on('error', (error) => die(`its worker failed: ${error.message}`));
  worker.on('exit', (code) => die(`its worker exited with code ${code}`));
  const send = (request: InstanceRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(request, transfer);

  let classCount: number;
  try {
    classCount = await new Promise<number>((resolve, reject) => {
      loading = { resolve, reject };
      const { backbone, backboneOptions, headModel, labels, scores, batching } = options;
      send({ kind: 'load', backbone, backboneOptions, headModel, labels: [...labels], scores, batching });
    });
  } catch (error) {
    closed = true;
    await worker.terminate();
    throw error;
  }

  let nextId = 0;
  return {
    kind: 'classifier',
    modelName: options.modelName,
    variantName: options.variantName,
    classCount,
    get alive() {
      return dead === undefined;
    },
    classify(image, topK) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      // A copy the worker owns: the caller's bytes may be a view into a request buffer (and a
      // Buffer's slice() is such a view too).
      const copy = new Uint8Array(image);
      return new Promise<Classification>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        send({ kind: 'classify', id, image: copy, topK }, [copy.buffer as ArrayBuffer]);
      });
    },
    ping() {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<void>((resolve) => {
        pinging.set(id, resolve);
        send({ kind: 'ping', id });
      });
    },
    onExit(listener) {
      exitListeners.push(listener);
      // Died before anyone listened (while the other instances of its deployment were loading).
      if (dead && !closed) queueMicrotask(() => listener(deadReason));
    },
    async terminate() {
      die('its worker was stopped');
      send({ kind: 'exit' });
    },
    async close() {
      if (closed) return;
      closed = true;
      // A dead worker has exited, or ends itself at its next safe point: ending it from here could be mid-call.
      if (dead) return;
      await new Promise<void>((resolve) => {
        closing = resolve;
        send({ kind: 'close' });
      });
      await worker.terminate();
    },
  };
}
