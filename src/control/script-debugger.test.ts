import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DebuggerInput, RuleConfigurationInput } from '../domain/debugger/configuration.ts';
import { parseTraceLine } from '../domain/debugger/trace-protocol.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { createPlatform, type Platform } from './platform.ts';
import type { CreateTrainingJobInput } from './training-jobs.ts';
import { waitForTrainingJob } from './wait.ts';

/** The examples users copy: the helpers and two purpose-made jobs. */
const EXAMPLES = fileURLToPath(new URL('../../examples/debugger/', import.meta.url));
const RULES_IMAGE = 'kennel/debugger-rules';
const rule = (name: string, parameters: Record<string, string> = {}): RuleConfigurationInput => ({ name, evaluatorImage: RULES_IMAGE, parameters: { rule_to_invoke: name, ...parameters } });
/** LowCPUUtilization over short windows, so that a few seconds of samples decide: a single busy thread is half of this 2-core machine. */
const LOW_CPU = rule('LowCPUUtilization', { window: '5', patience: '2', threshold_p95: '30', threshold_p5: '0' });

interface Case {
  what: string;
  image: string;
  program: string;
  hyperParameters: Record<string, string>;
  debugger: DebuggerInput;
  status: 'Completed' | 'Stopped';
  findings: Record<string, 'IssuesFound' | 'NoIssuesFound'>;
}

/** Tensors every fifth step, and (for PoorWeightInitialization) every second of the first ten. */
const HOOK = { s3OutputPath: 's3://b/t', hookParameters: { save_interval: '5' }, collections: [] };
const PROFILER = { disabled: false, intervalMs: 100 };
/**
 * The share of the cores a job gets depends on what else runs: beside the rest of the suite, the busy
 * loader's threads measured 36–38% of this machine's two. The threshold only has to tell a loader that
 * computes from one that waits (the sleepy loader's few percent).
 */
const BOTTLENECK = rule('CPUBottleneck', { cpu_threshold: '20' });
const STALLS = rule('StepOutlier', { n_outliers: '5' });
const pathology = (name: string, rules: RuleConfigurationInput[], profilerRules: RuleConfigurationInput[], findings: Case['findings']): Case => ({
  what: name === 'healthy' ? 'a healthy run of pathologies.py keeps its rules quiet' : `pathologies.py --pathology ${name}: ${Object.keys(findings).join(', ')} fires`,
  image: 'kennel/python:latest',
  program: 'pathologies.py',
  hyperParameters: { pathology: name },
  debugger: { hook: HOOK, rules, profiler: PROFILER, profilerRules },
  status: 'Completed',
  findings,
});

