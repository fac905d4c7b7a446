/**
 * Hyperparameter tuning at the reference size (dogImages: 133 classes, 6,680 train and 835 valid
 * photo-sized JPEGs) through the ResNet50-shaped ONNX backbone, in one run (DESIGN §6: embeddings
 * are computed once and every trial trains only the head):
 *
 *   (a) the wall time of a 20-trial Bayesian tuning job (2 at a time), from
 *       CreateHyperParameterTuningJob to Completed, embedding included, against the naive way
 *       that runs the backbone again in every trial (what SageMaker does);
 *   (b) seconds per epoch of Kennel's head trainer against Debian's PyTorch on the embeddings
 *       the tuning job computed (bench/head-trainer's comparison, see bench/head-trainer/compare.ts);
 *   (c) per-trial overhead (start, data load, teardown) as a share of trial time.
 *
 *   node --import tsx bench/tuning/index.ts [--images-per-class N] [--classes N] [--trials N]
 *        [--parallel N] [--epochs N] [--head-epochs N] [--head-rounds N] [--keep-home]
 *
 * Without --images-per-class the image set is the reference size. Kennel runs in this process
 * (startKennel: SQLite, artifacts, the HTTP server on 127.0.0.1) in a fresh temporary home, so
 * its embedding cache is empty and the tuning job really computes every embedding; the bench
 * talks to it through @aws-sdk/client-sagemaker and reads the store only for what the API does
 * not show (epoch seconds, status transitions at ms precision, the moment the data was prepared).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateHyperParameterTuningJobCommand,
  DescribeHyperParameterTuningJobCommand,
  DescribeTrainingJobCommand,
  paginateListTrainingJobsForHyperParameterTuningJob,
  SageMakerClient,
  type DescribeHyperParameterTuningJobCommandOutput,
  type DescribeTrainingJobCommandOutput,
  type HyperParameterTrainingJobSummary,
} from '@aws-sdk/client-sagemaker';
import { startKennel } from '../../src/cli/start.ts';
import { PlatformEvents } from '../../src/control/events.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { TrainingJob } from '../../src/domain/training/training-job.ts';
import { embeddingKey } from '../../src/runtime/images/embedder.ts';
import type { LabelledFeatures } from '../../src/runtime/training/head-trainer.ts';
import { cpuWindow } from '../endpoint/cpu.ts';
import { ensureResnetModel } from '../endpoint/fixtures.ts';
import { compareHeadTrainers, median, TUNED_MALLOC, type HeadComparison } from '../head-trainer/compare.ts';
import { ensureImageSet, REFERENCE_SET, type ImageSetSpec } from './images.ts';

const BENCH_STARTED = performance.now();
const ROLE = 'arn:aws:iam::000000000000:role/SageMakerRole';
const IMAGE = 'kennel/image-classifier:latest';
const BUCKET = 'sagemaker-us-east-1-000000000000';
const TUNING_JOB = 'bench-tuning';
/** The brief's reference problem: what the naive backbone pass is scaled to. */
const REFERENCE_IMAGES = REFERENCE_SET.totals.train + REFERENCE_SET.totals.valid;

const { values: args } = parseArgs({
  options: {
    'images-per-class': { type: 'string' },
    classes: { type: 'string', default: String(REFERENCE_SET.classes) },
    trials: { type: 'string', default: '20' },
    parallel: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '10' },
    'head-epochs': { type: 'string', default: '5' },
    'head-rounds': { type: 'string', default: '3' },
    'keep-home': { type: 'boolean', default: false },
  },
});
const trialCount = positiveInteger('trials', args.trials);
const parallel = positiveInteger('parallel', args.parallel);
const epochs = positiveInteger('epochs', args.epochs);
const headEpochs = positiveInteger('head-epochs', args['head-epochs']);
const headRounds = positiveInteger('head-rounds', args['head-rounds']);
const classCount = positiveInteger('classes', args.classes);
const quick = args['images-per-class'] !== undefined;
const spec: ImageSetSpec = quick
  ? (() => {
      const n = positiveInteger('images-per-class', args['images-per-class']!);
      return { classes: classCount, totals: { train: n * classCount, valid: Math.max(1, Math.round(n / 8)) * classCount, test: classCount } };
    })()
  : { ...REFERENCE_SET, classes: classCount };

