import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import type { KennelClient } from './client.ts';
import { connect, globalOptions, print, registerResourceVerbs, table, time } from './context.ts';
import { ProgressDisplay } from './progress.ts';
import type { TrainingJobDescription, TrainingJobMetrics, TrainingJobSummary } from './sagemaker-shapes.ts';
import { createTrainingJobRequest, parseRuleFlags, toUri } from './training-request.ts';
import { BUILT_IN_RULES } from '../domain/debugger/built-in-rules.ts';
import type { RuleEvaluation } from '../domain/debugger/evaluation.ts';
import { TraceBuilder } from '../domain/debugger/trace-builder.ts';
import { parseTraceLine } from '../domain/debugger/trace-protocol.ts';
import { debuggerReportPage } from './debugger-page.ts';
import { debuggerSummary, type DebuggerReport } from './debugger-report.ts';

const TERMINAL = ['Completed', 'Failed', 'Stopped'];

interface CreateOptions {
  name: string;
  dataset?: string;
  data?: string;
  backbone: string;
  hp: string[];
  instanceType: string;
  maxRuntime?: string;
  outputPath?: string;
  roleArn: string;
  wait?: boolean;
  rule: string[];
  stopOn: string[];
  saveInterval?: string;
  profilingInterval?: string;
}

export function registerTrainingJobs(program: Command): void {
  const group = program.command('training-jobs').description('Train the built-in image classifier (SageMaker CreateTrainingJob and friends)');

  group
    .command('create')
    .description('Start a training job: frozen backbone, new head Linear → ReLU → Linear, Adam, cross-entropy')
    .requiredOption('--name <name>', 'training job name')
    .option('--dataset <name>', 'registered dataset to train on')
    .option('--data <folder|uri>', 'or: a folder, file:// or s3:// URI holding train/, valid/ and test/')
    .option('--backbone <sample|file.onnx|uri>', 'frozen backbone: "sample" or an ONNX image model producing features', 'sample')
    .option('--hp <name=value...>', 'hyperparameters: learning_rate, batch_size, epochs, hidden_units, seed, ...', [])
    .option('--instance-type <type>', 'SageMaker instance type: its vCPUs are the job\'s thread budget', 'ml.m5.large')
    .option('--max-runtime <seconds>', 'StoppingCondition.MaxRuntimeInSeconds (default one day)')
    .option('--output-path <uri>', 'where model.tar.gz goes (default s3://sagemaker-us-east-1-000000000000/)')
    .option('--role-arn <arn>', 'RoleArn to record', KENNEL_EXECUTION_ROLE_ARN)
    .option('--rule <Name[:param=value]>', `a built-in debugger or profiler rule, evaluated while the job runs (repeatable): ${BUILT_IN_RULES.map((r) => r.name).join(', ')}`, collect, [])
    .option('--stop-on <Name>', 'stop the job when this rule finds an issue (repeatable; adds the rule if --rule does not name it)', collect, [])
    .option('--save-interval <steps>', 'save tensors every this many steps (default 100 when a debugger rule is given)')
    .option('--profiling-interval <ms>', 'sample CPU and memory this often: 100, 200, 500 (default), 1000, 5000 or 60000')
    .option('--wait', 'wait for the job to finish, showing progress')
    .action(async (options: CreateOptions, command: Command) => {
      const client = await connect(command);
      await client.sageMaker('CreateTrainingJob', await requestFromFlags(client, options));
      const job = options.wait ? await waitForJob(client, options.name) : await describeJob(client, options.name);
      print(command, job, renderJob);
      if (options.wait && job.TrainingJobStatus !== 'Completed') process.exitCode = 1;
    });

  group
    .command('wait <name>')
    .description('Wait for a training job to finish, showing progress')
    .action(async (name: string, _options: unknown, command: Command) => {
      const job = await waitForJob(await connect(command), name);
      print(command, job, renderJob);
      if (job.TrainingJobStatus !== 'Completed') process.exitCode = 1;
    });

  registerResourceVerbs<TrainingJobSummary, DescribedJob>(group, {
    noun: 'training job',
    list: {
      operation: 'ListTrainingJobs',
      resultKey: 'TrainingJobSummaries',
      columns: ['NAME', 'STATUS', 'CREATED', 'ENDED'],
      row: (j) => [j.TrainingJobName, j.TrainingJobStatus, time(j.CreationTime), time(j.TrainingEndTime)],
    },
    describe: { operation: 'DescribeTrainingJob', nameMember: 'TrainingJobName', render: renderJob, load: describeJob },
  });

  group
    .command('report <name>')
    .description("The debugger's report on a training job: loss, gradients, utilisation and step time charts, and each rule's finding")
    .option('--out <file.html>', 'where to write the report (default <name>-report.html)')
    .action(async (name: string, options: { out?: string }, command: Command) => {
      const report = await loadDebuggerReport(await connect(command), name);
      const out = options.out ?? `${name}-report.html`;
      await writeFile(out, debuggerReportPage(report));
      const summary = { jobName: report.jobName, status: report.status, steps: report.trace.steps.length, epochs: report.trace.epochs.length, findings: report.findings, file: out };
      print(command, summary, () => `${debuggerSummary(report)}\nWrote the report to ${out}`);
    });

  group
    .command('metrics <name>')
    .description('Per-epoch train and validation loss and accuracy of a training job')
    .action(async (name: string, _options: unknown, command: Command) => {
      const metrics = await (await connect(command)).kennel<TrainingJobMetrics>('GET', `/training-jobs/${encodeURIComponent(name)}/metrics`);
      print(command, metrics, renderMetrics);
    });

  group
    .command('logs <name>')
    .description("A training job's log: a script's stdout and stderr, or the image classifier's epochs")
    .option('-f, --follow', 'keep printing new lines until the job ends')
    .action(async (name: string, options: { follow?: boolean }, command: Command) => {
      await followLog(await connect(command), name, Boolean(options.follow), printLogEvent(command));
    });

  group
    .command('stop <name>')
    .description('Stop a running training job after its current epoch (the model so far is kept)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = await connect(command);
      await client.sageMaker('StopTrainingJob', { TrainingJobName: name });
      print(command, await describeJob(client, name), (j) => `Training job ${j.TrainingJobName}: ${j.TrainingJobStatus}`);
    });
}