const CASES: Case[] = [
  pathology(
    'healthy',
    [rule('VanishingGradient'), rule('ExplodingTensor'), rule('PoorWeightInitialization'), rule('Overtraining'), rule('DeadRelu'), rule('ClassImbalance')],
    [BOTTLENECK],
    { VanishingGradient: 'NoIssuesFound', ExplodingTensor: 'NoIssuesFound', PoorWeightInitialization: 'NoIssuesFound', Overtraining: 'NoIssuesFound', DeadRelu: 'NoIssuesFound', ClassImbalance: 'NoIssuesFound', CPUBottleneck: 'NoIssuesFound' },
  ),
  pathology('poor_init', [rule('PoorWeightInitialization')], [], { PoorWeightInitialization: 'IssuesFound' }),
  pathology('vanishing', [rule('VanishingGradient')], [], { VanishingGradient: 'IssuesFound' }),
  pathology('dead_relu', [rule('DeadRelu')], [], { DeadRelu: 'IssuesFound' }),
  pathology('overtraining', [rule('Overtraining')], [], { Overtraining: 'IssuesFound' }),
  pathology('stalls', [], [STALLS], { StepOutlier: 'IssuesFound' }),
  pathology('busy_loader', [], [BOTTLENECK], { CPUBottleneck: 'IssuesFound' }),
  {
    what: 'a huge learning rate explodes: ExplodingTensor fires and its StopTraining action stops the job',
    image: 'kennel/python:latest',
    program: 'diverging.py',
    hyperParameters: { learning_rate: '50', epochs: '20000' },
    debugger: { rules: [rule('ExplodingTensor', { action_json: '[{"name": "stoptraining"}]' })] },
    status: 'Stopped',
    findings: { ExplodingTensor: 'IssuesFound' },
  },
  {
    what: 'the same regression at a sensible learning rate: ExplodingTensor and VanishingGradient stay quiet',
    image: 'kennel/python:latest',
    program: 'diverging.py',
    hyperParameters: { learning_rate: '0.05', epochs: '20' },
    debugger: {
      hook: { s3OutputPath: 's3://b/t', hookParameters: { save_interval: '5' }, collections: [] },
      rules: [rule('ExplodingTensor'), rule('VanishingGradient')],
      profiler: { disabled: false, intervalMs: 100 },
    },
    status: 'Completed',
    findings: { ExplodingTensor: 'NoIssuesFound', VanishingGradient: 'NoIssuesFound' },
  },
  {
    what: 'a sleep in the data loader drags CPU use down: LowCPUUtilization fires, and CPUBottleneck, with the CPU idle, does not',
    image: 'kennel/node:latest',
    program: 'sleepy_loader.mjs',
    hyperParameters: { steps: '70', sleep_ms: '40', compute_ms: '2' },
    debugger: { profiler: { disabled: false, intervalMs: 100 }, profilerRules: [LOW_CPU, BOTTLENECK] },
    status: 'Completed',
    findings: { LowCPUUtilization: 'IssuesFound', CPUBottleneck: 'NoIssuesFound' },
  },
  {
    what: 'the same loop with data at hand keeps a core busy: LowCPUUtilization stays quiet',
    image: 'kennel/node:latest',
    program: 'sleepy_loader.mjs',
    hyperParameters: { steps: '700', sleep_ms: '0', compute_ms: '4' },
    debugger: { profiler: { disabled: false, intervalMs: 100 }, profilerRules: [LOW_CPU] },
    status: 'Completed',
    findings: { LowCPUUtilization: 'NoIssuesFound' },
  },
];

