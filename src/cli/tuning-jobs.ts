import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import type { KennelClient } from './client.ts';
import { connect, globalOptions, listAll, print, table, time } from './context.ts';
import { ProgressDisplay } from './progress.ts';
import { parseHyperParameterFlags, followLog } from './training-jobs.ts';
import { createTrainingJobRequest, toUri } from './training-request.ts';
import { tuningReportPage } from './tuning-plot.ts';
import { renderTuningReport, type TuningReport } from './tuning-report.ts';
import { createTuningJobRequest, parseRangeFlags } from './tuning-request.ts';

const TERMINAL = ['Completed', 'Failed', 'Stopped'];
const POLL_MS = 1000;

interface TuningJobDescription {
  HyperParameterTuningJobName: string;
  HyperParameterTuningJobStatus: string;
  HyperParameterTuningJobConfig: {
    Strategy: string;
    HyperParameterTuningJobObjective?: { Type: 'Minimize' | 'Maximize'; MetricName: string };
    ResourceLimits: { MaxNumberOfTrainingJobs?: number; MaxParallelTrainingJobs: number };
  };
  TrainingJobStatusCounters: TuningReport['counters'];
  BestTrainingJob?: { TrainingJobName: string; FinalHyperParameterTuningJobObjectiveMetric?: { Value: number } };
  FailureReason?: string;
  CreationTime: number;
  HyperParameterTuningEndTime?: number;
}

interface TuningJobSummary {
  HyperParameterTuningJobName: string;
  HyperParameterTuningJobStatus: string;
  Strategy: string;
  CreationTime: number;
  HyperParameterTuningEndTime?: number;
  TrainingJobStatusCounters: TuningReport['counters'];
}

interface TrialsAnswer {
  trials: (Omit<TuningReport['trials'][number], 'curve'> & { curve: (number | null)[] })[];
}

interface CreateOptions {
  name: string;
  dataset?: string;
  data?: string;
  backbone: string;
  strategy: string;
  objective: string;
  maximize?: boolean;
  continuous: string[];
  integer: string[];
  categorical: string[];
  hp: string[];
  maxJobs?: string;
  maxParallel: string;
  earlyStopping: string;
  seed?: string;
  instanceType: string;
  roleArn: string;
  wait?: boolean;
  plot?: string;
}

