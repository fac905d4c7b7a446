// Worker threads do not inherit the tsx loader the main thread runs under: this
// plain module registers it, then loads the TypeScript worker named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