describe('script-mode jobs under the debugger: the trace protocol, the helpers in examples/debugger, and the rules', () => {
  let dir: string;
  let data: string;
  let platform: Platform;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-script-debugger-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore()));
    platform.controller.start(50);
    data = join(dir, 'data');
    await mkdir(data);
    await writeFile(join(data, 'unused.txt'), 'the examples make their own data\n');
  });
  after(async () => {
    await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const job = (name: string, image: string, program: string, source: string, hyperParameters: Record<string, string>, debuggerInput?: DebuggerInput): CreateTrainingJobInput => ({
    name,
    trainingImage: image,
    roleArn: KENNEL_EXECUTION_ROLE_ARN,
    instanceType: 'ml.m5.large',
    channels: [{ channelName: 'training', uri: pathToFileURL(data).href, s3DataType: 'S3Prefix' }],
    hyperParameters: { sagemaker_program: program, sagemaker_submit_directory: pathToFileURL(source).href, ...hyperParameters },
    ...(debuggerInput ? { debugger: debuggerInput } : {}),
  });

  CASES.forEach((c, index) => {
    it(c.what, async () => {
      const name = `script-debug-${index}`;
      await platform.trainingJobs.create(job(name, c.image, c.program, EXAMPLES, c.hyperParameters, c.debugger));
      const done = await waitForTrainingJob(platform, name);
      const log = (await platform.deps.logs.read(name)).events.map((e) => e.message);
      assert.equal(done.status, c.status, `${done.failureReason ?? ''}\n${log.slice(-10).join('\n')}`);
      const findings = Object.fromEntries(done.ruleEvaluations!.map((e) => [e.configurationName, e.status]));
      assert.deepEqual(findings, c.findings, JSON.stringify(done.ruleEvaluations));
      const { trace } = await platform.deps.traces.read(name);
      assert.ok(trace.steps.length > 0, 'the script’s steps are in the job’s trace');
      assert.ok(trace.system.length > 0, 'and Kennel’s own system samples, without the script doing anything');
      if (c.status === 'Stopped') assert.ok(trace.epochs.length < Number(c.hyperParameters.epochs), `stopped after ${trace.epochs.length} epochs`);
    });
  });

  it('the sleepy loader’s steps show where the time goes: waiting for data, not computing', async () => {
    const { trace } = await platform.deps.traces.read(`script-debug-${CASES.findIndex((c) => c.program === 'sleepy_loader.mjs' && c.findings.LowCPUUtilization === 'IssuesFound')}`);
    const total = (key: 'dataMs' | 'computeMs') => trace.steps.reduce((sum, step) => sum + step[key], 0);
    assert.ok(total('dataMs') > 5 * total('computeMs'), `data ${total('dataMs').toFixed(0)} ms, compute ${total('computeMs').toFixed(0)} ms`);
  });

  it('a script writing lines that are not records is told so in its log, and the rest of its trace still counts', async () => {
    const source = join(dir, 'garbage');
    await mkdir(source);
    await writeFile(
      join(source, 'train.py'),
      [
        'import os',
        'with open(os.environ["KENNEL_DEBUGGER_TRACE"], "a") as trace:',
        '    trace.write("not json\\n")',
        '    trace.write(\'{"type": "step", "step": 0, "loss": "high"}\\n\')',
        '    trace.write(\'{"type": "step", "step": 1, "loss": NaN}\\n\')',
        'print("done")',
      ].join('\n'),
    );
    await platform.trainingJobs.create(job('garbage-trace', 'kennel/python:latest', 'train.py', source, {}, { rules: [rule('ExplodingTensor', { action_json: '[{"name": "stoptraining"}]' })] }));
    const done = await waitForTrainingJob(platform, 'garbage-trace');
    assert.equal(done.status, 'Completed', `a finding at the job's end stops nothing: the script had already ended well (${done.failureReason ?? ''})`);
    assert.equal(done.stopRequest, undefined);
    const log = (await platform.deps.logs.read('garbage-trace')).events.map((e) => e.message);
    assert.ok(log.includes('Debugger trace line 1 ignored: not JSON'), log.join('\n'));
    assert.ok(log.some((line) => /^Debugger trace line 2 ignored: loss: /.test(line)), log.join('\n'));
    assert.equal(done.ruleEvaluations![0]!.status, 'IssuesFound', 'the good line is read: its NaN loss is found');
  });

  it('a job that fails before it records anything settles its rules as Stopped, not InProgress for ever', async () => {
    const source = join(dir, 'no-program');
    await mkdir(source);
    await writeFile(join(source, 'other.py'), 'print("not the entry point")\n');
    await platform.trainingJobs.create(job('never-ran', 'kennel/python:latest', 'train.py', source, {}, { rules: [rule('ExplodingTensor')], profilerRules: [rule('StepOutlier')] }));
    const done = await waitForTrainingJob(platform, 'never-ran');
    assert.equal(done.status, 'Failed');
    assert.deepEqual(done.ruleEvaluations!.map((e) => e.status), ['Stopped', 'Stopped']);
    assert.match(done.ruleEvaluations![0]!.details, /ended before the rule could evaluate it/);
  });

  it('the helpers compute a reference-size layer’s statistics (2048 × 128 weights) that Kennel reads back', async () => {
    const { tensorStatistics } = (await import(pathToFileURL(join(EXAMPLES, 'kennel-debugger.mjs')).href)) as { tensorStatistics: (name: string, v: Float32Array, g: Float32Array, h: boolean) => object };
    const weights = Float32Array.from({ length: 2048 * 128 }, (_, i) => Math.sin(i));
    const fromNode = parseTraceLine(JSON.stringify({ type: 'step', step: 0, loss: 1, tensors: [tensorStatistics('w1', weights, weights, true)] }));
    assert.ok(!('error' in fromNode) && fromNode.type === 'step', JSON.stringify(fromNode).slice(0, 300));
    assert.equal(fromNode.step.tensors[0]!.histogram!.counts.reduce((a, b) => a + b, 0), weights.length);
    const python = execFileSync('/usr/bin/python3', ['-c', 'import json, math, sys; sys.path.insert(0, sys.argv[1]); from kennel_debugger import tensor_statistics as t; w = [math.sin(i) for i in range(2048 * 128)]; print(json.dumps({"type": "step", "step": 0, "loss": 1, "tensors": [t("w1", w, w, True)]}))', EXAMPLES], { encoding: 'utf8' });
    const fromPython = parseTraceLine(python.trim());
    assert.ok(!('error' in fromPython) && fromPython.type === 'step', python.slice(0, 300));
    const [node, py] = [fromNode.step.tensors[0]!, fromPython.step.tensors[0]!];
    assert.ok(Math.abs(node.norm - py.norm) < 1e-3 * py.norm && Math.abs(node.variance - py.variance) < 1e-3, 'both helpers agree');
  });
});