const root = fileURLToPath(new URL('../..', import.meta.url));
const cacheDir = join(root, 'bench', '.cache');
const elapsed = () => `[${fmt((performance.now() - BENCH_STARTED) / 1000, 0).padStart(4)} s]`;
const log = (line: string) => console.log(`${elapsed()} ${line}`);

console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(
  `workload: ${trialCount}-trial Bayesian tuning job, ${parallel} at a time; learning_rate Logarithmic 1e-4..1e-1, batch_size Categorical 32/64/128/256; ` +
    `static epochs ${epochs}, hidden_units 128; objective Minimize validation:loss${quick ? '  [QUICK MODE: not the reference size]' : ''}`,
);
const model = ensureResnetModel(root, cacheDir);
if ('skipped' in model) {
  console.log(`tuning bench skipped: ${model.skipped}`);
  console.log('tuning: speedup_vs_reforward=skipped head_epoch_vs_pytorch=skipped trial_overhead_pct=skipped wall_s=skipped');
  process.exit(0);
}

log(`images: ${spec.classes} classes, ${spec.totals.train} train + ${spec.totals.valid} valid + ${spec.totals.test} test JPEGs (drawn once into bench/.cache)`);
const images = await ensureImageSet(cacheDir, spec, (done, total) => log(`  drawing images ${done}/${total}`));
log(`images: ${images.dir} (${images.made ? `drawn in ${fmt(images.seconds, 1)} s` : 'cached'}), mean ${fmt(images.meanKb, 0)} KB, 450–500 px on the long side`);
console.log(
  `test split: Kennel requires one (the image classifier fails a job whose test/ has no images, and evaluates the final head on it), ` +
    `so ${spec.totals.test} test images (1 per class) are added; the tuning job embeds them too, and the naive backbone pass is scaled to the ${spec.totals.train + spec.totals.valid} train+valid images`,
);

// ---------------------------------------------------------------------------
// (a) the tuning job, in a fresh Kennel home

const home = await mkdtemp(join(tmpdir(), 'kennel-bench-tuning-'));
const events = new PlatformEvents();
const kennel = await startKennel({ home, host: '127.0.0.1', port: 0, logger: silentLogger, events });
const { platform } = kennel;
const client = new SageMakerClient({
  endpoint: kennel.server.url,
  region: 'us-east-1',
  credentials: { accessKeyId: kennel.admin.key.accessKeyId, secretAccessKey: kennel.admin.key.secretAccessKey },
  maxAttempts: 1,
});
log(`kennel: in-process at ${kennel.server.url}, fresh home ${home} (embedding cache empty: nothing is embedded before the tuning job runs)`);

/** Wall-clock (Date.now) marks, on the same clock as Kennel's timestamps. */
const marks: { embeddingEvents: { atMs: number; done: number; total: number }[]; preparedAtMs?: number; epochEvents: Map<string, number[]> } = {
  embeddingEvents: [],
  epochEvents: new Map(),
};
let lastEmbeddingLog = 0;
const unsubscribe = events.subscribe((event) => {
  const now = Date.now();
  if (event.kind === 'training-progress' && event.jobName === TUNING_JOB) {
    marks.embeddingEvents.push({ atMs: now, done: event.done, total: event.total });
    if (marks.embeddingEvents.length === 1) {
      log(`  images read and hashed; embedding ${event.total - event.done} of ${event.total} (${event.done} found in the cache)`);
      lastEmbeddingLog = now;
    } else if (now - lastEmbeddingLog > 30_000 || event.done === event.total) {
      lastEmbeddingLog = now;
      const first = marks.embeddingEvents[0];
      const rate = (event.done - first.done) / Math.max(0.001, (now - first.atMs) / 1000);
      const eta = rate > 0 ? (event.total - event.done) / rate : NaN;
      log(`  embedding ${event.done}/${event.total} images (${fmt((100 * event.done) / event.total, 1)}%), ${fmt(rate, 1)} images/s${event.done < event.total ? `, about ${fmt(eta / 60, 1)} min to go` : ''}`);
    }
  } else if (event.kind === 'training-epoch') {
    const list = marks.epochEvents.get(event.jobName) ?? [];
    list.push(now);
    marks.epochEvents.set(event.jobName, list);
  }
});

