import { Worker } from 'node:worker_threads';

const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url);

/** A worker thread running the TypeScript module at `module`, through the tsx loader. */
export function startTypeScriptWorker(module: URL, data: Record<string, unknown> = {}): Worker {
  return new Worker(BOOTSTRAP, { workerData: { ...data, module: module.href } });
}
