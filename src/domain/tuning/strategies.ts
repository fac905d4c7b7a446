import { DomainError } from '../../core/errors.ts';
import { gridSampler } from './grid-sampler.ts';
import { hyperbandPruner, inferMaxResource } from './hyperband-pruner.ts';
import { medianPruner } from './median-pruner.ts';
import { randomSampler } from './random-sampler.ts';
import type { TuningStrategy } from './ranges.ts';
import type { Pruner, Sampler } from './strategy.ts';
import { startupTrialsFor, tpeSampler } from './tpe-sampler.ts';

export interface StrategyOptions {
  /** ResourceLimits.MaxNumberOfTrainingJobs: a small budget starts the Bayesian model sooner. */
  maxNumberOfTrainingJobs?: number;
  /** ResourceLimits.MaxParallelTrainingJobs: above 1, Bayesian proposals count running trials as bad (constant liar) so parallel trials spread out. */
  maxParallelTrainingJobs?: number;
  /** TrainingJobEarlyStoppingType; SageMaker's default is Off. */
  earlyStopping?: 'Off' | 'Auto';
  /** StrategyConfig.HyperbandStrategyConfig. */
  hyperband?: { minResource?: number; maxResource?: number };
  /** TrainingJobDefinition.StaticHyperParameters, where SageMaker looks for Hyperband's MaxResource when it is not given. */
  staticHyperParameters?: Readonly<Record<string, string>>;
  /** HyperParameterTuningJobConfig.RandomSeed, which also spreads Hyperband's trials over its brackets. */
  randomSeed?: number;
}

export interface StrategyParts {
  sampler: Sampler;
  pruner?: Pruner;
}

/** The sampler and the pruner (if any) of one of SageMaker's strategies, with its early stopping. */
export function strategyFor(strategy: TuningStrategy, options: StrategyOptions = {}): StrategyParts {
  const earlyStopping = options.earlyStopping === 'Auto' ? medianPruner() : undefined;
  switch (strategy) {
    case 'Random':
      return { sampler: randomSampler(), pruner: earlyStopping };
    case 'Grid':
      return { sampler: gridSampler(), pruner: earlyStopping };
    case 'Bayesian': {
      const budget = options.maxNumberOfTrainingJobs;
      return {
        sampler: tpeSampler({
          ...(budget === undefined ? {} : { nStartupTrials: startupTrialsFor(budget) }),
          constantLiar: (options.maxParallelTrainingJobs ?? 1) > 1,
        }),
        pruner: earlyStopping,
      };
    }
    case 'Hyperband': {
      if (earlyStopping) {
        throw new DomainError(
          'ValidationError',
          'The Hyperband strategy stops trials early by itself, so TrainingJobEarlyStoppingType must be Off with it; ' +
            'set it to Off or choose another strategy',
          { field: 'HyperParameterTuningJobConfig.TrainingJobEarlyStoppingType' },
        );
      }
      const maxResource = options.hyperband?.maxResource ?? inferMaxResource(options.staticHyperParameters ?? {});
      if (maxResource === undefined) {
        throw new DomainError(
          'ValidationError',
          'The Hyperband strategy needs MaxResource, the epochs a trial may run: set StrategyConfig.HyperbandStrategyConfig.MaxResource, ' +
            'or a static hyperparameter epochs (or num_epochs, n_epochs, n-epochs, numepochs)',
          { field: 'HyperParameterTuningJobConfig.StrategyConfig.HyperbandStrategyConfig.MaxResource' },
        );
      }
      const minResource = options.hyperband?.minResource;
      return {
        sampler: randomSampler(),
        pruner: hyperbandPruner({ maxResource, ...(minResource === undefined ? {} : { minResource }), seed: options.randomSeed ?? 0 }),
      };
    }
  }
}
