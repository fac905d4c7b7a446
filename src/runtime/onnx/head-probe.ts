import { startTypeScriptWorker } from '../workers/typescript-worker.ts';
import { errorOf } from '../workers/worker-errors.ts';
import type { HeadProbeReply } from './head-probe-worker.ts';

const WORKER_MODULE = new URL('./head-probe-worker.ts', import.meta.url);

/**
 * How many class scores a head gives for `featureSize` features: one zero row is run through it in
 * a worker thread of its own, which also proves the head takes what the backbone gives. Refusals
 * are ValidationErrors that say what is wrong with the head.
 */
export async function probeHeadClasses(head: Uint8Array, featureSize: number): Promise<number> {
  const worker = startTypeScriptWorker(WORKER_MODULE, { head, featureSize });
  try {
    return await new Promise<number>((resolve, reject) => {
      worker.once('message', (reply: HeadProbeReply) => (reply.kind === 'probed' ? resolve(reply.classes) : reject(errorOf(reply))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the head probe's worker exited with code ${code}`)));
    });
  } finally {
    // It has answered, so no native call is under way: ending it is safe.
    await worker.terminate();
  }
}
