/**
 * What the debugger's recording costs a training job, in one run: the built-in head trained at
 * the reference size (6,680 × 2048 → 128 → ReLU → 133, Adam, batch 64, synthetic features) with
 * and without recording at the default settings (the hook saving every DEFAULT_SAVE_INTERVAL
 * steps and each of the first ten, every step's loss and timing kept, the system sampled every
 * DEFAULT_PROFILING_INTERVAL_MS), in alternating rounds; the fastest round of each side counts,
 * as drift on this shared machine only ever slows a round.
 *
 *   npm run bench -- debugger [--epochs 10] [--rounds 5]   (10: the algorithm's default epochs)
 *
 * Last line: `debugger: overhead_pct=<n>` (target ≤ 5).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_PROFILING_INTERVAL_MS, DEFAULT_SAVE_INTERVAL } from '../../src/domain/debugger/hook.ts';
import type { SystemSample, TraceStep } from '../../src/domain/debugger/trace.ts';
import { trainHead } from '../../src/runtime/training/head-trainer.ts';
import { SystemSampler } from '../../src/runtime/training/system-sampler.ts';
import { CLASSES, FEATURES, syntheticFeatures } from '../head-trainer/synthetic-features.ts';

const TARGET_OVERHEAD_PCT = 5;
const { values: args } = parseArgs({ options: { epochs: { type: 'string', default: '10' }, rounds: { type: 'string', default: '5' } } });
const EPOCHS = Number(args.epochs);
const ROUNDS = Number(args.rounds);
if (!(Number.isInteger(EPOCHS) && EPOCHS > 0 && Number.isInteger(ROUNDS) && ROUNDS > 0)) throw new Error('--epochs and --rounds must be positive integers');

console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);
const train = syntheticFeatures(6680, 1);
const validation = syntheticFeatures(835, 2);
const hyperParameters = { learning_rate: 0.001, batch_size: 64, hidden_units: 128, epochs: EPOCHS, seed: 0 };
console.log(`workload: 6680 x ${FEATURES} -> 128 -> ReLU -> ${CLASSES}, batch 64, ${EPOCHS} epochs per round, ${ROUNDS} rounds per side, alternating`);

async function round(recording: boolean): Promise<{ seconds: number; steps: number; saved: number; samples: number }> {
  const steps: TraceStep[] = [];
  let sampler: SystemSampler | undefined;
  let samples: SystemSample[] = [];
  const startedAt = performance.now();
  if (recording) sampler = SystemSampler.start({ pid: process.pid, intervalMs: DEFAULT_PROFILING_INTERVAL_MS, currentStep: () => steps.length });
  await trainHead({
    train,
    validation,
    featureSize: FEATURES,
    classCount: CLASSES,
    hyperParameters,
    ...(recording ? { debug: { saveInterval: DEFAULT_SAVE_INTERVAL, onStep: (step: TraceStep) => void steps.push(step) } } : {}),
  });
  if (sampler) samples = sampler.stop();
  return { seconds: (performance.now() - startedAt) / 1000, steps: steps.length, saved: steps.filter((s) => s.tensors.length > 0).length, samples: samples.length };
}

await round(false); // warm-up: sessions, JIT, page cache
const plain: number[] = [];
const recorded: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const recording of r % 2 === 0 ? [false, true] : [true, false]) {
    const result = await round(recording);
    (recording ? recorded : plain).push(result.seconds);
    console.log(`round ${r + 1} ${recording ? 'recording' : 'plain    '}: ${result.seconds.toFixed(3)} s${recording ? ` (${result.steps} steps, ${result.saved} with tensors, ${result.samples} system samples)` : ''}`);
  }
}
const fastest = (values: number[]) => Math.min(...values);
const overheadPct = ((fastest(recorded) - fastest(plain)) / fastest(plain)) * 100;
console.log(`fastest round: plain ${fastest(plain).toFixed(3)} s, recording ${fastest(recorded).toFixed(3)} s; target overhead ≤ ${TARGET_OVERHEAD_PCT}%: ${overheadPct <= TARGET_OVERHEAD_PCT ? 'met' : 'MISSED'}`);
console.log(`debugger: overhead_pct=${overheadPct.toFixed(2)}`);
