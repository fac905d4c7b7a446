import type { Command } from 'commander';
import { Option } from 'commander';
import { createLogger, type LogLevel } from '../core/logger.ts';
import { DEFAULT_AUTOSCALING, DEFAULT_LIMITS } from '../control/deps.ts';
import { PlatformEvents } from '../control/events.ts';
import { ensureSampleEndpoint, SAMPLE_NAMES } from '../control/sample-workflow.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import { globalOptions, kennelHome } from './context.ts';
import { ProgressDisplay } from './progress.ts';
import { startKennel } from './start.ts';
import { curlExample, sdkExample } from './usage.ts';

interface UpOptions {
  host: string;
  port: string;
  sample?: boolean;
  allowFetchHost: string[];
  allowPrivateCidr: string[];
  threads: string;
  maxTrainingJobs: string;
  maxRequestsPerInstance: string;
  autoscalingPeriod: string;
  logLevel: LogLevel;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('Start the Kennel server (state in $KENNEL_HOME, default ./.kennel)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--sample', 'generate the sample images, train, and deploy endpoint sample-classifier')
    .option('--allow-fetch-host <pattern...>', 'hosts endpoints may fetch image URLs from (e.g. images.example.com, *.example.com; default: any public host)', [])
    .option('--allow-private-cidr <cidr...>', 'non-public address ranges endpoints may fetch from (refused by default)', [])
    .option('--threads <n>', "ONNX Runtime threads per serving session (0 = the variant's instance type decides)", '0')
    .option('--max-training-jobs <n>', 'training jobs that may run at once; more are refused with ResourceLimitExceeded', String(DEFAULT_LIMITS.maxConcurrentTrainingJobs))
    .option(
      '--max-requests-per-instance <n>',
      'requests an endpoint instance holds, running or waiting; beyond that on every instance, InvokeEndpoint answers 503 ServiceUnavailable',
      String(DEFAULT_LIMITS.maxRequestsPerInstance),
    )
    .option('--autoscaling-period <seconds>', "the autoscaler's metric period (CloudWatch's 60 s; shorter for local experiments)", String(DEFAULT_AUTOSCALING.metricPeriodMs / 1000))
    .addOption(new Option('--log-level <level>', 'log detail').choices(['debug', 'info', 'warn', 'error']).default('warn'))
    .action(async (options: UpOptions, command: Command) => {
      await up(options, kennelHome(globalOptions(command)));
    });
}

async function up(options: UpOptions, home: string): Promise<void> {
  const port = Number(options.port);
  const threads = Number(options.threads);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535 (got ${options.port})`);
  if (!Number.isInteger(threads) || threads < 0) throw new Error(`--threads must be a whole number ≥ 0 (got ${options.threads})`);
  const maxTrainingJobs = Number(options.maxTrainingJobs);
  if (!Number.isInteger(maxTrainingJobs) || maxTrainingJobs < 1) {
    throw new Error(`--max-training-jobs must be a whole number ≥ 1 (got ${options.maxTrainingJobs})`);
  }
  const maxRequestsPerInstance = Number(options.maxRequestsPerInstance);
  if (!Number.isInteger(maxRequestsPerInstance) || maxRequestsPerInstance < 1) {
    throw new Error(`--max-requests-per-instance must be a whole number ≥ 1 (got ${options.maxRequestsPerInstance})`);
  }
  const autoscalingPeriod = Number(options.autoscalingPeriod);
  if (!Number.isInteger(autoscalingPeriod) || autoscalingPeriod < 1) {
    throw new Error(`--autoscaling-period must be a whole number of seconds ≥ 1 (got ${options.autoscalingPeriod})`);
  }

  const events = new PlatformEvents();
  const progress = new ProgressDisplay();
  const unfollow = progress.follow(events);
  const kennel = await startKennel({
    home,
    host: options.host,
    port,
    logger: createLogger(options.logLevel),
    events,
    servingThreads: threads,
    limits: { maxConcurrentTrainingJobs: maxTrainingJobs, maxRequestsPerInstance },
    autoscaling: { metricPeriodMs: autoscalingPeriod * 1000 },
    urlFetchPolicy: {
      ...(options.allowFetchHost.length > 0 ? { allowHosts: options.allowFetchHost } : {}),
      allowPrivateCidrs: options.allowPrivateCidr,
    },
  });
  const shutdown = async (signal: string) => {
    process.stdout.write(`\n${signal}: stopping Kennel\n`);
    await kennel.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const say = (line = '') => process.stdout.write(line + '\n');
  say(`Kennel listening on ${kennel.server.url}  (state: ${kennel.dirs.home})`);
  say(kennel.admin.created ? `Created admin credentials in ${kennel.dirs.credentialsFile} (profile kennel)` : `Credentials: ${kennel.dirs.credentialsFile} (profile kennel)`);

  if (options.sample) {
    const sample = await ensureSampleEndpoint(kennel.platform, kennel.dirs.samplesDir, (done, total) =>
      progress.update('images', 'Generating images', done, total),
    );
    progress.stop();
    unfollow();
    const job = sample.trainingJob;
    const final = job.finalMetrics;
    say();
    say(`Training job ${job.name}: ${job.status}, ${job.epochs.length} epochs`);
    if (final) say(`Test accuracy ${(100 * final.testAccuracy).toFixed(1)}%  (test loss ${final.testLoss.toFixed(4)})`);
    say(`endpoint ${SAMPLE_NAMES.endpoint} ${sample.endpoint.status}`);
    const ctx = {
      url: kennel.server.url,
      endpointName: SAMPLE_NAMES.endpoint,
      credentialsFile: kennel.dirs.credentialsFile,
      imagePath: sample.exampleImage.path,
      region: DEFAULT_REGION,
    };
    say();
    say(`Classify a test image of class ${sample.exampleImage.folder} with curl:`);
    say();
    say(curlExample(ctx));
    say();
    say('or with the AWS SDK for JavaScript v3:');
    say();
    say(sdkExample(ctx));
    say();
  } else {
    unfollow();
  }
  say('Ready. Press Ctrl+C to stop.');
}
