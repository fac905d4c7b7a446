import { decideTrainingJob } from '../domain/training/training-job-decider.ts';
import { withTransition, type StopRequest, type TrainingJob } from '../domain/training/training-job.ts';
import type { Store } from '../store/store.ts';
import type { ControlDeps } from './deps.ts';
import type { Reconciler } from './reconciler.ts';
import { runTrainingJob } from './training-runner.ts';

/** Starts, stops and finishes training jobs as decideTrainingJob says. Runs go on in the background between passes. */
export class TrainingJobReconciler implements Reconciler {
  readonly name = 'training-jobs';
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: ControlDeps,
    private readonly kick: () => void,
  ) {}

  async reconcile(nowMs: number): Promise<void> {
    const { store, logger } = this.deps;
    for (const job of store.trainingJobs.listByStatus(['InProgress', 'Stopping'])) {
      const action = decideTrainingJob(job, { running: this.running.has(job.name) }, nowMs);
      switch (action.kind) {
        case 'start': {
          if (job.startedAtMs !== undefined) logger.info('restarting training job that was in progress', { jobName: job.name });
          const run = runTrainingJob(this.deps, job.name).finally(() => {
            this.running.delete(job.name);
            this.kick();
          });
          this.running.set(job.name, run);
          break;
        }
        case 'request-stop':
          requestStop(store, job.name, { reason: action.reason, atMs: nowMs });
          logger.info('training job reached its MaxRuntimeInSeconds', { jobName: job.name, maxRuntimeSeconds: job.spec.maxRuntimeSeconds });
          break;
        case 'finish-stopped':
          store.trainingJobs.modify(job.name, (current) => ({
            ...current,
            status: 'Stopped',
            secondaryStatus: action.secondaryStatus,
            secondaryStatusTransitions: withTransition(current.secondaryStatusTransitions, action.secondaryStatus, 'Training job stopped', nowMs),
            endedAtMs: nowMs,
            lastModifiedAtMs: nowMs,
          }));
          break;
        case 'none':
          break;
      }
    }
  }

  /** Runs in flight keep going until the process exits; an unfinished job reruns at the next start. */
  async close(): Promise<void> {}
}

/** Records the wish to stop (desired state) and SageMaker's Stopping status; the run ends itself at its next check. */
export function requestStop(store: Store, name: string, request: StopRequest): TrainingJob {
  return store.trainingJobs.modify(name, (job) => ({
    ...job,
    status: 'Stopping',
    stopRequest: request,
    secondaryStatus: 'Stopping',
    secondaryStatusTransitions: withTransition(job.secondaryStatusTransitions, 'Stopping', request.reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeInSeconds reached: stopping' : 'Stopping on request', request.atMs),
    lastModifiedAtMs: request.atMs,
  }));
}
