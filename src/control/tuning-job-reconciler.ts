import { createHash } from 'node:crypto';
import { describeError } from '../core/errors.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import { withTransition, type ImageClassifierJob } from '../domain/training/training-job.ts';
import { proposalRandom } from '../domain/tuning/proposal-random.ts';
import { formatValues } from '../domain/tuning/ranges.ts';
import type { ParameterValues, TrialRecord } from '../domain/tuning/search-space.ts';
import { strategyFor } from '../domain/tuning/strategies.ts';
import { decideTuningJob, trialRecord, type TrialView, type TuningAction } from '../domain/tuning/tuning-decider.ts';
import type { TrialEntry, TuningJob } from '../domain/tuning/tuning-job.ts';
import { warmStartHistory } from '../domain/tuning/warm-start.ts';
import type { ControlDeps } from './deps.ts';
import { embedChannels } from './image-data.ts';
import type { Reconciler } from './reconciler.ts';
import type { TrainingJobService } from './training-jobs.ts';
import { trialViews } from './tuning-jobs.ts';
import { requestStop } from './training-stop.ts';

/**
 * Runs hyperparameter tuning jobs as decideTuningJob says: embeds the images
 * once (in the background, for the built-in algorithm), proposes trials with
 * the job's strategy, starts them as training jobs, stops the hopeless ones,
 * and ends the job. Everything it knows is in the store, so a restarted Kennel
 * goes on where it was: finished trials count, interrupted ones resume from
 * their checkpoints, and no trial is proposed twice.
 */
export class TuningJobReconciler implements Reconciler {
  readonly name = 'tuning-jobs';
  private readonly preparing = new Map<string, Promise<void>>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: ControlDeps,
    private readonly trainingJobs: TrainingJobService,
    private readonly kick: () => void,
  ) {
    // Early stopping judges a trial after each of its epochs, not at the next timer tick.
    this.unsubscribe = deps.events.subscribe((event) => {
      if (event.kind === 'training-epoch' && event.tuningJobName !== undefined) kick();
    });
  }

  async reconcile(nowMs: number): Promise<void> {
    for (const job of this.deps.store.tuningJobs.listByStatus(['InProgress', 'Stopping'])) {
      if (job.spec.template.backbone && !job.preparedData && !job.stopRequest) {
        this.prepare(job);
        continue;
      }
      const trials = trialViews(this.deps.store, job);
      const active = this.deps.store.trainingJobs.listByStatus(['InProgress', 'Stopping']).length;
      const { sampler, pruner } = strategyFor(job.spec.strategy, {
        maxNumberOfTrainingJobs: job.spec.maxNumberOfTrainingJobs,
        maxParallelTrainingJobs: job.spec.maxParallelTrainingJobs,
        earlyStopping: job.spec.earlyStopping,
        hyperband: job.spec.hyperband,
        staticHyperParameters: job.spec.template.staticHyperParameters,
        randomSeed: job.spec.randomSeed,
      });
      const actions = decideTuningJob(job, { trials, freeSlots: this.deps.limits.maxConcurrentTrainingJobs - active }, pruner);
      for (const action of actions) this.act(job.name, action, trials, (history) => sampler.propose(job.spec.ranges, history, job.spec.objective.type, proposalRandom(job.spec.randomSeed, history.filter((t) => t.number >= 0).length)), nowMs);
    }
  }

  /** Preparation runs in the background and ends with a kick; nobody waits for it to settle. */
  async settled(): Promise<void> {}

  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.allSettled(this.preparing.values());
  }

  private act(
    name: string,
    action: TuningAction,
    trials: readonly TrialView[],
    propose: (history: TrialRecord[]) => ParameterValues | undefined,
    nowMs: number,
  ): void {
    const { store, logger } = this.deps;
    switch (action.kind) {
      case 'create-trial-jobs':
        for (const entry of action.trials) this.trainingJobs.createTrial(store.tuningJobs.get(name)!, entry);
        return;
      case 'launch':
        for (let i = 0; i < action.count; i++) {
          const job = store.tuningJobs.get(name)!;
          const history = [...this.parentHistory(job), ...trialViews(this.deps.store, job).map(trialRecord)];
          const values = propose(history);
          if (!values) return;
          const hyperParameters = formatValues(values, job.spec.ranges);
          const number = job.trials.length;
          const entry: TrialEntry = { number, trainingJobName: trialName(name, number, hyperParameters), hyperParameters, createdAtMs: nowMs };
          // The entry first: if Kennel dies before the training job exists, the next pass creates it from the entry.
          const updated = store.tuningJobs.modify(name, (current) => ({ ...current, trials: [...current.trials, entry], lastModifiedAtMs: nowMs }));
          this.trainingJobs.createTrial(updated, entry);
          logger.info('tuning trial started', { tuningJob: name, trainingJob: entry.trainingJobName, hyperParameters });
        }
        return;
      case 'early-stop': {
        // Only trials with epochs still to run are stopped and marked: one that trained them all keeps its result.
        const stopped = action.trainingJobNames.filter(
          (trainingJob) => !trainedEveryEpoch(store, trainingJob) && stopTrial(store, trainingJob, nowMs, 'Stopped early: its objective lags behind earlier trials'),
        );
        if (stopped.length === 0) return;
        store.tuningJobs.modify(name, (current) => ({
          ...current,
          trials: current.trials.map((entry) => (stopped.includes(entry.trainingJobName) ? { ...entry, earlyStopped: true } : entry)),
          lastModifiedAtMs: nowMs,
        }));
        logger.info('tuning trials stopped early', { tuningJob: name, trainingJobs: stopped });
        return;
      }
      case 'stop-trials':
        for (const trainingJob of action.trainingJobNames) stopTrial(store, trainingJob, nowMs, 'The tuning job is stopping');
        return;
      case 'finish':
        store.tuningJobs.modify(name, (current) => ({
          ...current,
          status: action.status,
          ...(action.failureReason ? { failureReason: action.failureReason } : {}),
          endedAtMs: nowMs,
          lastModifiedAtMs: nowMs,
        }));
        logger.info('tuning job ended', { tuningJob: name, status: action.status, trials: trials.length });
        return;
    }
  }

  /** The warm-start parents' trials, numbered before this job's own. */
  private parentHistory(job: TuningJob): TrialRecord[] {
    if (!job.spec.warmStart || !job.parentTrials) return [];
    const records: TrialRecord[] = job.parentTrials.map((trial, index) => ({
      number: index,
      params: trial.hyperParameters,
      state: trial.state,
      intermediate: trial.intermediate,
      ...(trial.value !== undefined ? { value: trial.value } : {}),
    }));
    return warmStartHistory([records], job.spec.warmStart.type, job.spec.ranges);
  }

  /** Embeds the template's images once, for every trial; the job fails if that cannot be done. */
  private prepare(job: TuningJob): void {
    if (this.preparing.has(job.name)) return;
    const { deps } = this;
    const stopRequested = () => deps.store.tuningJobs.get(job.name)?.stopRequest !== undefined;
    const work = (async () => {
      const pseudo = preparationJob(job);
      const data = await embedChannels(deps, pseudo, threadBudget(job.spec.template.instanceType, deps.cores), stopRequested, () => {});
      if (!data) return;
      const digest = await deps.preparedData.save(data);
      deps.store.tuningJobs.update(job.name, { preparedData: { digest, classes: data.classes }, lastModifiedAtMs: deps.clock.now() });
    })()
      .catch((error: unknown) => {
        const now = deps.clock.now();
        deps.logger.warn('tuning job could not prepare its data', { tuningJob: job.name, error: describeError(error) });
        deps.store.tuningJobs.update(job.name, { status: 'Failed', failureReason: `ClientError: ${describeError(error)}`, endedAtMs: now, lastModifiedAtMs: now });
      })
      .finally(() => {
        this.preparing.delete(job.name);
        this.kick();
      });
    this.preparing.set(job.name, work);
  }
}

