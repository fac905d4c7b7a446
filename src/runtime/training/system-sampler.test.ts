import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { builtInRule } from '../../domain/debugger/built-in-rules.ts';
import { readRuleParameters } from '../../domain/debugger/rule.ts';
import type { SystemSample } from '../../domain/debugger/trace.ts';
import { SystemSampler } from './system-sampler.ts';

/** Two threads spinning: as much CPU as the machine gives one process. */
const BUSY = "new (require('node:worker_threads').Worker)('for (;;) {}', { eval: true }); for (;;) {}";
/** A data loader that sleeps between batches: awake for a moment every 100 ms. */
const SLEEPY = "setInterval(() => { const end = Date.now() + 2; while (Date.now() < end) {} }, 100);";

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function sampled(script: string, durationMs: number): Promise<SystemSample[]> {
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  children.push(child);
  let step = 0;
  const sampler = SystemSampler.start({ pid: child.pid!, intervalMs: 100, currentStep: () => step++ });
  await sleep(durationMs);
  const samples = sampler.stop();
  child.kill('SIGKILL');
  return samples;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('SystemSampler', () => {
  it('tells a busy process from one that sleeps, and LowCPUUtilization fires on the sleeper only', async () => {
    const busy = await sampled(BUSY, 1500);
    const sleepy = await sampled(SLEEPY, 1500);
    assert.ok(busy.length >= 8 && sleepy.length >= 8, `${busy.length} and ${sleepy.length} samples in 1.5 s at 100 ms`);
    const busyCpu = mean(busy.slice(2).map((s) => s.cpuPercent));
    const sleepyCpu = mean(sleepy.slice(2).map((s) => s.cpuPercent));
    assert.ok(busyCpu > 20, `the spinning process used ${busyCpu.toFixed(0)}% of the machine`);
    assert.ok(sleepyCpu < 10, `the sleeping process used ${sleepyCpu.toFixed(0)}%`);
    assert.ok(busy.every((s) => s.rssMb > 5), 'its resident memory is read');
    assert.deepEqual(busy.map((s) => s.step), busy.map((_, i) => i), 'each sample carries the step it was taken at');

    const rule = builtInRule('LowCPUUtilization', 'profiler');
    const parameters = readRuleParameters(rule, { window: '5', patience: '2', threshold_p95: '10', threshold_p5: '0' });
    const judge = (system: SystemSample[]) => rule.evaluate({ steps: [], epochs: [], system }, parameters, { ended: true });
    assert.equal(judge(sleepy).status, 'IssuesFound', judge(sleepy).details);
    assert.equal(judge(busy).status, 'NoIssuesFound', judge(busy).details);
  });

  it('shows no CPU or memory for a process that has gone', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    const sampler = SystemSampler.start({ pid: child.pid!, intervalMs: 50, currentStep: () => 0 });
    await sleep(200);
    const samples = sampler.stop();
    assert.ok(samples.length > 0);
    assert.ok(samples.every((s) => s.cpuPercent === 0 && s.rssMb === 0), JSON.stringify(samples));
  });

  it('counts the processes a script starts when it samples the process group: a data loader’s busy workers are the job’s', async () => {
    // The leader sleeps; the CPU is used by the worker process it spawned, in its group.
    const leader = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(BUSY)}], { stdio: 'ignore' }); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', leader], { stdio: 'ignore', detached: true });
    children.push(child);
    try {
      await sleep(300);
      const alone = SystemSampler.start({ pid: child.pid!, intervalMs: 100, currentStep: () => 0 });
      const group = SystemSampler.start({ pid: child.pid!, processGroup: true, intervalMs: 100, currentStep: () => 0 });
      await sleep(1200);
      const [one, all] = [alone.stop(), group.stop()];
      const cpu = (samples: SystemSample[]) => mean(samples.slice(1).map((s) => s.cpuPercent));
      assert.ok(cpu(one) < 10, `the sleeping leader alone used ${cpu(one).toFixed(0)}%`);
      assert.ok(cpu(all) > 20, `the group used ${cpu(all).toFixed(0)}%`);
      assert.ok(all.every((s, i) => s.rssMb > one[i]!.rssMb), 'the group holds the worker’s memory too');
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  });

  it('a job shorter than one interval still gets a sample of its own process when sampling stops', async () => {
    const sampler = SystemSampler.start({ pid: process.pid, intervalMs: 500, currentStep: () => 7 });
    const end = Date.now() + 200;
    while (Date.now() < end) Math.sqrt(Math.random());
    const samples = sampler.stop();
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.step, 7);
    assert.ok(samples[0]!.cpuPercent > 0 && samples[0]!.rssMb > 0, JSON.stringify(samples));
  });
});
