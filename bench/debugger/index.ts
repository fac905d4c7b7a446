/**
 * What the debugger costs a training job, in one run: the same built-in image-classifier job at
 * the reference size (6,680 × 2048 → 128 → ReLU → 133, Adam, batch 64, 10 epochs, synthetic
 * embeddings so that no backbone runs), through the control plane as any job runs (worker
 * thread, checkpoints, the job's log), with and without the debugger at its defaults: the hook
 * saving tensors every DEFAULT_SAVE_INTERVAL steps, every step's loss and timing written to the
 * trace file, the system sampled every DEFAULT_PROFILING_INTERVAL_MS, and the training rules
 * (all but PoorWeightInitialization, which asks for more recording: see --recording) and
 * ProfilerReport evaluated as the trace grows; without, the profiler disabled and nothing recorded. Rounds alternate; the fastest round of
 * each side counts, as drift on this shared machine only ever slows a round. What is timed is the
 * job's Training phase, from its start to the model's upload.
 *
 *   npm run bench -- debugger [--epochs 30] [--rounds 10] [--recording defaults|all|profiler]
 *
 * (30 epochs: about 3.5 s a job here; at the algorithm's default of 10, a job lasts about a second
 * and this machine's noise, several percent from round to round, swamps what is measured.)
 *
 * Last line: `debugger: overhead_pct=<n>` (target ≤ 5).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPlatform } from '../../src/control/platform.ts';
import { createResource } from '../../src/control/sagemaker-resources.ts';
import { waitForTrainingJob } from '../../src/control/wait.ts';
import { importBackbone } from '../../src/control/backbones.ts';
import { BUILT_IN_RULES } from '../../src/domain/debugger/built-in-rules.ts';
import { DEBUGGER_RULES_IMAGE, parseDebuggerConfiguration } from '../../src/domain/debugger/configuration.ts';
import { initialEvaluations } from '../../src/domain/debugger/evaluation.ts';
import { DEFAULT_PROFILING_INTERVAL_MS, DEFAULT_SAVE_INTERVAL } from '../../src/domain/debugger/hook.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../../src/domain/training/algorithms.ts';
import type { TrainingJob } from '../../src/domain/training/training-job.ts';
import { createMemoryStore } from '../../src/store/memory/memory-store.ts';
import { testControlDeps } from '../../src/testing/control-deps.ts';
import { CLASSES, FEATURES, syntheticFeatures } from '../head-trainer/synthetic-features.ts';

const TARGET_OVERHEAD_PCT = 5;
const { values: args } = parseArgs({ options: { epochs: { type: 'string', default: '30' }, rounds: { type: 'string', default: '10' }, recording: { type: 'string', default: 'defaults' } } });
const EPOCHS = Number(args.epochs);
const ROUNDS = Number(args.rounds);
if (!(Number.isInteger(EPOCHS) && EPOCHS > 0 && Number.isInteger(ROUNDS) && ROUNDS > 0)) throw new Error('--epochs and --rounds must be positive integers');

console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);
const dir = await mkdtemp(join(tmpdir(), 'kennel-bench-debugger-'));
const platform = createPlatform(testControlDeps(dir, createMemoryStore()));
const { deps } = platform;
const classes = Array.from({ length: CLASSES }, (_, i) => `class-${i}`);
const digest = await deps.preparedData.save({
  classes,
  splits: { train: syntheticFeatures(6680, 1), valid: syntheticFeatures(835, 2), test: syntheticFeatures(836, 3) },
  fingerprint: 'bench-debugger',
});
// The model names its backbone by digest: the sample's stands in, at the reference feature size.
const backbone = { ...(await importBackbone(deps, { sample: true })), featureSize: FEATURES };
const head = { learning_rate: 0.001, batch_size: 64, hidden_units: 128, epochs: EPOCHS, seed: 0 };
const rules = BUILT_IN_RULES.map((rule) => ({ name: rule.name, evaluatorImage: DEBUGGER_RULES_IMAGE, parameters: { rule_to_invoke: rule.name } }));
// `--recording defaults` (the default): the hook and the profiler at their default settings, and every rule that needs
// nothing recorded beyond them, which is all but PoorWeightInitialization (it has the first steps saved too);
// `all`: every rule; `profiler`: the system and each step's timing only, no tensors.
const RECORDING = args.recording;
if (!['profiler', 'defaults', 'all'].includes(RECORDING)) throw new Error('--recording is defaults, all or profiler');
const debugRules = rules.filter((r) => BUILT_IN_RULES.find((b) => b.name === r.name)!.kind === 'debug' && (RECORDING === 'all' || r.name !== 'PoorWeightInitialization'));
const debuggerSpec = parseDebuggerConfiguration(
  { rules: RECORDING === 'profiler' ? [] : debugRules, profilerRules: rules.filter((r) => r.name === 'ProfilerReport') },
  'bench',
);
console.log(`workload: 6680 x ${FEATURES} -> 128 -> ReLU -> ${CLASSES}, batch 64, ${EPOCHS} epochs per job, ${ROUNDS} rounds per side, alternating`);
console.log(
  `recording: tensors every ${DEFAULT_SAVE_INTERVAL} steps, system every ${DEFAULT_PROFILING_INTERVAL_MS} ms, rules ${[...debuggerSpec.rules, ...debuggerSpec.profilerRules].map((r) => r.rule).join(', ')}`,
);

/** A job as CreateTrainingJob records it, on the prepared embeddings (as a tuning trial's are). */
function jobRecord(name: string, recording: boolean): TrainingJob {
  const now = Date.now();
  return {
    name,
    spec: {
      algorithm: 'image-classifier',
      trainingImage: IMAGE_CLASSIFIER_IMAGE,
      trainingInputMode: 'File',
      roleArn: 'arn:aws:iam::000000000000:role/KennelExecutionRole',
      hyperParameters: Object.fromEntries(Object.entries(head).map(([k, v]) => [k, String(v)])),
      channels: [],
      outputPath: `file://${join(dir, 'output')}`,
      instanceType: 'ml.m5.large',
      instanceCount: 1,
      volumeSizeInGB: 30,
      maxRuntimeSeconds: 86_400,
      metricDefinitions: [],
      preparedDataDigest: digest,
      backbone,
      head,
      // Without recording: no hook, no rules, and the profiler (on by default) disabled.
      debugger: recording ? debuggerSpec : { rules: [], profiler: { disabled: true }, profilerRules: [] },
    },
    tags: [],
    status: 'InProgress',
    secondaryStatus: 'Starting',
    secondaryStatusTransitions: [{ status: 'Starting', startMs: now, message: 'bench' }],
    epochs: [],
    ...(recording ? { ruleEvaluations: initialEvaluations([...debuggerSpec.rules, ...debuggerSpec.profilerRules], now) } : {}),
    createdAtMs: now,
    lastModifiedAtMs: now,
  };
}

