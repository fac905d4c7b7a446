import { DomainError, describeError } from '../core/errors.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import { isImageClassifierJob, isTerminal, withTransition, type SecondaryStatus, type TrainingJob } from '../domain/training/training-job.ts';
import type { ControlDeps } from './deps.ts';
import { runImageClassifier } from './image-classifier-run.ts';
import { ABORTED, type RunContext } from './run-context.ts';
import { RunLog } from './run-log.ts';
import { runScriptJob, type ScriptJob } from './script-run.ts';
import { withRulesSettled } from './training-stop.ts';

/**
 * Runs one training job from its recorded desired state to a terminal status,
 * with the algorithm its image names. A stop request (StopTrainingJob or
 * MaxRuntimeInSeconds) ends it after the current batch or epoch, keeping what
 * was trained. Running it again after a crash goes on from its last checkpoint.
 *
 * `signal` aborts the run (Kennel is shutting down, or gave up waiting for it to
 * stop): it returns at its next check and records nothing more, so what the store
 * says stays what the controller decided.
 */
export async function runTrainingJob(deps: ControlDeps, jobName: string, signal: AbortSignal): Promise<void> {
  const { store, clock, logger } = deps;
  const enter = (status: SecondaryStatus, message: string, patch: Partial<TrainingJob> = {}) => {
    if (signal.aborted) throw ABORTED;
    const now = clock.now();
    return store.trainingJobs.modify(jobName, (job) => {
      const next: TrainingJob = {
        ...job,
        ...patch,
        secondaryStatus: status,
        secondaryStatusTransitions: withTransition(job.secondaryStatusTransitions, status, message, now),
        lastModifiedAtMs: now,
      };
      return patch.status !== undefined && isTerminal(patch.status) ? withRulesSettled(next, now) : next;
    });
  };
  const stopRequested = () => signal.aborted || store.trainingJobs.get(jobName)?.stopRequest !== undefined;
  let log: RunLog | undefined;
  const end = async (status: SecondaryStatus, message: string, patch: Partial<TrainingJob>) => {
    await log?.close();
    return enter(status, message, patch);
  };
  try {
    const previous = store.trainingJobs.get(jobName)!;
    // A run cut short by a restart counts toward the job's runtime for as long as it was seen working.
    const priorRunMs =
      previous.startedAtMs === undefined ? previous.priorRunMs : (previous.priorRunMs ?? 0) + Math.max(0, previous.lastModifiedAtMs - previous.startedAtMs);
    if (previous.startedAtMs !== undefined) {
      const from = previous.spec.algorithm === 'image-classifier' ? 'from its last checkpoint' : 'from the start, in a fresh job folder';
      enter('Restarting', `Kennel restarted while the job ran: running it again ${from}`);
    }
    const job = enter('Downloading', 'Reading the input channels', {
      epochs: [],
      embeddingStats: undefined,
      scrapedMetrics: undefined,
      failureReason: undefined,
      startedAtMs: clock.now(),
      priorRunMs,
    });
    log = new RunLog(deps, jobName, job.spec.metricDefinitions);
    const context: RunContext = { deps, jobName, signal, threads: threadBudget(job.spec.instanceType, deps.cores), enter, end, stopRequested, log };
    if (isImageClassifierJob(job)) await runImageClassifier(context, job);
    else await runScriptJob(context, job as ScriptJob);
  } catch (error) {
    if (error === ABORTED || signal.aborted) {
      logger.info('training run abandoned', { jobName });
      return;
    }
    const reason = failureReason(error);
    if (!(error instanceof DomainError)) logger.error('training job failed', { jobName, error: String(error) });
    try {
      await end('Failed', reason, { status: 'Failed', failureReason: reason, endedAtMs: clock.now() });
    } catch (recordError) {
      // The store is gone (shutdown): the job stays InProgress and reruns at the next start.
      logger.warn('could not record a training failure', { jobName, error: describeError(recordError) });
    }
  } finally {
    await log?.close();
  }
}

/**
 * SageMaker prefixes failure reasons with who is to blame: ClientError for the
 * request or its data, AlgorithmError for the algorithm itself.
 */
function failureReason(error: unknown): string {
  const blame = error instanceof DomainError && ['ValidationError', 'NotFound', 'Conflict'].includes(error.code) ? 'ClientError' : 'AlgorithmError';
  return `${blame}: ${describeError(error)}`;
}
