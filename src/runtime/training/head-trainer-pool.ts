import type { TraceStep } from '../../domain/debugger/trace.ts';
import type { Worker } from 'node:worker_threads';
import { DomainError } from '../../core/errors.ts';
import type { EpochMetrics } from '../../domain/training/training-job.ts';
import { startTypeScriptWorker } from '../workers/typescript-worker.ts';
import { errorOf } from '../workers/worker-errors.ts';
import type { TrainerCheckpoint } from './head-trainer.ts';
import type { HeadTrainingInput, HeadTrainingResult, TrainerMessage, TrainRequest } from './head-trainer-protocol.ts';

export type { HeadTrainingResult };

export interface HeadTrainingTask extends HeadTrainingInput {
  /** The epochs since the last report, in order, a checkpoint after the last of them (see reportEveryMs), and their steps when `debug` is set. */
  onEpochs?: (metrics: EpochMetrics[], checkpoint: TrainerCheckpoint, steps?: TraceStep[]) => void;
  /** How often the worker reports epochs, at most; default 250 ms. */
  reportEveryMs?: number;
  /**
   * Asked before training, after every epoch and every STOP_POLL_MS meanwhile; true stops
   * training before its next epoch. The worker does not wait for the answer, so a stop
   * that comes with an epoch's report may let one more epoch run.
   */
  shouldStop?: () => boolean;
}

const STOP_POLL_MS = 100;
const DEFAULT_REPORT_EVERY_MS = 250;
const WORKER_MODULE = new URL('./head-trainer-worker.ts', import.meta.url);

interface Pending {
  task: HeadTrainingTask;
  resolve: (result: HeadTrainingResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Trains heads in worker threads, at most `size` at once, so that training never
 * runs on the thread that serves HTTP. Workers are started on demand and kept
 * for the next task (starting one costs a few hundred milliseconds); a worker
 * that dies fails its task and is replaced.
 */
export class HeadTrainerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private running = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  train(task: HeadTrainingTask): Promise<HeadTrainingResult> {
    if (this.closed) return Promise.reject(new DomainError('ServiceUnavailable', 'The head trainer is shut down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new DomainError('ServiceUnavailable', 'The head trainer is shut down'));
    await Promise.all(this.idle.splice(0).map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.running < this.size) {
      const pending = this.queue.shift()!;
      this.running++;
      const worker = this.idle.pop() ?? startTypeScriptWorker(WORKER_MODULE);
      worker.ref();
      this.run(worker, pending);
    }
  }

  private run(worker: Worker, { task, resolve, reject }: Pending): void {
    const stopFlag = new Int32Array(new SharedArrayBuffer(4));
    const checkStop = () => {
      if (task.shouldStop?.()) Atomics.store(stopFlag, 0, 1);
    };
    checkStop();
    const timer = setInterval(checkStop, STOP_POLL_MS);
    const finish = (keepWorker: boolean) => {
      clearInterval(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      this.running--;
      if (keepWorker && !this.closed) {
        // An idle worker must not keep the process alive.
        worker.unref();
        this.idle.push(worker);
      } else {
        void worker.terminate();
      }
      this.dispatch();
    };
    const onMessage = (message: TrainerMessage) => {
      if (message.kind === 'epochs') {
        try {
          task.onEpochs?.(message.metrics, message.checkpoint, message.steps);
        } finally {
          checkStop();
        }
        return;
      }
      finish(true);
      if (message.kind === 'done') {
        const { kind: _kind, ...result } = message;
        resolve(result);
      }
      else {
        reject(errorOf(message));
      }
    };
    const onError = (error: Error) => {
      finish(false);
      reject(new DomainError('Internal', `The head trainer's worker failed: ${error.message}`));
    };
    const onExit = (exitCode: number) => {
      finish(false);
      reject(new DomainError('Internal', `The head trainer's worker exited (code ${exitCode}) before training ended`));
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    // The callbacks stay here; everything else is the worker's input.
    const { onEpochs: _onEpochs, shouldStop: _shouldStop, reportEveryMs, ...input } = task;
    const request: TrainRequest = { kind: 'train', ...input, stopFlag, reportEveryMs: reportEveryMs ?? DEFAULT_REPORT_EVERY_MS };
    worker.postMessage(request);
  }
}
