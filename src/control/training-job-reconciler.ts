import { decideTrainingJob, STOP_GRACE_SECONDS, type StoppedStatus } from '../domain/training/training-job-decider.ts';
import { withTransition } from '../domain/training/training-job.ts';
import type { Store } from '../store/store.ts';
import type { ControlDeps } from './deps.ts';
import type { Reconciler } from './reconciler.ts';
import { runTrainingJob } from './training-runner.ts';
import { requestStop, withRulesSettled } from './training-stop.ts';

/** How long close() waits for runs to notice they were aborted: one embedding batch or epoch, normally. */
const CLOSE_WAIT_MS = 10_000;

interface Run {
  done: Promise<void>;
  abort: AbortController;
}

/** Starts, stops and finishes training jobs as decideTrainingJob says. Runs go on in the background between passes. */
export class TrainingJobReconciler implements Reconciler {
  readonly name = 'training-jobs';
  private readonly running = new Map<string, Run>();

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
          const abort = new AbortController();
          const run: Run = {
            abort,
            done: runTrainingJob(this.deps, job.name, abort.signal).finally(() => {
              if (this.running.get(job.name) === run) this.running.delete(job.name);
              this.kick();
            }),
          };
          this.running.set(job.name, run);
          break;
        }
        case 'request-stop':
          requestStop(store, job.name, { reason: action.reason, atMs: nowMs });
          logger.info('training job reached its MaxRuntimeInSeconds', { jobName: job.name, maxRuntimeSeconds: job.spec.maxRuntimeSeconds });
          break;
        case 'finish-stopped':
          recordStopped(store, job.name, action.secondaryStatus, 'Training job stopped', nowMs);
          break;
        case 'abandon': {
          this.running.get(job.name)?.abort.abort();
          this.running.delete(job.name);
          const message = `The run did not stop within ${STOP_GRACE_SECONDS} s of the stop request; Kennel stopped waiting for it`;
          recordStopped(store, job.name, action.secondaryStatus, message, nowMs);
          logger.warn('abandoned a training run that would not stop', { jobName: job.name });
          break;
        }
        case 'none':
          break;
      }
    }
  }

  /** Training runs take minutes to hours: nobody waits for them to settle. */
  async settled(): Promise<void> {}

  /**
   * Aborts the runs in flight and waits (boundedly) for them to let go of the
   * store. Their jobs stay InProgress and run again at the next start.
   */
  async close(): Promise<void> {
    const runs = [...this.running.values()];
    for (const run of runs) run.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      Promise.allSettled(runs.map((run) => run.done)).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (!waited) this.deps.logger.warn('training runs still busy at shutdown', { jobs: [...this.running.keys()] });
  }
}

function recordStopped(store: Store, name: string, status: StoppedStatus, message: string, nowMs: number): void {
  store.trainingJobs.modify(name, (job) =>
    withRulesSettled(
      {
        ...job,
        status: 'Stopped',
        secondaryStatus: status,
        secondaryStatusTransitions: withTransition(job.secondaryStatusTransitions, status, message, nowMs),
        endedAtMs: nowMs,
        lastModifiedAtMs: nowMs,
      },
      nowMs,
    ),
  );
}
