import { settleEvaluations } from '../domain/debugger/evaluation.ts';
import { withTransition, type StopRequest, type TrainingJob } from '../domain/training/training-job.ts';
import type { Store } from '../store/store.ts';

/** Records the wish to stop (desired state) and SageMaker's Stopping status; the run ends itself at its next check. */
export function requestStop(store: Store, name: string, request: StopRequest): TrainingJob {
  return store.trainingJobs.modify(name, (job) => ({
    ...job,
    status: 'Stopping',
    stopRequest: request,
    secondaryStatus: 'Stopping',
    secondaryStatusTransitions: withTransition(job.secondaryStatusTransitions, 'Stopping', request.reason === 'MaxRuntimeExceeded' ? 'MaxRuntimeInSeconds reached: stopping' : `Stopping on request${request.by ? ` of ${request.by}` : ''}`, request.atMs),
    lastModifiedAtMs: request.atMs,
  }));
}

/** A job recorded as ended: its rules that never had their last look (it ended before it recorded anything, or never ran) are Stopped. */
export function withRulesSettled(job: TrainingJob, nowMs: number): TrainingJob {
  if (!job.ruleEvaluations?.some((evaluation) => evaluation.status === 'InProgress')) return job;
  return { ...job, ruleEvaluations: settleEvaluations(job.ruleEvaluations, nowMs, 'The training job ended before the rule could evaluate it.') };
}