/** The CreateTrainingJob request the flags describe. */
async function requestFromFlags(client: KennelClient, options: CreateOptions): Promise<object> {
  if (Boolean(options.dataset) === Boolean(options.data)) throw new DomainError('ValidationError', 'give exactly one of --dataset or --data');
  const dataUri = options.dataset
    ? pathToFileURL((await client.kennel<{ path: string }>('GET', `/datasets/${encodeURIComponent(options.dataset)}`)).path).href
    : toUri(options.data!);
  const maxRuntime = options.maxRuntime === undefined ? undefined : Number(options.maxRuntime);
  if (maxRuntime !== undefined && !(Number.isInteger(maxRuntime) && maxRuntime > 0)) {
    throw new DomainError('ValidationError', `--max-runtime must be a whole number of seconds (got ${options.maxRuntime})`);
  }
  return createTrainingJobRequest({
    name: options.name,
    dataUri,
    ...(options.backbone !== 'sample' ? { backboneUri: toUri(options.backbone) } : {}),
    hyperParameters: parseHyperParameterFlags(options.hp),
    instanceType: options.instanceType,
    maxRuntimeSeconds: maxRuntime,
    outputPath: options.outputPath,
    roleArn: options.roleArn,
    debugger: {
      rules: parseRuleFlags(options.rule, options.stopOn),
      ...(options.saveInterval !== undefined ? { saveInterval: wholeNumber(options.saveInterval, '--save-interval') } : {}),
      ...(options.profilingInterval !== undefined ? { profilingIntervalMs: wholeNumber(options.profilingInterval, '--profiling-interval') } : {}),
    },
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function wholeNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new DomainError('ValidationError', `${flag} must be a whole number (got ${JSON.stringify(text)})`, { field: flag });
  return Number(text);
}

interface TraceAnswer {
  trainingJobName: string;
  status: string;
  rules: (RuleEvaluation & { rule?: string })[];
  records: unknown[];
}

/** The trace and the rules' findings, as the report and its summary take them. */
export async function loadDebuggerReport(client: KennelClient, name: string): Promise<DebuggerReport> {
  const answer = await client.kennel<TraceAnswer>('GET', `/training-jobs/${encodeURIComponent(name)}/trace`);
  const builder = new TraceBuilder();
  for (const item of answer.records) {
    const record = parseTraceLine(JSON.stringify(item));
    if (!('error' in record)) builder.add(record);
  }
  return {
    jobName: answer.trainingJobName,
    status: answer.status,
    trace: builder.trace,
    findings: answer.rules.map((evaluation) => {
      const rule = BUILT_IN_RULES.find((r) => r.name === evaluation.rule && r.kind === evaluation.kind);
      return {
        configurationName: evaluation.configurationName,
        rule: { name: evaluation.rule ?? evaluation.configurationName, kind: evaluation.kind, meaning: rule?.meaning ?? '', advice: rule?.advice ?? '' },
        // Stopping and Stopped describe SageMaker's evaluation jobs; Kennel's rules end with the job.
        finding: { status: evaluation.status === 'Stopping' || evaluation.status === 'Stopped' ? 'InProgress' : evaluation.status, ...(evaluation.step !== undefined ? { step: evaluation.step } : {}), details: evaluation.details },
      };
    }),
  };
}

/** `["learning_rate=0.01", "epochs=5"]` → `{ learning_rate: "0.01", epochs: "5" }` (the server validates values). */
export function parseHyperParameterFlags(flags: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    if (at <= 0) throw new DomainError('ValidationError', `--hp expects name=value (got ${JSON.stringify(flag)})`);
    result[flag.slice(0, at).trim()] = flag.slice(at + 1).trim();
  }
  return result;
}

type DescribedJob = TrainingJobDescription & { metrics: TrainingJobMetrics };

/** DescribeTrainingJob, then the per-epoch metrics: a missing job is reported in SageMaker's words. */
async function describeJob(client: KennelClient, name: string): Promise<DescribedJob> {
  const job = await client.sageMaker<TrainingJobDescription>('DescribeTrainingJob', { TrainingJobName: name });
  const metrics = await client.kennel<TrainingJobMetrics>('GET', `/training-jobs/${encodeURIComponent(name)}/metrics`);
  return { ...job, metrics };
}

interface LogPage {
  status: string;
  events: { atMs: number; message: string }[];
  next: number;
}

const FOLLOW_POLL_MS = 500;

/** Prints a job's log; with `follow`, goes on until the job has ended and its last lines are out. */
export async function followLog(client: KennelClient, name: string, follow: boolean, onEvent: (event: LogPage['events'][number]) => void): Promise<void> {
  await followLogAt<LogPage>(client, `/training-jobs/${encodeURIComponent(name)}/logs`, (page) => !follow || TERMINAL.includes(page.status), onEvent);
}

/** Reads a Kennel log (`path` answers `{events, next}` from an offset) to its end, and on while `done` says no. */
export async function followLogAt<Page extends { events: LogPage['events']; next: number }>(
  client: KennelClient,
  path: string,
  done: (page: Page) => boolean,
  onEvent: (event: LogPage['events'][number]) => void,
): Promise<void> {
  let from = 0;
  for (;;) {
    const page = await client.kennel<Page>('GET', `${path}?from=${from}`);
    for (const event of page.events) onEvent(event);
    const more = page.next !== from;
    from = page.next;
    if (more) continue;
    if (done(page)) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
}

/** How `logs` commands print an event: a timestamped line, or a JSON object with -o json. */
export function printLogEvent(command: Command): (event: LogPage['events'][number]) => void {
  const json = globalOptions(command).output === 'json';
  return (event) => process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${new Date(event.atMs).toISOString()} ${event.message}\n`);
}

export async function waitForJob(client: KennelClient, name: string): Promise<DescribedJob> {
  const progress = new ProgressDisplay(process.stderr);
  try {
    for (;;) {
      const job = await describeJob(client, name);
      const last = job.metrics.epochs.at(-1);
      const info = last ? `valid loss ${last.validationLoss.toFixed(3)}  valid acc ${(100 * last.validationAccuracy).toFixed(1)}%` : job.SecondaryStatus;
      // A script's epochs are its own business: only the image classifier's can be counted.
      if (job.metrics.plannedEpochs !== undefined) progress.update('epochs', `Training ${name}`, job.metrics.epochs.length, job.metrics.plannedEpochs, info);
      else progress.update('status', `Training ${name} (${job.SecondaryStatus})`, TERMINAL.includes(job.TrainingJobStatus) ? 1 : 0, 1, job.SecondaryStatus);
      if (TERMINAL.includes(job.TrainingJobStatus)) return job;
      await new Promise((done) => setTimeout(done, 500));
    }
  } finally {
    progress.stop();
  }
}

function renderJob(job: TrainingJobDescription & { metrics?: TrainingJobMetrics }): string {
  const status = job.SecondaryStatus !== job.TrainingJobStatus ? `${job.TrainingJobStatus} (${job.SecondaryStatus})` : job.TrainingJobStatus;
  const lines = [`Training job ${job.TrainingJobName}: ${status}${job.FailureReason ? ` — ${job.FailureReason}` : ''}`];
  for (const channel of job.InputDataConfig ?? []) lines.push(`  channel ${channel.ChannelName}: ${channel.DataSource.S3DataSource?.S3Uri ?? '-'}`);
  lines.push(`  image ${job.AlgorithmSpecification.TrainingImage ?? '-'} on ${job.ResourceConfig.InstanceType ?? '-'}`);
  const hyperParameters = Object.entries(job.HyperParameters ?? {});
  if (hyperParameters.length > 0) lines.push(`  hyperparameters ${hyperParameters.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (job.metrics) lines.push(renderMetrics(job.metrics));
  // A model exists once the job evaluated one: every Completed job, and a Stopped one that had finished an epoch.
  if (job.metrics?.finalMetrics) lines.push(`  model ${job.ModelArtifacts.S3ModelArtifacts}`);
  return lines.filter((line) => line !== '').join('\n');
}

function renderMetrics(metrics: TrainingJobMetrics): string {
  const lines: string[] = [];
  if (metrics.embeddingStats) lines.push(`  embeddings: ${metrics.embeddingStats.computed} computed, ${metrics.embeddingStats.cached} from cache`);
  if (metrics.epochs.length > 0) {
    lines.push(
      table(
        ['  EPOCH', 'TRAIN LOSS', 'TRAIN ACC', 'VALID LOSS', 'VALID ACC', 'SECONDS'],
        metrics.epochs.map((e) => [
          `  ${e.epoch}`,
          e.trainLoss.toFixed(4),
          `${(100 * e.trainAccuracy).toFixed(1)}%`,
          e.validationLoss.toFixed(4),
          `${(100 * e.validationAccuracy).toFixed(1)}%`,
          e.seconds.toFixed(3),
        ]),
      ),
    );
  }
  const series = Object.entries(metrics.series ?? {});
  if (series.length > 0) {
    lines.push(
      table(
        ['  METRIC', 'LAST', 'MIN', 'MAX', 'VALUES'],
        series.map(([name, points]) => {
          const values = points.map((point) => point.value);
          return [`  ${name}`, values.at(-1) ?? '-', Math.min(...values), Math.max(...values), values.length];
        }),
      ),
    );
  }
  if (metrics.finalMetrics) {
    lines.push(`  test loss ${metrics.finalMetrics.testLoss.toFixed(4)}, test accuracy ${(100 * metrics.finalMetrics.testAccuracy).toFixed(1)}%`);
  }
  return lines.join('\n');
}
