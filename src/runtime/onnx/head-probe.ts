import { DomainError } from '../../core/errors.ts';
import { startTypeScriptWorker } from '../workers/typescript-worker.ts';
import { errorOf } from '../workers/worker-errors.ts';
import type { HeadProbeReply } from './head-probe-worker.ts';

const WORKER_MODULE = new URL('./head-probe-worker.ts', import.meta.url);
/** A head is two small matrix products: opening and running one takes milliseconds. */
const PROBE_DEADLINE_MS = 60_000;

/**
 * How many class scores a head gives for `featureSize` features: one zero row is run through it in
 * a worker thread of its own, which also proves the head takes what the backbone gives. Refusals
 * are ValidationErrors that say what is wrong with the head; one that takes past the deadline is
 * refused too, and its worker left to finish (ending a thread inside ONNX Runtime is not safe).
 */
export async function probeHeadClasses(head: Uint8Array, featureSize: number): Promise<number> {
  const worker = startTypeScriptWorker(WORKER_MODULE, { head, featureSize });
  let answered = false;
  try {
    const classes = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.unref();
        reject(new DomainError('ValidationError', `head.onnx did not open and run within ${PROBE_DEADLINE_MS / 1000} s: give a head of a few matrix products`));
      }, PROBE_DEADLINE_MS);
      worker.once('message', (reply: HeadProbeReply) => {
        clearTimeout(timer);
        answered = true;
        if (reply.kind === 'probed') resolve(reply.classes);
        else reject(errorOf(reply));
      });
      worker.once('error', (error) => {
        clearTimeout(timer);
        answered = true;
        reject(error);
      });
    });
    return classes;
  } finally {
    // Once it has answered, no native call is under way: ending it is safe.
    if (answered) await worker.terminate();
  }
}
