import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isTerminal, type TrainingJob } from '../domain/training/training-job.ts';
import type { KennelClient } from './client.ts';
import { connect, print, registerResourceVerbs, table, time } from './context.ts';
import { ProgressDisplay } from './progress.ts';

export function registerTrainingJobs(program: Command): void {
  const group = program.command('training-jobs').description('Train the built-in image-classifier on a dataset');

  group
    .command('create')
    .description('Start a training job: frozen backbone, new head Linear → ReLU → Linear, Adam, cross-entropy')
    .requiredOption('--name <name>', 'training job name')
    .requiredOption('--dataset <name>', 'registered dataset to train on')
    .option('--backbone <sample|file.onnx>', 'frozen backbone: "sample" or an ONNX image model producing features', 'sample')
    .option('--hp <name=value...>', 'hyperparameters: learning_rate, batch_size, epochs, hidden_units, seed', [])
    .option('--wait', 'wait for the job to finish, showing progress')
    .action(async (options: { name: string; dataset: string; backbone: string; hp: string[]; wait?: boolean }, command: Command) => {
      const client = await connect(command);
      const job = await client.call<TrainingJob>('POST', '/training-jobs', {
        name: options.name,
        datasetName: options.dataset,
        backbone: options.backbone === 'sample' ? { sample: true } : { path: resolve(options.backbone) },
        hyperParameters: parseHyperParameterFlags(options.hp),
      });
      const result = options.wait ? await waitForJob(client, job.name) : job;
      print(command, result, renderJob);
      if (options.wait && result.status !== 'Completed') process.exitCode = 1;
    });

  group
    .command('wait <name>')
    .description('Wait for a training job to finish, showing progress')
    .action(async (name: string, _options: unknown, command: Command) => {
      const job = await waitForJob(await connect(command), name);
      print(command, job, renderJob);
      if (job.status !== 'Completed') process.exitCode = 1;
    });

  registerResourceVerbs<TrainingJob>(group, {
    noun: 'training job',
    path: '/training-jobs',
    listKey: 'trainingJobs',
    columns: ['NAME', 'STATUS', 'PHASE', 'DATASET', 'EPOCHS', 'TEST ACC', 'CREATED'],
    row: (j) => [
      j.name,
      j.status,
      j.phase,
      j.datasetName,
      `${j.epochs.length}/${j.hyperParameters.epochs}`,
      j.finalMetrics ? `${(100 * j.finalMetrics.testAccuracy).toFixed(1)}%` : '-',
      time(j.createdAtMs),
    ],
    render: renderJob,
  });

  group
    .command('stop <name>')
    .description('Stop a running training job after its current epoch')
    .action(async (name: string, _options: unknown, command: Command) => {
      const job = await (await connect(command)).call<TrainingJob>('POST', `/training-jobs/${encodeURIComponent(name)}/stop`);
      print(command, job, (j) => `Training job ${j.name}: ${j.status}`);
    });
}

/** `["learning_rate=0.01", "epochs=5"]` → `{ learning_rate: "0.01", epochs: "5" }` (the server validates values). */
export function parseHyperParameterFlags(flags: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    if (at <= 0) throw new Error(`--hp expects name=value (got ${JSON.stringify(flag)})`);
    result[flag.slice(0, at).trim()] = flag.slice(at + 1).trim();
  }
  return result;
}

export async function waitForJob(client: KennelClient, name: string): Promise<TrainingJob> {
  const progress = new ProgressDisplay(process.stderr);
  try {
    for (;;) {
      const job = await client.call<TrainingJob>('GET', `/training-jobs/${encodeURIComponent(name)}`);
      const last = job.epochs.at(-1);
      const info = last ? `valid loss ${last.validationLoss.toFixed(3)}  valid acc ${(100 * last.validationAccuracy).toFixed(1)}%` : job.phase;
      progress.update('epochs', `Training ${name}`, job.epochs.length, job.hyperParameters.epochs, info);
      if (isTerminal(job.status)) return job;
      await new Promise((done) => setTimeout(done, 500));
    }
  } finally {
    progress.stop();
  }
}

function renderJob(job: TrainingJob): string {
  const lines = [
    `Training job ${job.name}: ${job.status}${job.phase !== job.status ? ` (${job.phase})` : ''}${job.failureReason ? ` — ${job.failureReason}` : ''}`,
    `  dataset ${job.datasetName}, backbone ${job.backbone.digest.slice(0, 12)} (${job.backbone.featureSize} features)`,
    `  hyperparameters ${Object.entries(job.hyperParameters).map(([k, v]) => `${k}=${v}`).join(' ')}`,
  ];
  if (job.embeddingStats) {
    lines.push(`  embeddings: ${job.embeddingStats.computed} computed, ${job.embeddingStats.cached} from cache`);
  }
  if (job.epochs.length > 0) {
    lines.push(
      table(
        ['  EPOCH', 'TRAIN LOSS', 'TRAIN ACC', 'VALID LOSS', 'VALID ACC', 'SECONDS'],
        job.epochs.map((e) => [
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
  if (job.finalMetrics) {
    lines.push(`  test loss ${job.finalMetrics.testLoss.toFixed(4)}, test accuracy ${(100 * job.finalMetrics.testAccuracy).toFixed(1)}%`);
  }
  return lines.join('\n');
}