/** SageMaker names trials `<tuning job>-<NNN>-<8 hex>`: the number, and a hash of the values, which makes a repeated proposal visible. */
function trialName(tuningJob: string, number: number, hyperParameters: Record<string, string>): string {
  const hash = createHash('sha256').update(JSON.stringify(Object.entries(hyperParameters).sort())).digest('hex').slice(0, 8);
  return `${tuningJob}-${String(number + 1).padStart(3, '0')}-${hash}`;
}

/**
 * Whether an image-classifier trial has reported all its epochs: epochs reach the
 * server in batches, so a fast trial can be judged only once it is done.
 */
function trainedEveryEpoch(store: ControlDeps['store'], trainingJob: string): boolean {
  const job = store.trainingJobs.get(trainingJob);
  return job?.spec.algorithm === 'image-classifier' && job.epochs.length >= job.spec.head.epochs;
}

/** Asks a running trial to stop; false if it was no longer running. */
function stopTrial(store: ControlDeps['store'], trainingJob: string, nowMs: number, message: string): boolean {
  const job = store.trainingJobs.get(trainingJob);
  if (!job || job.status !== 'InProgress') return false;
  requestStop(store, trainingJob, { reason: 'StopRequested', atMs: nowMs });
  store.trainingJobs.modify(trainingJob, (current) => ({
    ...current,
    secondaryStatusTransitions: current.secondaryStatusTransitions.map((transition, index, all) =>
      index === all.length - 1 ? { ...transition, message } : transition,
    ),
  }));
  return true;
}

/** What embedChannels needs of a training job: the template's channels and backbone, under the tuning job's name. */
function preparationJob(job: TuningJob): ImageClassifierJob {
  const { template } = job.spec;
  return {
    name: job.name,
    spec: {
      algorithm: 'image-classifier',
      trainingImage: template.trainingImage,
      trainingInputMode: template.trainingInputMode,
      roleArn: template.roleArn,
      hyperParameters: template.staticHyperParameters,
      channels: template.channels,
      outputPath: template.outputPath,
      instanceType: template.instanceType,
      instanceCount: template.instanceCount,
      volumeSizeInGB: template.volumeSizeInGB,
      maxRuntimeSeconds: template.maxRuntimeSeconds ?? 86_400,
      metricDefinitions: template.metricDefinitions,
      backbone: template.backbone!,
      head: { learning_rate: 0.001, batch_size: 64, epochs: 1, hidden_units: 128, seed: 0 },
    },
    tags: [],
    status: 'InProgress',
    secondaryStatus: 'Training',
    secondaryStatusTransitions: withTransition([], 'Training', 'Embedding for a tuning job', job.createdAtMs),
    epochs: [],
    createdAtMs: job.createdAtMs,
    lastModifiedAtMs: job.createdAtMs,
  };
}
