import { percentile } from '../serving/load-timeline.ts';
import { issueFound, nothingFound, numberParameter as num, type BuiltInRule } from './rule.ts';
import type { TraceStep } from './trace.ts';

/**
 * The profiler's rules, for a machine without an accelerator. StepOutlier is SageMaker's.
 * SageMaker has no LowCPUUtilization: this one is its LowGPUUtilization read on the CPU, with
 * the same parameter names, and its window and patience counted in system samples (one per
 * ProfilingIntervalInMilliseconds). CPUBottleneck keeps SageMaker's parameters; with no GPU
 * to starve, the CPU is the bottleneck when data loading takes most of each step while the
 * CPU is saturated, and gpu_threshold is accepted and has nothing to apply to.
 */

const stepMs = (step: TraceStep) => step.dataMs + step.computeMs;

export const LOW_CPU_UTILIZATION: BuiltInRule = {
  name: 'LowCPUUtilization',
  kind: 'profiler',
  parameters: {
    threshold_p95: { default: '70', kind: 'number', min: 0, description: 'CPU use (%) whose 95th percentile over a window, when lower, means the CPU is underused.' },
    threshold_p5: { default: '10', kind: 'number', min: 0, description: 'CPU use (%) whose 5th percentile over a window, when lower while the 95th is high, means use fluctuates.' },
    window: { default: '20', kind: 'count', min: 1, description: 'System samples in each window.' },
    patience: { default: '10', kind: 'count', description: 'System samples skipped at the start (while the job loads).' },
  },
  meaning: 'The job leaves the CPU idle much of the time: something other than computing holds it back, such as slow data loading or waiting on files.',
  advice: 'Look at the data loader (the step time split shows where time goes): load and decode images ahead, cache them, or read from a faster disk.',
  evaluate(trace, parameters, context) {
    const samples = trace.system.slice(num(parameters, 'patience'));
    const window = num(parameters, 'window');
    for (let end = window; end <= samples.length; end++) {
      const cpu = samples.slice(end - window, end).map((sample) => sample.cpuPercent).sort((a, b) => a - b);
      const p95 = percentile(cpu, 95);
      const p5 = percentile(cpu, 5);
      const at = samples[end - 1]!.step;
      if (p95 < num(parameters, 'threshold_p95')) return issueFound(at, `the job used at most ${p95.toFixed(0)}% of the CPU (95th percentile) over ${window} samples, under ${num(parameters, 'threshold_p95')}%`);
      if (p5 < num(parameters, 'threshold_p5')) return issueFound(at, `CPU use swings from ${p5.toFixed(0)}% to ${p95.toFixed(0)}% over ${window} samples: the job stops and starts`);
    }
    return nothingFound(context, samples.length >= window ? 'The job keeps the CPU busy.' : 'Not enough system samples yet.');
  },
};

export const STEP_OUTLIER: BuiltInRule = {
  name: 'StepOutlier',
  kind: 'profiler',
  parameters: {
    stddev: { default: '3', kind: 'number', min: 0, description: 'A step longer than the mean by this many standard deviations is an outlier.' },
    n_outliers: { default: '10', kind: 'count', description: 'Outliers tolerated before the rule fires.' },
  },
  meaning: 'Some steps take far longer than the rest: something stalls the job now and then (garbage collection, another process, a slow read).',
  advice: 'Compare the outliers’ data-loading and compute times; look for other work on the machine, and for pauses in the system chart.',
  evaluate(trace, parameters, context) {
    // The first step pays for warming up (compiling, first reads); every framework's is slow.
    const steps = trace.steps.slice(1);
    if (steps.length < 2) return nothingFound(context, 'Not enough steps yet.');
    const durations = steps.map(stepMs);
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
    const sd = Math.sqrt(durations.reduce((sum, d) => sum + (d - mean) ** 2, 0) / durations.length);
    const limit = mean + num(parameters, 'stddev') * sd;
    const outliers = steps.filter((step) => sd > 0 && stepMs(step) > limit);
    if (outliers.length > num(parameters, 'n_outliers')) {
      const fired = outliers[num(parameters, 'n_outliers')]!;
      return issueFound(fired.step, `${outliers.length} steps took over ${limit.toFixed(1)} ms (mean ${mean.toFixed(1)} ms + ${num(parameters, 'stddev')} standard deviations), the longest ${Math.max(...outliers.map(stepMs)).toFixed(1)} ms`);
    }
    return nothingFound(context, `${outliers.length} outlier steps, within the ${num(parameters, 'n_outliers')} tolerated.`);
  },
};

