/**
 * The reference workload's spike on the ResNet50-shaped model, through `kennel load`'s runner:
 * the same 5× spike against the same endpoint twice in one run, first at a fixed single
 * instance (the peer), then with Application Auto Scaling (min 1, max 5, target tracking on
 * invocations per instance, 30 s cooldowns scaled to 3 s and one-second metric periods).
 *
 *   node --import tsx bench/autoscaling/index.ts [--rps 3] [--factor 5] [--target 3] [--out DIR] [--through-function]
 *
 * With --through-function the load goes to the reference function instead
 * (examples/dog-breeds/functions/classify-node, reserved concurrency 5, a role that may only
 * invoke this endpoint), which calls the endpoint: throttles are the function's 429s.
 *
 * Kennel serves from `kennel up` in a child process. Each run's timeline is printed and written
 * as timeline.json and timeline.html under --out (default bench/.out/autoscaling). The last
 * line compares the spike's p99 latency and back-pressure refusals with and without scaling.
 * On this 2-core machine five instances share two cores, so scaling buys queues and the second
 * core, not five times the compute.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KennelClient } from '../../src/cli/client.ts';
import { timelineHeader, timelineLine, summaryLines } from '../../src/cli/load-render.ts';
import { loadTimelinePage } from '../../src/cli/load-page.ts';
import { runLoad, type LoadReport } from '../../src/cli/load-runner.ts';
import { zipFolder } from '../../src/runtime/functions/function-package.ts';
import { NO_BATCHING } from '../../src/domain/serving/batching.ts';
import type { SpikeShape } from '../../src/domain/serving/traffic-shape.ts';
import { startServerProcess, type ServerProcess } from '../endpoint/client.ts';
import { ensureJpegs, ensureResnetModel, prepareHome } from '../endpoint/fixtures.ts';

const KEYS = ['p99_vs_fixed', 'spike_p99_ms', 'fixed_spike_p99_ms', 'refused', 'fixed_refused', 'failed', 'max_instances', 'scale_out_s', 'scale_in_s'];

const { values: args } = parseArgs({
  options: {
    rps: { type: 'string', default: '3' },
    factor: { type: 'string', default: '5' },
    target: { type: 'string', default: '3' },
    out: { type: 'string' },
    'through-function': { type: 'boolean', default: false },
  },
});
const throughFunction = args['through-function'] === true;
const root = fileURLToPath(new URL('../..', import.meta.url));
const cacheDir = join(root, 'bench', '.cache');
const outDir = args.out ?? join(root, 'bench', '.out', 'autoscaling');
const shape: SpikeShape = { kind: 'spike', rps: Number(args.rps), factor: Number(args.factor), atSeconds: 10, forSeconds: 30, durationSeconds: 70 };
const targetValue = Number(args.target);

const model = ensureResnetModel(root, cacheDir);
if ('skipped' in model) {
  console.log(`autoscaling bench skipped: ${model.skipped}`);
  console.log(`autoscaling: ${KEYS.map((key) => `${key}=skipped`).join(' ')}`);
  process.exit(0);
}
const [jpeg] = await ensureJpegs(cacheDir, 1);
const home = await mkdtemp(join(tmpdir(), 'kennel-bench-autoscaling-'));
let server: ServerProcess | undefined;
try {
  const prepared = await prepareHome(home, model.path, 0, { instances: 1, batching: NO_BATCHING });
  server = await startServerProcess(root, home, { threads: 0, upArgs: ['--autoscaling-period', '1'] });
  const client = new KennelClient(server.url, prepared.credentials);
  const endpointName = prepared.endpointName;
  console.log(`model: ResNet50-shaped ONNX (random weights); endpoint ${endpointName} served by \`kennel up --autoscaling-period 1\` (pid ${server.pid})`);
  console.log(`shape: ${shape.rps} requests/s, ×${shape.factor} from ${shape.atSeconds} s for ${shape.forSeconds} s, ${shape.durationSeconds} s in all; target ${targetValue} invocations per instance per second`);

  const functionName = throughFunction ? await createClassifyFunction(client, endpointName) : undefined;
  const body = functionName ? new TextEncoder().encode(JSON.stringify({ image_base64: Buffer.from(jpeg!).toString('base64') })) : jpeg;
  if (functionName) console.log(`load sent to function ${functionName} (reserved concurrency 5), which invokes ${endpointName}`);

  const run = async (label: string): Promise<LoadReport> => {
    console.log(`\n${label}\n${timelineHeader()}`);
    const report = await runLoad({
      url: server!.url,
      endpointName,
      ...(functionName ? { functionName } : {}),
      credentials: prepared.credentials,
      shape,
      body,
      onInterval: (row) => console.log(timelineLine(row)),
    });
    for (const line of summaryLines(report)) console.log(line);
    const dir = join(outDir, label.split(' ')[0]);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'timeline.json'), JSON.stringify(report, null, 2));
    await writeFile(join(dir, 'timeline.html'), loadTimelinePage(report));
    console.log(`timeline: ${join(dir, 'timeline.html')}`);
    return report;
  };

  const fixed = await run('fixed (1 instance, no autoscaling)');
  const target = { ServiceNamespace: 'sagemaker', ResourceId: `endpoint/${endpointName}/variant/AllTraffic`, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' };
  await client.applicationAutoScaling('RegisterScalableTarget', { ...target, MinCapacity: 1, MaxCapacity: 5 });
  await client.applicationAutoScaling('PutScalingPolicy', {
    ...target,
    PolicyName: 'invocations-per-instance',
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: targetValue,
      PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      ScaleInCooldown: 3,
      ScaleOutCooldown: 3,
    },
  });
  const scaled = await run('autoscaled (min 1, max 5)');
  const { ScalingActivities: activities } = await client.applicationAutoScaling<{
    ScalingActivities: { Description: string; Cause: string; StatusCode: string; StartTime: number; EndTime?: number }[];
  }>('DescribeScalingActivities', target);
  console.log('\nscaling activities (oldest first):');
  const startS = Date.parse(scaled.startedAt) / 1000;
  for (const activity of [...activities].reverse()) {
    console.log(`  +${(activity.StartTime - startS).toFixed(1)} s ${activity.Description} ${activity.StatusCode}: ${activity.Cause}`);
  }
  const firstOut = [...activities].reverse().find((activity) => /count to [2-5]\./.test(activity.Description));
  const lastIn = activities.find((activity) => /count to 1\./.test(activity.Description));

  const spikeP99 = (report: LoadReport) => {
    const spike = report.rows.filter((row) => row.endSeconds > shape.atSeconds && row.endSeconds <= shape.atSeconds + shape.forSeconds + 5);
    const p99s = spike.flatMap((row) => (row.latency ? [row.latency.p99Ms] : []));
    return p99s.length > 0 ? Math.max(...p99s) : NaN;
  };
  const figures: Record<string, string> = {
    p99_vs_fixed: (spikeP99(scaled) / spikeP99(fixed)).toFixed(3),
    spike_p99_ms: spikeP99(scaled).toFixed(1),
    fixed_spike_p99_ms: spikeP99(fixed).toFixed(1),
    refused: String(scaled.summary.backPressure.total),
    fixed_refused: String(fixed.summary.backPressure.total),
    failed: String(scaled.summary.failures.total + fixed.summary.failures.total),
    max_instances: String(Math.max(0, ...Object.values(scaled.summary.maxInstances))),
    scale_out_s: firstOut ? (firstOut.StartTime - startS - shape.atSeconds).toFixed(1) : 'none',
    scale_in_s: lastIn ? (lastIn.StartTime - startS - shape.atSeconds - shape.forSeconds).toFixed(1) : 'none',
  };
  console.log('\np99_vs_fixed: the worst one-second p99 during the spike, autoscaled over fixed (lower is better); scale_out_s and scale_in_s: seconds from the spike’s start and end');
  console.log(`autoscaling: ${KEYS.map((key) => `${key}=${figures[key]}`).join(' ')}`);
} finally {
  await server?.stop();
  await rm(home, { recursive: true, force: true });
}

/** The reference function in front of the endpoint, as `kennel apply` makes it from examples/dog-breeds/kennel.yaml. */
async function createClassifyFunction(client: KennelClient, endpointName: string): Promise<string> {
  const roleName = 'classify-bench';
  await client.iam('CreateRole', {
    RoleName: roleName,
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
  });
  await client.iam('PutRolePolicy', {
    RoleName: roleName,
    PolicyName: 'invoke-endpoint',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sagemaker:InvokeEndpoint', Resource: `arn:aws:sagemaker:us-east-1:000000000000:endpoint/${endpointName}` }] }),
  });
  const zip = await zipFolder(join(root, 'examples', 'dog-breeds', 'functions', 'classify-node'));
  await client.lambda('POST', '/2015-03-31/functions', {
    FunctionName: 'classify',
    Runtime: 'nodejs20.x',
    Handler: 'index.handler',
    Role: `arn:aws:iam::000000000000:role/${roleName}`,
    MemorySize: 256,
    Timeout: 30,
    Code: { ZipFile: zip.toString('base64') },
    Environment: { Variables: { ENDPOINT_NAME: endpointName } },
  });
  await client.lambda('PUT', '/2017-10-31/functions/classify/concurrency', { ReservedConcurrentExecutions: 5 });
  for (;;) {
    const state = await client.lambda<{ State?: string }>('GET', '/2015-03-31/functions/classify/configuration');
    if (state.State === 'Active') return 'classify';
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
