import { DomainError } from '../core/errors.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import { isTerminal, type TrainingJob } from '../domain/training/training-job.ts';
import { isTuningTerminal, type TuningJob } from '../domain/tuning/tuning-job.ts';
import type { Platform } from './platform.ts';

const POLL_MS = 100;

/** Resolves with the job once it reaches Completed, Failed or Stopped. */
export async function waitForTrainingJob(platform: Platform, name: string): Promise<TrainingJob> {
  for (;;) {
    const job = platform.trainingJobs.describe(name);
    if (isTerminal(job.status)) return job;
    await delay(POLL_MS);
  }
}

/** Resolves with the tuning job once it reaches Completed, Failed or Stopped. */
export async function waitForTuningJob(platform: Platform, name: string): Promise<TuningJob> {
  for (;;) {
    const job = platform.tuningJobs.describe(name);
    if (isTuningTerminal(job.status)) return job;
    await delay(POLL_MS);
  }
}

/** Resolves once the endpoint is InService; throws with the failure reason if it fails. */
export async function waitForEndpoint(platform: Platform, name: string): Promise<Endpoint> {
  for (;;) {
    const endpoint = platform.endpoints.describe(name);
    if (endpoint.status === 'InService') return endpoint;
    if (endpoint.status === 'Failed') {
      throw new DomainError('Conflict', `Endpoint ${name} failed: ${endpoint.failureReason ?? 'no reason recorded'}`);
    }
    platform.controller.kick();
    await delay(POLL_MS);
  }
}

/** Resolves once the controller has removed a Deleting endpoint. */
export async function waitForEndpointDeleted(platform: Platform, name: string): Promise<void> {
  while (platform.deps.store.endpoints.get(name)) {
    platform.controller.kick();
    await delay(POLL_MS);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
