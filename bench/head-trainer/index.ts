/**
 * Head-training speed at the reference size (6,680 × 2048 → 128 → ReLU → 133, Adam, batch 64):
 * Kennel's ONNX Runtime trainer against the same head trained by Debian's PyTorch in the same run,
 * on the same synthetic features, by the rules of compare.ts (fastest of alternating rounds).
 *
 *   node --import tsx bench/head-trainer/index.ts [epochs] [rounds]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { compareHeadTrainers, TUNED_MALLOC } from './compare.ts';
import { CLASSES, FEATURES, syntheticFeatures } from './synthetic-features.ts';

const TRAIN_SAMPLES = 6680;
const VALIDATION_SAMPLES = 835;
const TIMED_EPOCHS = Number(process.argv[2] ?? 5);
const ROUNDS = Number(process.argv[3] ?? 3);
const hyperParameters = { learning_rate: 0.001, batch_size: 64, hidden_units: 128, seed: 0 };

const format = (value: number) => value.toFixed(4);
const load = () => loadavg()[0].toFixed(2);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, load average ${load()}`);
console.log(
  `workload: ${TRAIN_SAMPLES} x ${FEATURES} -> ${hyperParameters.hidden_units} -> ReLU -> ${CLASSES}, Adam lr ${hyperParameters.learning_rate}, batch ${hyperParameters.batch_size}, validation ${VALIDATION_SAMPLES} per epoch; ${ROUNDS} rounds of ${TIMED_EPOCHS} timed epochs after 1 warm-up, each side`,
);
const result = await compareHeadTrainers({
  train: syntheticFeatures(TRAIN_SAMPLES, 1),
  validation: syntheticFeatures(VALIDATION_SAMPLES, 2),
  featureSize: FEATURES,
  classCount: CLASSES,
  hyperParameters,
  timedEpochs: TIMED_EPOCHS,
  rounds: ROUNDS,
  log: (line) => console.log(line),
});
console.log(`load average after the run: ${load()}`);
if (result.kind === 'skipped') {
  console.log(`torch: ${result.reason}`);
  const ours = result.kennelSeconds;
  console.log(`head-trainer: s_per_epoch=${ours !== undefined ? format(ours) : 'n/a'} torch_s_per_epoch=skipped vs_torch=skipped final_train_loss=n/a`);
} else {
  for (const line of result.torchLines) console.log(line);
  if (result.torchUntunedSeconds !== undefined) console.log(`torch with glibc's default malloc (for reference, not compared): s_per_epoch=${format(result.torchUntunedSeconds)}`);
  const malloc = `MALLOC_MMAP_THRESHOLD_=${TUNED_MALLOC.MALLOC_MMAP_THRESHOLD_} MALLOC_TRIM_THRESHOLD_=${TUNED_MALLOC.MALLOC_TRIM_THRESHOLD_}`;
  console.log(`kennel: s_per_epoch=${format(result.kennelSeconds)} (fastest of ${result.kennelEpochs} epochs; median ${format(result.kennelMedian)})`);
  console.log(`torch (${malloc}, ${result.threads} threads): s_per_epoch=${format(result.torchSeconds)} (fastest of ${result.torchEpochs} epochs; median ${format(result.torchMedian)})`);
  console.log(
    `head-trainer: s_per_epoch=${format(result.kennelSeconds)} torch_s_per_epoch=${format(result.torchSeconds)} vs_torch=${(result.torchSeconds / result.kennelSeconds).toFixed(2)} final_train_loss=${result.kennelFinalLoss.toFixed(6)}`,
  );
}