export const CPU_BOTTLENECK: BuiltInRule = {
  name: 'CPUBottleneck',
  kind: 'profiler',
  parameters: {
    threshold: { default: '50', kind: 'number', min: 0, description: 'The percentage of step time in data loading above which the input pipeline is the bottleneck.' },
    gpu_threshold: { default: '10', kind: 'number', min: 0, description: 'SageMaker’s GPU threshold; there is no GPU here.' },
    cpu_threshold: { default: '90', kind: 'number', min: 0, description: 'The CPU use (%) above which the CPU counts as saturated.' },
    patience: { default: '10', kind: 'count', description: 'Steps skipped at the start.' },
  },
  meaning: 'Preparing the data keeps the CPU saturated and takes most of each step: the model waits for its input.',
  advice: 'Do less per image at training time: resize once ahead, cache the embeddings (Kennel’s built-in algorithm does), or use fewer, larger batches.',
  evaluate(trace, parameters, context) {
    const steps = trace.steps.slice(num(parameters, 'patience'));
    if (steps.length === 0 || trace.system.length === 0) return nothingFound(context, 'Not enough steps yet.');
    const dataMs = steps.reduce((sum, step) => sum + step.dataMs, 0);
    const totalMs = steps.reduce((sum, step) => sum + stepMs(step), 0);
    const dataPercent = totalMs > 0 ? (100 * dataMs) / totalMs : 0;
    const cpu = trace.system.reduce((sum, sample) => sum + sample.cpuPercent, 0) / trace.system.length;
    if (dataPercent > num(parameters, 'threshold') && cpu > num(parameters, 'cpu_threshold')) {
      return issueFound(steps.at(-1)!.step, `data loading took ${dataPercent.toFixed(0)}% of step time while the CPU was ${cpu.toFixed(0)}% busy`);
    }
    return nothingFound(context, `Data loading takes ${dataPercent.toFixed(0)}% of step time; the CPU is ${cpu.toFixed(0)}% busy on average.`);
  },
};

const REPORTED: readonly BuiltInRule[] = [LOW_CPU_UTILIZATION, STEP_OUTLIER, CPU_BOTTLENECK];

/**
 * SageMaker's ProfilerReport, which the SageMaker Python SDK adds to every job it profiles:
 * every profiler rule at once. Its parameters are theirs, prefixed with the rule's name
 * (`StepOutlier_stddev`), as SageMaker names them. It finds an issue when any of them does.
 */
export const PROFILER_REPORT: BuiltInRule = {
  name: 'ProfilerReport',
  kind: 'profiler',
  parameters: Object.fromEntries(REPORTED.flatMap((rule) => Object.entries(rule.parameters).map(([name, parameter]) => [`${rule.name}_${name}`, parameter]))),
  meaning: 'The profiler’s rules together: each finding below says what it means on its own.',
  advice: 'Open the report (kennel training-jobs report) for the utilisation and step-time charts, and follow the advice of the rule that fired.',
  evaluate(trace, parameters, context) {
    const findings = REPORTED.map((rule) => {
      const own = Object.fromEntries(Object.keys(rule.parameters).map((name) => [name, parameters[`${rule.name}_${name}`]]));
      return { rule: rule.name, finding: rule.evaluate(trace, own, context) };
    });
    const issues = findings.filter(({ finding }) => finding.status === 'IssuesFound');
    if (issues.length > 0) {
      const first = issues.reduce((a, b) => ((b.finding.step ?? Infinity) < (a.finding.step ?? Infinity) ? b : a));
      return issueFound(first.finding.step, issues.map(({ rule, finding }) => `${rule}: ${finding.details}`).join('; '));
    }
    const errors = findings.filter(({ finding }) => finding.status === 'Error');
    if (errors.length > 0) return { status: 'Error', details: errors.map(({ rule, finding }) => `${rule}: ${finding.details}`).join('; ') };
    return nothingFound(context, `${REPORTED.map((rule) => rule.name).join(', ')} found nothing.`);
  },
};

export const PROFILER_RULES: readonly BuiltInRule[] = [...REPORTED, PROFILER_REPORT];