export function registerTuningJobs(program: Command): void {
  const group = program.command('tuning-jobs').description('Tune the image classifier\'s hyperparameters (SageMaker CreateHyperParameterTuningJob and friends)');

  group
    .command('create')
    .description('Start a tuning job: trials of the image classifier on embeddings computed once, up to --max-parallel at a time')
    .requiredOption('--name <name>', 'tuning job name (at most 32 characters)')
    .option('--dataset <name>', 'registered dataset to tune on')
    .option('--data <folder|uri>', 'or: a folder, file:// or s3:// URI holding train/, valid/ and test/')
    .option('--backbone <sample|file.onnx|uri>', 'frozen backbone shared by every trial', 'sample')
    .option('--strategy <strategy>', 'Bayesian, Random, Grid or Hyperband', 'Bayesian')
    .option('--objective <metric>', 'metric to optimise: validation:loss, validation:accuracy, train:loss, test:loss, test:accuracy', 'validation:loss')
    .option('--maximize', 'maximize the objective (default: minimize)')
    .option('--continuous <name=min:max...>', 'continuous range; add :Logarithmic (or :Linear, :ReverseLogarithmic, :Auto) for its scaling', [])
    .option('--integer <name=min:max...>', 'integer range; add :Logarithmic etc. for its scaling', [])
    .option('--categorical <name=a,b,c...>', 'categorical range', [])
    .option('--hp <name=value...>', 'static hyperparameters every trial gets (epochs=10, ...)', [])
    .option('--max-jobs <n>', 'MaxNumberOfTrainingJobs (Grid: every combination)')
    .option('--max-parallel <n>', 'MaxParallelTrainingJobs', '1')
    .option('--early-stopping <Off|Auto>', 'Auto stops trials whose objective lags the median of earlier trials', 'Off')
    .option('--seed <n>', 'RandomSeed: the same seed and results give the same trials')
    .option('--instance-type <type>', 'instance type of every trial: its vCPUs are the trial\'s thread budget', 'ml.m5.large')
    .option('--role-arn <arn>', 'RoleArn to record', KENNEL_EXECUTION_ROLE_ARN)
    .option('--wait', 'wait for the job to finish, showing progress')
    .option('--plot <file.html>', 'with --wait: write the charts to a self-contained HTML page')
    .action(async (options: CreateOptions, command: Command) => {
      const client = await connect(command);
      await client.sageMaker('CreateHyperParameterTuningJob', await requestFromFlags(client, options));
      if (!options.wait) {
        print(command, await loadReport(client, options.name), (report) => renderTuningReport(report, terminal()));
        return;
      }
      const report = await waitForTuningJob(client, options.name);
      await show(command, report, options.plot);
      if (report.status !== 'Completed') process.exitCode = 1;
    });

  group
    .command('describe <name>')
    .description('Trials ranked by objective with their hyperparameters, the objective over trials, and the best learning curves')
    .option('--plot <file.html>', 'also write the charts to a self-contained HTML page')
    .action(async (name: string, options: { plot?: string }, command: Command) => {
      await show(command, await loadReport(await connect(command), name), options.plot);
    });

  group
    .command('wait <name>')
    .description('Wait for a tuning job to finish, showing its progress')
    .option('--plot <file.html>', 'then write the charts to a self-contained HTML page')
    .action(async (name: string, options: { plot?: string }, command: Command) => {
      const report = await waitForTuningJob(await connect(command), name);
      await show(command, report, options.plot);
      if (report.status !== 'Completed') process.exitCode = 1;
    });

  group
    .command('list')
    .description('List tuning jobs, newest first')
    .action(async (_options: unknown, command: Command) => {
      const jobs = await listAll<TuningJobSummary>(await connect(command), 'ListHyperParameterTuningJobs', 'HyperParameterTuningJobSummaries', {
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
      });
      print(command, jobs, (rows) =>
        table(
          ['NAME', 'STATUS', 'STRATEGY', 'DONE', 'CREATED', 'ENDED'],
          rows.map((job) => {
            const c = job.TrainingJobStatusCounters;
            return [job.HyperParameterTuningJobName, job.HyperParameterTuningJobStatus, job.Strategy, (c.Completed ?? 0) + (c.Stopped ?? 0) + (c.NonRetryableError ?? 0), time(job.CreationTime), time(job.HyperParameterTuningEndTime)];
          }),
        ),
      );
    });

  group
    .command('stop <name>')
    .description('Stop a tuning job: its running trials stop, no new one starts, finished ones are kept')
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = await connect(command);
      await client.sageMaker('StopHyperParameterTuningJob', { HyperParameterTuningJobName: name });
      print(command, await loadReport(client, name), (report) => `Tuning job ${report.name}: ${report.status}`);
    });

  group
    .command('logs <name>')
    .description('What the tuner did, trial by trial; with --trial N, that trial\'s own log')
    .option('-f, --follow', 'keep printing until the tuning job (or the trial) ends')
    .option('--trial <number>', 'print the log of trial N (counted from 1, as the trial names count), as `training-jobs logs` does')
    .action(async (name: string, options: { follow?: boolean; trial?: string }, command: Command) => {
      const client = await connect(command);
      const json = globalOptions(command).output === 'json';
      if (options.trial !== undefined) {
        const report = await loadReport(client, name);
        const trial = report.trials.find((t) => String(t.number) === options.trial);
        if (!trial) throw new DomainError('NotFound', `Tuning job ${name} has no trial ${options.trial} (it has ${report.trials.length})`, { field: '--trial' });
        await followLog(client, trial.trainingJobName, Boolean(options.follow), (event) =>
          process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${new Date(event.atMs).toISOString()} ${event.message}\n`),
        );
        return;
      }
      await followTuning(client, name, Boolean(options.follow), (line) => process.stdout.write(`${line}\n`));
    });
}

function terminal(): { width: number; color: boolean } {
  return { width: process.stdout.columns ?? 100, color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR };
}

async function show(command: Command, report: TuningReport, plot: string | undefined): Promise<void> {
  print(command, report, (value) => renderTuningReport(value, terminal()));
  if (plot) {
    await writeFile(plot, tuningReportPage(report));
    process.stderr.write(`Wrote the charts to ${plot}\n`);
  }
}

/** DescribeHyperParameterTuningJob and the trials' learning curves, as the renderers take them. */
export async function loadReport(client: KennelClient, name: string): Promise<TuningReport> {
  const job = await client.sageMaker<TuningJobDescription>('DescribeHyperParameterTuningJob', { HyperParameterTuningJobName: name });
  const { trials } = await client.kennel<TrialsAnswer>('GET', `/tuning-jobs/${encodeURIComponent(name)}/trials`);
  const config = job.HyperParameterTuningJobConfig;
  return {
    name: job.HyperParameterTuningJobName,
    status: job.HyperParameterTuningJobStatus,
    strategy: config.Strategy,
    objective: { type: config.HyperParameterTuningJobObjective?.Type ?? 'Minimize', metricName: config.HyperParameterTuningJobObjective?.MetricName ?? '-' },
    maxNumberOfTrainingJobs: config.ResourceLimits.MaxNumberOfTrainingJobs ?? trials.length,
    maxParallelTrainingJobs: config.ResourceLimits.MaxParallelTrainingJobs,
    ...(job.FailureReason ? { failureReason: job.FailureReason } : {}),
    counters: job.TrainingJobStatusCounters,
    trials: trials.map((trial) => ({ ...trial, curve: trial.curve.map((value) => value ?? Number.NaN) })),
  };
}

export async function waitForTuningJob(client: KennelClient, name: string): Promise<TuningReport> {
  const progress = new ProgressDisplay(process.stderr);
  try {
    for (;;) {
      const report = await loadReport(client, name);
      const done = report.trials.filter((trial) => TERMINAL.includes(trial.status)).length;
      const finals = report.trials.flatMap((trial) => (trial.final === undefined ? [] : [trial.final]));
      const best = finals.length === 0 ? undefined : report.objective.type === 'Minimize' ? Math.min(...finals) : Math.max(...finals);
      const running = report.trials.length - done;
      const info = `${running} running${best === undefined ? '' : `  best ${report.objective.metricName} ${best.toPrecision(4)}`}`;
      progress.update('trials', `Tuning ${name}`, done, report.maxNumberOfTrainingJobs, info);
      if (TERMINAL.includes(report.status)) return report;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    progress.stop();
  }
}

/** Prints a line per trial event (started, ended with its objective); with `follow`, until the tuning job ends. */
async function followTuning(client: KennelClient, name: string, follow: boolean, say: (line: string) => void): Promise<void> {
  const seen = new Map<string, string>();
  for (;;) {
    const report = await loadReport(client, name);
    for (const trial of report.trials) {
      const values = Object.entries(trial.hyperParameters).map(([key, value]) => `${key}=${value}`).join(' ');
      const state = trial.status === 'InProgress' ? 'started' : `${trial.earlyStopped ? 'stopped early' : trial.status}`;
      if (seen.get(trial.trainingJobName) === state) continue;
      if (!seen.has(trial.trainingJobName) && state !== 'started') say(`trial ${trial.number} ${trial.trainingJobName} started: ${values}`);
      seen.set(trial.trainingJobName, state);
      const result = trial.final !== undefined ? `, ${report.objective.metricName} ${trial.final}` : trial.failureReason ? `: ${trial.failureReason.split('\n')[0]}` : '';
      say(state === 'started' ? `trial ${trial.number} ${trial.trainingJobName} started: ${values}` : `trial ${trial.number} ${trial.trainingJobName} ${state}${result}`);
    }
    if (!follow || TERMINAL.includes(report.status)) {
      say(`tuning job ${name}: ${report.status}${report.failureReason ? ` (${report.failureReason})` : ''}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function requestFromFlags(client: KennelClient, options: CreateOptions): Promise<object> {
  if (Boolean(options.dataset) === Boolean(options.data)) throw new DomainError('ValidationError', 'give exactly one of --dataset or --data', { field: '--data' });
  const dataUri = options.dataset
    ? pathToFileURL((await client.kennel<{ path: string }>('GET', `/datasets/${encodeURIComponent(options.dataset)}`)).path).href
    : toUri(options.data!);
  const count = (value: string | undefined, option: string) => {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) throw new DomainError('ValidationError', `${option} must be a whole number, got ${JSON.stringify(value)}`, { field: option });
    return number;
  };
  if (!['Off', 'Auto'].includes(options.earlyStopping)) {
    throw new DomainError('ValidationError', `--early-stopping must be Off or Auto, got ${JSON.stringify(options.earlyStopping)}`, { field: '--early-stopping' });
  }
  const ranges = parseRangeFlags(options);
  if (ranges.length === 0) throw new DomainError('ValidationError', 'give at least one range: --continuous, --integer or --categorical', { field: '--continuous' });
  const maxJobs = count(options.maxJobs, '--max-jobs');
  const seed = count(options.seed, '--seed');
  return createTuningJobRequest({
    name: options.name,
    strategy: options.strategy,
    objective: { type: options.maximize ? 'Maximize' : 'Minimize', metricName: options.objective },
    ranges,
    ...(maxJobs !== undefined ? { maxNumberOfTrainingJobs: maxJobs } : {}),
    maxParallelTrainingJobs: count(options.maxParallel, '--max-parallel')!,
    earlyStopping: options.earlyStopping as 'Off' | 'Auto',
    ...(seed !== undefined ? { randomSeed: seed } : {}),
    trial: createTrainingJobRequest({
      name: options.name,
      dataUri,
      ...(options.backbone !== 'sample' ? { backboneUri: toUri(options.backbone) } : {}),
      hyperParameters: parseHyperParameterFlags(options.hp),
      instanceType: options.instanceType,
      roleArn: options.roleArn,
    }),
  });
}
