/**
 * Head-training speed at the reference size (6,680 × 2048 → 128 → ReLU → 133, Adam, batch 64):
 * Kennel's ONNX Runtime trainer against the same head trained by Debian's PyTorch in the same run,
 * on the same synthetic features. Both sides time whole epochs (training plus the validation
 * pass) after one warm-up epoch. The two alternate for several rounds, and each side's figure is
 * its fastest epoch: on a shared 2-core machine other load comes and goes within seconds and only
 * ever adds time (PyTorch's OpenMP threads suffer worst, up to 100× when another process holds a
 * core), so the fastest epoch is the best estimate of either side on an idle machine. Medians and
 * the load average are printed too, to show how noisy the run was.
 *
 *   node --import tsx bench/head-trainer/index.ts [epochs] [rounds]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomNormal, seededRandom } from '../../src/core/random.ts';
import type { HeadHyperParameters } from '../../src/domain/training/training-job.ts';
import { trainHead, type LabelledFeatures } from '../../src/runtime/training/head-trainer.ts';

const TRAIN_SAMPLES = 6680;
const VALIDATION_SAMPLES = 835;
const FEATURES = 2048;
const CLASSES = 133;
const TIMED_EPOCHS = Number(process.argv[2] ?? 5);
const ROUNDS = Number(process.argv[3] ?? 3);
const hyperParameters: HeadHyperParameters = { learning_rate: 0.001, batch_size: 64, epochs: TIMED_EPOCHS + 1, hidden_units: 128, seed: 0 };

/**
 * glibc returns freed blocks over 128 KB to the kernel at once, so PyTorch re-faults its
 * per-step buffers on every step; raising both thresholds keeps them mapped. DESIGN §6: compare
 * against the tuned figure.
 */
const TUNED_MALLOC = { MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '268435456' };

/** Non-negative, class-dependent features, shaped like pooled ReLU activations of a ResNet. */
function syntheticFeatures(count: number, seed: number): LabelledFeatures {
  const random = seededRandom(seed);
  const centres = seededRandom(42);
  const centre = Float32Array.from({ length: CLASSES * FEATURES }, () => (centres.next() < 0.1 ? centres.next() * 2 : 0));
  const features = new Float32Array(count * FEATURES);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = Math.floor(random.next() * CLASSES);
    labels[i] = label;
    for (let f = 0; f < FEATURES; f++) {
      features[i * FEATURES + f] = Math.max(0, centre[label * FEATURES + f] + randomNormal(random) * 0.5);
    }
  }
  return { features, labels };
}

const PYTORCH_SCRIPT = String.raw`
import sys, time, re
import numpy as np
import torch
from torch import nn

folder, n_train, n_valid, features, classes, hidden, batch, lr, epochs, threads = sys.argv[1:]
n_train, n_valid, features, classes, hidden, batch, epochs, threads = map(int, (n_train, n_valid, features, classes, hidden, batch, epochs, threads))
lr = float(lr)
torch.set_num_threads(threads)
torch.manual_seed(0)

def load(name, n):
    x = torch.from_numpy(np.fromfile(f"{folder}/{name}_x.f32", dtype=np.float32).reshape(n, features))
    y = torch.from_numpy(np.fromfile(f"{folder}/{name}_y.i64", dtype=np.int64))
    return x, y

train_x, train_y = load("train", n_train)
valid_x, valid_y = load("valid", n_valid)
model = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, classes))
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
criterion = nn.CrossEntropyLoss()

config = torch.__config__.show()
blas = re.search(r"BLAS_INFO=(\S+)", config)
print("torch_version=" + torch.__version__, flush=True)
print("torch_blas_build=" + (blas.group(1).rstrip(",") if blas else "unknown"), flush=True)

times, losses = [], []
for epoch in range(epochs):
    start = time.perf_counter()
    model.train()
    order = torch.randperm(n_train)
    loss_sum = 0.0
    for first in range(0, n_train, batch):
        rows = order[first:first + batch]
        optimizer.zero_grad()
        loss = criterion(model(train_x[rows]), train_y[rows])
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(rows)
    model.eval()
    with torch.no_grad():
        criterion(model(valid_x), valid_y).item()
    times.append(time.perf_counter() - start)
    losses.append(loss_sum / n_train)

with open("/proc/self/maps") as maps:
    libraries = sorted({line.split()[-1].rsplit("/", 1)[-1] for line in maps if re.search(r"blas|lapack|mkl", line.split()[-1])})
print("torch_blas_loaded=" + (",".join(libraries) or "none"), flush=True)
print(f"seconds={','.join(f'{t:.4f}' for t in times)}", flush=True)
print(f"final_train_loss={losses[-1]:.6f}", flush=True)
`;

interface PeerResult {
  /** Timed epochs, warm-up excluded. */
  seconds: number[];
  finalTrainLoss: number;
  lines: string[];
}

