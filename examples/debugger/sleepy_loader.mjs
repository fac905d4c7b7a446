// A script-mode job for Kennel's profiler: a training loop whose data loader sleeps.
//
// Each step waits --sleep_ms for its batch (a slow disk, an image decoded on the spot) and then
// computes for --compute_ms. With the default sleep the CPU idles most of the time and the
// LowCPUUtilization rule fires; with --sleep_ms 0 the loop keeps a core busy and the rule stays quiet.
// The step times the recorder writes show where the time goes: data loading, not compute.
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Recorder } from './kennel-debugger.mjs';

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '60' }, sleep_ms: { type: 'string', default: '40' }, compute_ms: { type: 'string', default: '4' } },
  strict: false,
});
const steps = Number(values.steps);
const sleepMs = Number(values.sleep_ms);
const computeMs = Number(values.compute_ms);

const debug = new Recorder();
let loss = 2;
for (let step = 0; step < steps; step++) {
  await debug.loading(() => (sleepMs > 0 ? sleep(sleepMs) : undefined));
  debug.computing(() => {
    const end = performance.now() + computeMs;
    while (performance.now() < end) loss *= 0.99999;
  });
  debug.step(step, loss, { epoch: 1 });
}
debug.epoch(1, loss);
console.log(`trained ${steps} steps: loss=${loss}`);
writeFileSync(join(process.env.SM_MODEL_DIR ?? '.', 'model.json'), JSON.stringify({ loss }));