const channels = [
  { ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: pathToFileURL(images.dir).href } } },
  { ChannelName: 'backbone', DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: pathToFileURL(model.path).href } } },
];
const eventLoop = monitorEventLoopDelay({ resolution: 10 });
eventLoop.enable();
const cpu = cpuWindow([process.pid]);
const createSentMs = Date.now();
log(`CreateHyperParameterTuningJob ${TUNING_JOB} (backbone ${model.path}, images ${images.dir})`);
await client.send(
  new CreateHyperParameterTuningJobCommand({
    HyperParameterTuningJobName: TUNING_JOB,
    HyperParameterTuningJobConfig: {
      Strategy: 'Bayesian',
      HyperParameterTuningJobObjective: { Type: 'Minimize', MetricName: 'validation:loss' },
      ResourceLimits: { MaxNumberOfTrainingJobs: trialCount, MaxParallelTrainingJobs: parallel },
      ParameterRanges: {
        ContinuousParameterRanges: [{ Name: 'learning_rate', MinValue: '0.0001', MaxValue: '0.1', ScalingType: 'Logarithmic' }],
        CategoricalParameterRanges: [{ Name: 'batch_size', Values: ['32', '64', '128', '256'] }],
      },
      RandomSeed: 1,
    },
    TrainingJobDefinition: {
      // 256 → 224 as torchvision's ImageNet eval transform, as bench/endpoint uses.
      StaticHyperParameters: { epochs: String(epochs), hidden_units: '128', seed: '1', resize_size: '256' },
      AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
      RoleArn: ROLE,
      InputDataConfig: channels,
      OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/bench-tuning` },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    },
  }),
);
const createAnsweredMs = Date.now();
const backboneKey = embeddingKey(platform.deps.store.tuningJobs.get(TUNING_JOB)!.spec.template.backbone!);
const cachedBefore = platform.deps.store.embeddings.count(backboneKey);
log(`  answered in ${fmt((createAnsweredMs - createSentMs) / 1000, 2)} s (the backbone is probed and copied into the artifact store before the job is recorded)`);

// Progress: the tuning job through the API; in-process, the moment its data is prepared and each trial's end.
const reported = new Set<string>();
const watcher = setInterval(() => {
  const job = platform.deps.store.tuningJobs.get(TUNING_JOB);
  if (job?.preparedData && marks.preparedAtMs === undefined) {
    marks.preparedAtMs = Date.now();
    log(`  embeddings prepared and stored once for every trial (${job.preparedData.classes.length} classes); trials start`);
  }
  for (const trial of job?.trials ?? []) {
    const training = platform.deps.store.trainingJobs.get(trial.trainingJobName);
    if (!training || reported.has(training.name) || !['Completed', 'Failed', 'Stopped'].includes(training.status)) continue;
    reported.add(training.name);
    const loss = training.epochs.at(-1)?.validationLoss;
    const wall = ((training.endedAtMs ?? NaN) - training.createdAtMs) / 1000;
    const sum = training.epochs.reduce((total, epoch) => total + epoch.seconds, 0);
    log(
      `  trial ${String(trial.number + 1).padStart(2)}/${trialCount} ${training.status}: learning_rate ${Number(trial.hyperParameters.learning_rate).toExponential(2)} batch_size ${trial.hyperParameters.batch_size.padStart(3)}` +
        ` → validation:loss ${loss !== undefined ? loss.toFixed(4) : 'n/a'}; ${fmt(wall, 2)} s wall, ${fmt(sum, 2)} s in ${training.epochs.length} epochs${training.failureReason ? ` (${training.failureReason})` : ''}`,
    );
  }
}, 200);
let described: DescribeHyperParameterTuningJobCommandOutput;
for (;;) {
  described = await client.send(new DescribeHyperParameterTuningJobCommand({ HyperParameterTuningJobName: TUNING_JOB }));
  if (!['InProgress', 'Stopping'].includes(described.HyperParameterTuningJobStatus!)) break;
  await delay(1000);
}
clearInterval(watcher);
eventLoop.disable();
const cpuUsed = cpu();
unsubscribe();
if (described.HyperParameterTuningJobStatus !== 'Completed') {
  await closeKennel();
  throw new Error(`tuning job ended ${described.HyperParameterTuningJobStatus}: ${described.FailureReason ?? ''}`);
}

const summaries: HyperParameterTrainingJobSummary[] = [];
for await (const page of paginateListTrainingJobsForHyperParameterTuningJob({ client }, { HyperParameterTuningJobName: TUNING_JOB })) {
  summaries.push(...page.TrainingJobSummaries!);
}
const trials = await Promise.all(
  summaries.map(async (summary) => {
    const wire: DescribeTrainingJobCommandOutput = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: summary.TrainingJobName }));
    return analyseTrial(summary, wire, platform.deps.store.trainingJobs.get(summary.TrainingJobName!)!, marks.epochEvents.get(summary.TrainingJobName!) ?? []);
  }),
);
trials.sort((a, b) => a.createdMs - b.createdMs);

// The embeddings the trials trained on, for (b): copied out of the SharedArrayBuffers (onnxruntime-node refuses those).
const preparedDigest = platform.deps.store.tuningJobs.get(TUNING_JOB)!.preparedData!.digest;
const prepared = await platform.deps.preparedData.load(preparedDigest);
const own = (data: LabelledFeatures): LabelledFeatures => ({ features: new Float32Array(data.features), labels: Int32Array.from(data.labels) });
const headData = { train: own(prepared.splits.train), validation: own(prepared.splits.valid), classes: prepared.classes.length };
const featureSize = headData.train.features.length / headData.train.labels.length;
const cachedAfter = platform.deps.store.embeddings.count(backboneKey);
await closeKennel();

// ---- figures of (a) and (c)

const createdMs = described.CreationTime!.getTime();
const endMs = described.HyperParameterTuningEndTime!.getTime();
const wallSeconds = (endMs - createSentMs) / 1000;
const embedding = marks.embeddingEvents;
const embeddingTotal = embedding.at(-1)!.total;
const firstBatchMs = embedding[0].atMs;
const embeddedMs = embedding.find((event) => event.done === event.total)!.atMs;
const firstTrialMs = Math.min(...trials.map((trial) => trial.createdMs));
/** What a naive trial does before training its head: import the backbone, read and hash the images, embed them. */
const fixedSeconds = (firstBatchMs - createSentMs) / 1000;
const embedWindowSeconds = (embeddedMs - firstBatchMs) / 1000;
const backboneImages = spec.totals.train + spec.totals.valid;
const backboneSeconds = fixedSeconds + (embedWindowSeconds * backboneImages) / embeddingTotal;
const trialWalls = trials.map((trial) => trial.wallSeconds);
/**
 * The naive job is the measured one with the backbone pass paid by every trial instead of once.
 * The pass already uses every core of this machine, so the passes of parallel trials could not
 * overlap: each adds its whole time.
 */
const naiveSeconds = wallSeconds - backboneSeconds + trials.length * backboneSeconds;
const speedup = naiveSeconds / wallSeconds;
/** As SageMaker runs it: every trial on an instance of its own, so parallel trials' passes overlap. */
const machinePerTrialNaive = trials.reduce((total, trial) => total + backboneSeconds + trial.wallSeconds, 0) / parallel;
const overheads = trials.map((trial) => trial.overheadSeconds);
const overheadPct = (100 * sum(overheads)) / sum(trialWalls);

// ---- (b) after Kennel is closed, on an otherwise idle process

log(
  `(b) head trainer vs PyTorch on the tuning job's embeddings: ${headData.train.labels.length} × ${featureSize} → 128 → ReLU → ${headData.classes}, Adam lr 0.001, batch 64, ` +
    `validation ${headData.validation.labels.length} per epoch (embedding values: mean ${fmt(mean(headData.train.features), 3)}, max ${fmt(max(headData.train.features), 2)}); ${headRounds} rounds of ${headEpochs} timed epochs after 1 warm-up, each side, alternating`,
);
const head: HeadComparison = await compareHeadTrainers({
  train: headData.train,
  validation: headData.validation,
  featureSize,
  classCount: headData.classes,
  hyperParameters: { learning_rate: 0.001, batch_size: 64, hidden_units: 128, seed: 0 },
  timedEpochs: headEpochs,
  rounds: headRounds,
  log,
});
if (head.kind === 'skipped') log(`  PyTorch side skipped: ${head.reason}`);

// ---------------------------------------------------------------------------
// Report

console.log();
console.log(`== (a) tuning job wall time against re-running the backbone in every trial${quick ? '  [QUICK MODE]' : ''}`);
const timeline: [string, number, string][] = [
  ['CreateHyperParameterTuningJob sent → answered', createAnsweredMs, `backbone probed and imported; CreationTime ${fmt((createdMs - createSentMs) / 1000, 1)} s after the call`],
  ['→ first embedding batch begins', firstBatchMs, `scan, read and hash ${embeddingTotal} files, backbone worker opened`],
  [`→ all ${embeddingTotal} images embedded`, embeddedMs, `${fmt(embeddingTotal / embedWindowSeconds, 1)} images/s through the backbone; cache held ${cachedBefore} vectors of this backbone at the start, ${cachedAfter} at the end`],
  ['→ embeddings stored for the trials', marks.preparedAtMs ?? NaN, 'seen by a 200 ms poll of the store'],
  ['→ first trial created', firstTrialMs, ''],
  ['→ tuning job Completed (HyperParameterTuningEndTime)', endMs, `= wall_s; ${trials.length} trials in ${fmt((endMs - firstTrialMs) / 1000, 1)} s`],
];
for (const [label, atMs, note] of timeline) {
  console.log(`${label.padEnd(54)} ${fmt((atMs - createSentMs) / 1000, 1).padStart(7)} s${note ? `   (${note})` : ''}`);
}
console.log(
  `backbone pass (naive, per trial): ${fmt(backboneSeconds, 1)} s = the tuning job's own preparation: ${fmt(fixedSeconds, 1)} s before the first batch + ` +
    `${fmt(embedWindowSeconds, 1)} s of embedding × ${backboneImages}/${embeddingTotal} (train+valid only)`,
);
console.log(
  `naive = measured − one backbone pass + ${trials.length} trials × backbone pass = ${fmt(wallSeconds, 1)} − ${fmt(backboneSeconds, 1)} + ${trials.length} × ${fmt(backboneSeconds, 1)} = ${fmt(naiveSeconds, 1)} s ` +
    `(the pass uses all ${availableParallelism()} cores, so parallel trials' passes cannot overlap here)`,
);
console.log(`speedup_vs_reforward = naive / measured = ${fmt(naiveSeconds, 1)} / ${fmt(wallSeconds, 1)} = ${fmt(speedup, 2)}×  (target ≥ 10, limit ${trials.length}×)`);
console.log(
  `  with a machine per trial, as SageMaker runs it (parallel passes overlap): Σ(backbone pass + trial wall) / ${parallel} = ` +
    `(${trials.length} × ${fmt(backboneSeconds, 1)} + ${fmt(sum(trialWalls), 1)}) / ${parallel} = ${fmt(machinePerTrialNaive, 1)} s, ${fmt(machinePerTrialNaive / wallSeconds, 2)}× the measured job on one machine (limit ${fmt(trials.length / parallel, 0)}×)`,
);
console.log(
  `during the job: other processes used ${fmt(cpuUsed.othersMs / ((endMs - createSentMs) || 1), 2)} cores on average (load average now ${loadavg()[0].toFixed(2)}); ` +
    `Kennel's event loop delay p50 ${fmt(eventLoop.percentile(50) / 1e6, 1)} ms, p99 ${fmt(eventLoop.percentile(99) / 1e6, 1)} ms, max ${fmt(eventLoop.max / 1e6, 1)} ms`,
);

console.log();
console.log('== (c) per-trial overhead: trial wall time (CreationTime→TrainingEndTime) − Σ its epochs\' seconds');
console.log(
  ' #  learning_rate  batch  val:loss  epochs  Σepoch s  epoch1 s  epochN s   wall s  overhead s   queued  load  pre-epoch  between  post  upload',
);
for (const [i, trial] of trials.entries()) {
  console.log(
    `${String(i + 1).padStart(2)}  ${trial.learningRate.toExponential(2).padStart(13)}  ${String(trial.batchSize).padStart(5)}  ${fmt(trial.validationLoss, 4).padStart(8)}  ${String(trial.epochs).padStart(6)}` +
      `  ${fmt(trial.epochSeconds, 2).padStart(8)}  ${fmt(trial.firstEpoch, 3).padStart(8)}  ${fmt(trial.laterEpochMedian, 3).padStart(8)}  ${fmt(trial.wallSeconds, 2).padStart(7)}  ${fmt(trial.overheadSeconds, 2).padStart(10)}` +
      `  ${[trial.phases.queued, trial.phases.load, trial.phases.preEpoch, trial.phases.between, trial.phases.post, trial.phases.upload].map((v, k) => fmt(v, 2).padStart([7, 5, 10, 8, 5, 7][k])).join(' ')}`,
  );
}
const phaseTotal = (key: keyof TrialAnalysis['phases']) => sum(trials.map((trial) => trial.phases[key]));
console.log(
  `overhead per trial: min ${fmt(Math.min(...overheads), 2)} s, median ${fmt(median(overheads), 2)} s, max ${fmt(Math.max(...overheads), 2)} s; ` +
    `as a share of each trial: min ${fmt(Math.min(...trials.map((t) => t.overheadPct)), 1)}%, median ${fmt(median(trials.map((t) => t.overheadPct)), 1)}%, max ${fmt(Math.max(...trials.map((t) => t.overheadPct)), 1)}%`,
);
console.log(`trial_overhead_pct = 100 × Σ overhead / Σ trial wall = 100 × ${fmt(sum(overheads), 2)} / ${fmt(sum(trialWalls), 2)} = ${fmt(overheadPct, 1)}%  (target ≤ 10)`);
console.log(
  `where the overhead goes (Σ over trials, s): queued (Starting → Downloading) ${fmt(phaseTotal('queued'), 2)}, load (Downloading → Training: prepared data, checkpoint lookup) ${fmt(phaseTotal('load'), 2)}, ` +
    `pre-epoch (Training → end of epoch 1 − epoch 1: worker dispatch, copy of the data into the worker, evaluator session) ${fmt(phaseTotal('preEpoch'), 2)}, ` +
    `between epochs (epoch report gaps − epoch seconds: checkpoint copy and message, store write) ${fmt(phaseTotal('between'), 2)}, ` +
    `post (last epoch → Uploading: test evaluation, result message) ${fmt(phaseTotal('post'), 2)}, upload (Uploading → end: head model, model.tar.gz, artifacts) ${fmt(phaseTotal('upload'), 2)}`,
);
console.log(
  `hidden inside the epochs: epoch 1 takes ${fmt(median(trials.map((t) => t.firstEpoch - t.laterEpochMedian)), 3)} s more than the later ones (median over trials): ` +
    `the training-step sessions are built during the first epoch; counted as epoch time above, so the overhead share is if anything understated`,
);
console.log(`epoch times are with ${parallel} trials sharing ${availableParallelism()} cores (each trial asks ONNX Runtime for ${Math.min(2, availableParallelism())} threads: ml.m5.large)`);

console.log();
console.log('== (b) head trainer against Debian\'s PyTorch, the same arrays');
let headRatio = 'skipped';
if (head.kind === 'measured') {
  for (const line of head.torchLines) console.log(line);
  const malloc = `MALLOC_MMAP_THRESHOLD_=${TUNED_MALLOC.MALLOC_MMAP_THRESHOLD_} MALLOC_TRIM_THRESHOLD_=${TUNED_MALLOC.MALLOC_TRIM_THRESHOLD_}`;
  console.log(`kennel (onnxruntime-node, trainHead in this process, ${head.threads} threads): s_per_epoch=${fmt(head.kennelSeconds, 4)} (fastest of ${head.kennelEpochs}; median ${fmt(head.kennelMedian, 4)}); final train loss ${head.kennelFinalLoss.toFixed(6)}`);
  console.log(`torch (${malloc}, ${head.threads} threads): s_per_epoch=${fmt(head.torchSeconds, 4)} (fastest of ${head.torchEpochs}; median ${fmt(head.torchMedian, 4)}); final train loss ${head.torchFinalLoss.toFixed(6)}`);
  if (head.torchUntunedSeconds !== undefined) console.log(`torch with glibc's default malloc (reference only, not compared): s_per_epoch=${fmt(head.torchUntunedSeconds, 4)}`);
  headRatio = fmt(head.kennelSeconds / head.torchSeconds, 2);
  console.log(`head_epoch_vs_pytorch = kennel / torch = ${fmt(head.kennelSeconds, 4)} / ${fmt(head.torchSeconds, 4)} = ${headRatio}  (target ≤ 1.2; fastest epochs, tuned allocator)`);
} else {
  console.log(`skipped: ${head.reason}${head.kennelSeconds !== undefined ? `; kennel alone: s_per_epoch=${fmt(head.kennelSeconds, 4)}` : ''}`);
}

console.log();
console.log('summary');
console.log(`  figure                  value      target   what`);
console.log(`  speedup_vs_reforward    ${fmt(speedup, 2).padEnd(9)}  ≥ 10     naive ${fmt(naiveSeconds, 1)} s / measured ${fmt(wallSeconds, 1)} s`);
console.log(`  head_epoch_vs_pytorch   ${headRatio.padEnd(9)}  ≤ 1.2    ${head.kind === 'measured' ? `${fmt(head.kennelSeconds, 3)} s / ${fmt(head.torchSeconds, 3)} s per epoch` : head.reason}`);
console.log(`  trial_overhead_pct      ${fmt(overheadPct, 1).padEnd(9)}  ≤ 10     ${fmt(sum(overheads), 1)} s of ${fmt(sum(trialWalls), 1)} s trial time`);
console.log(`  wall_s                  ${fmt(wallSeconds, 1).padEnd(9)}           CreateHyperParameterTuningJob → Completed, embedding ${embeddingTotal} images included`);
console.log(`  bench wall time ${fmt((performance.now() - BENCH_STARTED) / 1000, 1)} s${quick ? '  [QUICK MODE: not the reference size]' : ''}`);
console.log(`tuning: speedup_vs_reforward=${fmt(speedup, 2)} head_epoch_vs_pytorch=${headRatio} trial_overhead_pct=${fmt(overheadPct, 1)} wall_s=${fmt(wallSeconds, 1)}`);

// ---------------------------------------------------------------------------

interface TrialAnalysis {
  name: string;
  learningRate: number;
  batchSize: number;
  validationLoss: number;
  epochs: number;
  createdMs: number;
  wallSeconds: number;
  epochSeconds: number;
  firstEpoch: number;
  laterEpochMedian: number;
  overheadSeconds: number;
  overheadPct: number;
  /** Where the overhead goes, seconds; they add up to overheadSeconds. */
  phases: { queued: number; load: number; preEpoch: number; between: number; post: number; upload: number };
}

/**
 * The wire gives CreationTime, TrainingStartTime and TrainingEndTime; the store adds epochs[].seconds
 * and the secondary status transitions; the bench's own clock, when each epoch was reported.
 */
function analyseTrial(summary: HyperParameterTrainingJobSummary, wire: DescribeTrainingJobCommandOutput, job: TrainingJob, epochMarks: number[]): TrialAnalysis {
  const created = wire.CreationTime!.getTime();
  const ended = wire.TrainingEndTime!.getTime();
  const wallSeconds = (ended - created) / 1000;
  const seconds = job.epochs.map((epoch) => epoch.seconds);
  const epochSeconds = sum(seconds);
  const startOf = (status: string) => job.secondaryStatusTransitions.find((transition) => transition.status === status)?.startMs;
  const downloading = startOf('Downloading') ?? wire.TrainingStartTime!.getTime();
  const training = startOf('Training') ?? downloading;
  const uploading = startOf('Uploading') ?? ended;
  const firstEpochEnd = epochMarks[0] ?? training;
  const lastEpochEnd = epochMarks.at(-1) ?? uploading;
  const preEpoch = (firstEpochEnd - training) / 1000 - (seconds[0] ?? 0);
  const between = (lastEpochEnd - firstEpochEnd) / 1000 - sum(seconds.slice(1));
  const overheadSeconds = wallSeconds - epochSeconds;
  return {
    name: summary.TrainingJobName!,
    learningRate: Number(summary.TunedHyperParameters!.learning_rate),
    batchSize: Number(summary.TunedHyperParameters!.batch_size),
    validationLoss: summary.FinalHyperParameterTuningJobObjectiveMetric?.Value ?? NaN,
    epochs: seconds.length,
    createdMs: created,
    wallSeconds,
    epochSeconds,
    firstEpoch: seconds[0] ?? NaN,
    laterEpochMedian: seconds.length > 1 ? median(seconds.slice(1)) : NaN,
    overheadSeconds,
    overheadPct: (100 * overheadSeconds) / wallSeconds,
    phases: {
      queued: (downloading - created) / 1000,
      load: (training - downloading) / 1000,
      preEpoch,
      between,
      post: (uploading - lastEpochEnd) / 1000,
      upload: (ended - uploading) / 1000,
    },
  };
}

async function closeKennel(): Promise<void> {
  client.destroy();
  await kennel.close();
  if (args['keep-home']) log(`kennel home kept: ${home}`);
  else await rm(home, { recursive: true, force: true });
}

function mean(values: Float32Array): number {
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}

function max(values: Float32Array): number {
  let best = -Infinity;
  for (const value of values) if (value > best) best = value;
  return best;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number, got ${text}`);
  return value;
}
