import { DomainError } from '../core/errors.ts';
import type { TrainingJobRequest } from './training-request.ts';

export type ScalingType = 'Auto' | 'Linear' | 'Logarithmic' | 'ReverseLogarithmic';

export type RangeRequest =
  | { kind: 'Continuous' | 'Integer'; name: string; min: string; max: string; scaling?: ScalingType }
  | { kind: 'Categorical'; name: string; values: string[] };

export interface TuningRequest {
  name: string;
  strategy: string;
  objective: { type: 'Minimize' | 'Maximize'; metricName: string };
  ranges: RangeRequest[];
  maxNumberOfTrainingJobs?: number;
  maxParallelTrainingJobs: number;
  earlyStopping?: 'Off' | 'Auto';
  randomSeed?: number;
  /** The CreateTrainingJob request every trial starts from; its hyperparameters are the static ones. */
  trial: TrainingJobRequest;
}

/** The CreateHyperParameterTuningJob request, as `tuning-jobs create` and `apply` send it. */
export function createTuningJobRequest(request: TuningRequest): object {
  const { trial } = request;
  const numeric = (kind: 'Continuous' | 'Integer') =>
    request.ranges.flatMap((range) =>
      range.kind === kind ? [{ Name: range.name, MinValue: range.min, MaxValue: range.max, ...(range.scaling ? { ScalingType: range.scaling } : {}) }] : [],
    );
  return {
    HyperParameterTuningJobName: request.name,
    HyperParameterTuningJobConfig: {
      Strategy: request.strategy,
      HyperParameterTuningJobObjective: { Type: request.objective.type, MetricName: request.objective.metricName },
      ResourceLimits: {
        ...(request.maxNumberOfTrainingJobs !== undefined ? { MaxNumberOfTrainingJobs: request.maxNumberOfTrainingJobs } : {}),
        MaxParallelTrainingJobs: request.maxParallelTrainingJobs,
      },
      ParameterRanges: {
        ContinuousParameterRanges: numeric('Continuous'),
        IntegerParameterRanges: numeric('Integer'),
        CategoricalParameterRanges: request.ranges.flatMap((range) => (range.kind === 'Categorical' ? [{ Name: range.name, Values: range.values }] : [])),
      },
      ...(request.earlyStopping ? { TrainingJobEarlyStoppingType: request.earlyStopping } : {}),
      ...(request.randomSeed !== undefined ? { RandomSeed: request.randomSeed } : {}),
    },
    TrainingJobDefinition: {
      StaticHyperParameters: trial.HyperParameters ?? {},
      AlgorithmSpecification: trial.AlgorithmSpecification,
      RoleArn: trial.RoleArn,
      InputDataConfig: trial.InputDataConfig,
      OutputDataConfig: trial.OutputDataConfig,
      ResourceConfig: trial.ResourceConfig,
      StoppingCondition: trial.StoppingCondition,
    },
  };
}

const SCALINGS: readonly ScalingType[] = ['Auto', 'Linear', 'Logarithmic', 'ReverseLogarithmic'];

/**
 * `--continuous learning_rate=0.0001:0.1:Logarithmic`, `--integer hidden_units=64:256`,
 * `--categorical batch_size=32,64,128`: the ranges the flags describe. The values go to the
 * server as written, which checks them (min ≤ max, log scaling above 0, ...).
 */
export function parseRangeFlags(flags: { continuous: string[]; integer: string[]; categorical: string[] }): RangeRequest[] {
  const split = (flag: string, option: string) => {
    const at = flag.indexOf('=');
    if (at <= 0 || at === flag.length - 1) throw invalid(option, `${option} expects name=..., got ${JSON.stringify(flag)}`);
    return [flag.slice(0, at).trim(), flag.slice(at + 1).trim()] as const;
  };
  const numeric = (kind: 'Continuous' | 'Integer', option: string) => (flag: string): RangeRequest => {
    const [name, spec] = split(flag, option);
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === '')) {
      throw invalid(option, `${option} expects name=min:max or name=min:max:scaling, got ${JSON.stringify(flag)}`);
    }
    const scaling = parts[2] as ScalingType | undefined;
    if (scaling !== undefined && !SCALINGS.includes(scaling)) throw invalid(option, `${option} ${name}: scaling must be one of ${SCALINGS.join(', ')}, got ${JSON.stringify(scaling)}`);
    return { kind, name, min: parts[0], max: parts[1], ...(scaling ? { scaling } : {}) };
  };
  return [
    ...flags.continuous.map(numeric('Continuous', '--continuous')),
    ...flags.integer.map(numeric('Integer', '--integer')),
    ...flags.categorical.map((flag): RangeRequest => {
      const [name, spec] = split(flag, '--categorical');
      return { kind: 'Categorical', name, values: spec.split(',').map((value) => value.trim()) };
    }),
  ];
}

function invalid(option: string, message: string): DomainError {
  return new DomainError('ValidationError', message, { field: option });
}