async function round(name: string, recording: boolean): Promise<{ seconds: number; detail: string }> {
  createResource(deps.store.trainingJobs, 'training-job', jobRecord(name, recording));
  platform.controller.kick();
  const job = await waitForTrainingJob(platform, name);
  if (job.status !== 'Completed') throw new Error(`${name} ended ${job.status}: ${job.failureReason}`);
  const training = job.secondaryStatusTransitions.filter((t) => t.status === 'Training').at(-1)!;
  const uploading = job.secondaryStatusTransitions.find((t) => t.status === 'Uploading')!;
  const seconds = (uploading.startMs - training.startMs) / 1000;
  // The epochs' own times, as the trainer measured them in its worker thread: the rest of the phase is the control plane's.
  const epochs = ` (epochs ${job.epochs.reduce((sum, e) => sum + e.seconds, 0).toFixed(3)} s)`;
  if (!recording) return { seconds, detail: epochs };
  const { trace } = await deps.traces.read(name);
  const issues = (job.ruleEvaluations ?? []).filter((e) => e.status === 'IssuesFound').map((e) => e.configurationName);
  return {
    seconds,
    detail: `${epochs} (${trace.steps.length} steps, ${trace.steps.filter((s) => s.tensors.length > 0).length} with tensors, ${trace.system.length} system samples; issues: ${issues.join(', ') || 'none'})`,
  };
}

try {
  // Both kinds once first: sessions, JIT, page cache.
  await round('warm-up-plain', false);
  await round('warm-up-recording', true);
  const plain: number[] = [];
  const recorded: number[] = [];
  const pairs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const inRound: Record<string, number> = {};
    for (const recording of r % 2 === 0 ? [false, true] : [true, false]) {
      const result = await round(`${recording ? 'recording' : 'plain'}-${r + 1}`, recording);
      (recording ? recorded : plain).push(result.seconds);
      inRound[String(recording)] = result.seconds;
      console.log(`round ${r + 1} ${recording ? 'recording' : 'plain    '}: ${result.seconds.toFixed(3)} s${result.detail}`);
    }
    pairs.push(inRound.true! / inRound.false! - 1);
  }
  const fastest = (values: number[]) => Math.min(...values);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const overheadPct = ((fastest(recorded) - fastest(plain)) / fastest(plain)) * 100;
  const medianPct = ((median(recorded) - median(plain)) / median(plain)) * 100;
  console.log(`fastest round: plain ${fastest(plain).toFixed(3)} s, recording ${fastest(recorded).toFixed(3)} s; medians ${median(plain).toFixed(3)} s and ${median(recorded).toFixed(3)} s (${medianPct.toFixed(2)}%)`);
  console.log(`each round's recording job against its plain one: ${pairs.map((p) => `${(p * 100).toFixed(1)}%`).join(', ')}; median ${(median(pairs) * 100).toFixed(2)}%`);
  console.log(`target overhead ≤ ${TARGET_OVERHEAD_PCT}%: ${overheadPct <= TARGET_OVERHEAD_PCT ? 'met' : 'MISSED'}`);
  console.log(`debugger: overhead_pct=${overheadPct.toFixed(2)}`);
} finally {
  await platform.controller.stop();
  await deps.trainers.close();
  await rm(dir, { recursive: true, force: true });
}
