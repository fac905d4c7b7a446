/**
 * Kennel's head trainer against Debian's PyTorch on the same arrays, used by bench/head-trainer
 * (synthetic features) and bench/tuning (the embeddings its tuning job computed). Both sides time
 * whole epochs (training plus the validation pass) after one warm-up epoch. The two alternate for
 * several rounds, and each side's figure is its fastest epoch: on a shared 2-core machine other
 * load comes and goes within seconds and only ever adds time (PyTorch's OpenMP threads suffer
 * worst, up to 100× when another process holds a core), so the fastest epoch is the best estimate
 * of either side on an idle machine. Medians are kept too, to show how noisy the run was.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeadHyperParameters } from '../../src/domain/training/training-job.ts';
import { trainHead, type LabelledFeatures } from '../../src/runtime/training/head-trainer.ts';

const PYTHON = '/usr/bin/python3';

/**
 * glibc returns freed blocks over 128 KB to the kernel at once, so PyTorch re-faults its
 * per-step buffers on every step; raising both thresholds keeps them mapped. DESIGN §6: compare
 * against the tuned figure.
 */
export const TUNED_MALLOC = { MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '268435456' };

/** bench/head-trainer's script, unchanged: whole epochs (training plus the validation pass), BLAS reported. */
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

export interface HeadComparisonOptions {
  train: LabelledFeatures;
  validation: LabelledFeatures;
  featureSize: number;
  classCount: number;
  /** learning_rate, batch_size, hidden_units, seed; epochs is timedEpochs + 1 (one warm-up). */
  hyperParameters: Omit<HeadHyperParameters, 'epochs'>;
  timedEpochs: number;
  rounds: number;
  log: (line: string) => void;
}

export type HeadComparison =
  | {
      kind: 'measured';
      /** Fastest epoch of each side, warm-ups excluded. */
      kennelSeconds: number;
      torchSeconds: number;
      kennelMedian: number;
      torchMedian: number;
      kennelEpochs: number;
      torchEpochs: number;
      /** PyTorch with glibc's default allocator, for reference only. */
      torchUntunedSeconds?: number;
      kennelFinalLoss: number;
      torchFinalLoss: number;
      /** torch_version=, torch_blas_build=, torch_blas_loaded= */
      torchLines: string[];
      threads: number;
    }
  | { kind: 'skipped'; reason: string; kennelSeconds?: number };

interface PeerResult {
  seconds: number[];
  finalTrainLoss: number;
  lines: string[];
}

export function torchImportable(): { ok: true } | { ok: false; reason: string } {
  const result = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (result.status === 0) return { ok: true };
  const why = (result.stderr || result.error?.message || `exit status ${result.status}`).trim().split('\n').at(-1);
  return { ok: false, reason: `${PYTHON} cannot import torch and numpy (${why}); apt-get install python3-torch libopenblas0-openmp` };
}

export async function compareHeadTrainers(options: HeadComparisonOptions): Promise<HeadComparison> {
  const { train, validation, featureSize, classCount, timedEpochs, rounds, log } = options;
  const hyperParameters: HeadHyperParameters = { ...options.hyperParameters, epochs: timedEpochs + 1 };
  const torchCheck = torchImportable();
  const folder = mkdtempSync(join(tmpdir(), 'kennel-bench-head-'));
  const ours: number[] = [];
  const torch: number[] = [];
  let kennelFinalLoss = Number.NaN;
  let torchResult: PeerResult | undefined;
  let untuned: PeerResult | undefined;
  const threads = availableParallelism();
  const format = (value: number) => value.toFixed(4);
  try {
    if (torchCheck.ok) {
      for (const [name, data] of [['train', train], ['valid', validation]] as const) {
        writeFileSync(join(folder, `${name}_x.f32`), data.features);
        writeFileSync(join(folder, `${name}_y.i64`), BigInt64Array.from(Array.from(data.labels), BigInt));
      }
    }
    for (let round = 1; round <= rounds; round++) {
      const result = await trainHead({ train, validation, featureSize, classCount, hyperParameters });
      const seconds = result.epochs.slice(1).map((e) => e.seconds);
      ours.push(...seconds);
      kennelFinalLoss = result.epochs.at(-1)!.trainLoss;
      log(`  round ${round} kennel (onnxruntime-node, ${threads} threads): s/epoch ${seconds.map(format).join(' ')}; final train loss ${kennelFinalLoss.toFixed(6)}`);
      if (!torchCheck.ok) continue;
      const peer = runPyTorch(folder, train, validation, featureSize, classCount, hyperParameters, threads, TUNED_MALLOC);
      if ('failed' in peer) return { kind: 'skipped', reason: peer.failed, kennelSeconds: Math.min(...ours) };
      torchResult = peer;
      torch.push(...peer.seconds);
      log(`  round ${round} torch (tuned malloc, ${threads} threads): s/epoch ${peer.seconds.map(format).join(' ')}; final train loss ${peer.finalTrainLoss.toFixed(6)}`);
    }
    if (torchResult) {
      const peer = runPyTorch(folder, train, validation, featureSize, classCount, hyperParameters, threads, {});
      if (!('failed' in peer)) untuned = peer;
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  if (!torchCheck.ok) return { kind: 'skipped', reason: torchCheck.reason, kennelSeconds: Math.min(...ours) };
  return {
    kind: 'measured',
    kennelSeconds: Math.min(...ours),
    torchSeconds: Math.min(...torch),
    kennelMedian: median(ours),
    torchMedian: median(torch),
    kennelEpochs: ours.length,
    torchEpochs: torch.length,
    ...(untuned ? { torchUntunedSeconds: Math.min(...untuned.seconds) } : {}),
    kennelFinalLoss,
    torchFinalLoss: torchResult!.finalTrainLoss,
    torchLines: torchResult!.lines,
    threads,
  };
}

function runPyTorch(
  folder: string,
  train: LabelledFeatures,
  validation: LabelledFeatures,
  featureSize: number,
  classCount: number,
  hp: HeadHyperParameters,
  threads: number,
  env: Record<string, string>,
): PeerResult | { failed: string } {
  const result = spawnSync(
    PYTHON,
    [
      '-c',
      PYTORCH_SCRIPT,
      folder,
      ...[train.labels.length, validation.labels.length, featureSize, classCount, hp.hidden_units, hp.batch_size].map(String),
      String(hp.learning_rate),
      String(hp.epochs),
      String(threads),
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    return { failed: `torch did not run (${(result.stderr || result.error?.message || 'unknown error').trim().split('\n').at(-1)})` };
  }
  const lines = result.stdout.trim().split('\n');
  const value = (key: string) => lines.find((line) => line.startsWith(key + '='))!.slice(key.length + 1);
  return {
    seconds: value('seconds').split(',').map(Number).slice(1),
    finalTrainLoss: Number(value('final_train_loss')),
    lines: lines.filter((line) => line.startsWith('torch_')),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