function runPyTorch(folder: string, env: Record<string, string>): PeerResult | undefined {
  const result = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      PYTORCH_SCRIPT,
      folder,
      ...[TRAIN_SAMPLES, VALIDATION_SAMPLES, FEATURES, CLASSES, hyperParameters.hidden_units, hyperParameters.batch_size].map(String),
      String(hyperParameters.learning_rate),
      String(hyperParameters.epochs),
      String(availableParallelism()),
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    console.log(`torch: not run (${(result.stderr || result.error?.message || 'unknown error').trim().split('\n').at(-1)})`);
    return undefined;
  }
  const lines = result.stdout.trim().split('\n');
  const value = (key: string) => lines.find((line) => line.startsWith(key + '='))!.slice(key.length + 1);
  return {
    seconds: value('seconds').split(',').map(Number).slice(1),
    finalTrainLoss: Number(value('final_train_loss')),
    lines: lines.filter((line) => line.startsWith('torch_')),
  };
}

function torchImportable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
}

function fastest(values: number[]): number {
  return Math.min(...values);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const format = (value: number) => value.toFixed(4);

const load = () => loadavg()[0].toFixed(2);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, load average ${load()}`);
console.log(
  `workload: ${TRAIN_SAMPLES} x ${FEATURES} -> ${hyperParameters.hidden_units} -> ReLU -> ${CLASSES}, Adam lr ${hyperParameters.learning_rate}, batch ${hyperParameters.batch_size}, validation ${VALIDATION_SAMPLES} per epoch; ${ROUNDS} rounds of ${TIMED_EPOCHS} timed epochs after 1 warm-up, each side`,
);
const train = syntheticFeatures(TRAIN_SAMPLES, 1);
const validation = syntheticFeatures(VALIDATION_SAMPLES, 2);
const folder = mkdtempSync(join(tmpdir(), 'kennel-bench-head-'));
const torchAvailable = torchImportable();
const ours: number[] = [];
const torch: number[] = [];
let finalTrainLoss = Number.NaN;
let torchResult: PeerResult | undefined;
try {
  if (torchAvailable) {
    // PyTorch trains on exactly these features, read from raw files.
    for (const [name, data] of [['train', train], ['valid', validation]] as const) {
      writeFileSync(join(folder, `${name}_x.f32`), data.features);
      writeFileSync(join(folder, `${name}_y.i64`), BigInt64Array.from(data.labels, BigInt));
    }
  } else {
    console.log('torch: /usr/bin/python3 cannot import torch and numpy (apt-get install python3-torch libopenblas0-openmp)');
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const result = await trainHead({ train, validation, featureSize: FEATURES, classCount: CLASSES, hyperParameters });
    const seconds = result.epochs.slice(1).map((e) => e.seconds);
    ours.push(...seconds);
    finalTrainLoss = result.epochs.at(-1)!.trainLoss;
    console.log(`round ${round} kennel (onnxruntime-node): s/epoch ${seconds.map(format).join(' ')}; final train loss ${finalTrainLoss.toFixed(6)}, validation accuracy ${result.epochs.at(-1)!.validationAccuracy.toFixed(4)}`);
    if (!torchAvailable) continue;
    torchResult = runPyTorch(folder, TUNED_MALLOC);
    if (!torchResult) break;
    torch.push(...torchResult.seconds);
    console.log(`round ${round} torch (tuned malloc): s/epoch ${torchResult.seconds.map(format).join(' ')}; final train loss ${torchResult.finalTrainLoss.toFixed(6)}`);
  }
  if (torchResult) {
    for (const line of torchResult.lines) console.log(line);
    const untuned = runPyTorch(folder, {});
    if (untuned) console.log(`torch with glibc's default malloc (for reference, not compared): s_per_epoch=${format(fastest(untuned.seconds))}`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}

console.log(`load average after the run: ${load()}`);
const oursPerEpoch = fastest(ours);
console.log(`kennel: s_per_epoch=${format(oursPerEpoch)} (fastest of ${ours.length} epochs; median ${format(median(ours))})`);
const torchPerEpoch = torch.length > 0 ? fastest(torch) : undefined;
if (torchPerEpoch !== undefined) {
  const malloc = `MALLOC_MMAP_THRESHOLD_=${TUNED_MALLOC.MALLOC_MMAP_THRESHOLD_} MALLOC_TRIM_THRESHOLD_=${TUNED_MALLOC.MALLOC_TRIM_THRESHOLD_}`;
  console.log(
    `torch (${malloc}, ${availableParallelism()} threads): s_per_epoch=${format(torchPerEpoch)} (fastest of ${torch.length} epochs; median ${format(median(torch))})`,
  );
}
const torchFigure = torchPerEpoch !== undefined ? format(torchPerEpoch) : 'skipped';
const ratio = torchPerEpoch !== undefined ? (torchPerEpoch / oursPerEpoch).toFixed(2) : 'skipped';
console.log(`head-trainer: s_per_epoch=${format(oursPerEpoch)} torch_s_per_epoch=${torchFigure} vs_torch=${ratio} final_train_loss=${finalTrainLoss.toFixed(6)}`);
