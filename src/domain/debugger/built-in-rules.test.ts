import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertDomainError } from '../../testing/assert-domain-error.ts';
import { BUILT_IN_RULES, builtInRule } from './built-in-rules.ts';
import { readRuleParameters, type BuiltInRule } from './rule.ts';
import type { TensorStatistics, TraceEpoch, TraceStep, TrainingTrace } from './trace.ts';

const STEPS = 60;
const STEPS_PER_EPOCH = 10;
const RECORD_EVERY = 5;

function tensor(name: string, overrides: Partial<TensorStatistics> = {}): TensorStatistics {
  return { name, norm: 3, variance: 0.002, gradientNorm: 0.5, gradientMeanAbs: 0.01, gradientSpread: 0.05, nanCount: 0, infiniteCount: 0, ...overrides };
}

/** A run that goes well: the loss falls steadily, validation follows training, the CPU is busy, the classes are balanced. */
function healthy(): TrainingTrace {
  const steps: TraceStep[] = [];
  for (let step = 0; step < STEPS; step++) {
    // As Kennel's hook saves: every step of the first ten, then every RECORD_EVERY-th.
    const isRecorded = step < 10 || step % RECORD_EVERY === 0;
    steps.push({
      step,
      epoch: Math.floor(step / STEPS_PER_EPOCH),
      loss: 2.5 * Math.exp(-step / 30) + 0.1,
      learningRate: 0.001,
      dataMs: 2,
      computeMs: 10 + (step % 3) * 0.1,
      tensors: isRecorded ? [tensor('w1'), tensor('b1', { variance: 0.0001 }), tensor('w2', { variance: 0.004 }), tensor('b2')] : [],
      relus: isRecorded ? [{ layer: 'relu1', activePercent: Array.from({ length: 20 }, (_, unit) => 30 + unit * 2) }] : [],
    });
  }
  const epochs: TraceEpoch[] = Array.from({ length: STEPS / STEPS_PER_EPOCH }, (_, epoch) => {
    const trainLoss = 2.5 * Math.exp(-((epoch + 1) * STEPS_PER_EPOCH) / 30) + 0.1;
    return { epoch, step: (epoch + 1) * STEPS_PER_EPOCH - 1, trainLoss, validationLoss: trainLoss * 1.05 - 0.3 * epoch * 0.1, trainAccuracy: 0.5, validationAccuracy: 0.5 };
  });
  const system = Array.from({ length: 60 }, (_, i) => ({ atMs: i * 500, step: i, cpuPercent: 92 + (i % 4), rssMb: 300, pauseMs: 1 }));
  return { steps, epochs, system, classes: { labels: ['beagle', 'boxer', 'pug'], samples: [40, 38, 42], mispredicted: [0.2, 0.3, 0.1] } };
}

type Sickness = (trace: TrainingTrace) => void;

const atRecorded = (trace: TrainingTrace, from: number, change: (step: TraceStep) => void) => {
  for (const step of trace.steps) if (step.step >= from && step.tensors.length > 0) change(step);
};

/** Per rule: a run sick in the way the rule looks for, and the step where it must fire. */
const CASES: { rule: string; sickness: string; make: Sickness; firesAt: number | undefined; parameters?: Record<string, string> }[] = [
  {
    rule: 'VanishingGradient',
    sickness: 'the first layer’s gradients shrink to nothing from step 20',
    make: (t) => atRecorded(t, 20, (s) => (s.tensors[0] = tensor('w1', { gradientMeanAbs: 1e-9 }))),
    firesAt: 20,
  },
  {
    rule: 'ExplodingTensor',
    sickness: 'a huge learning rate: the loss turns infinite at step 13',
    make: (t) => {
      for (const s of t.steps) if (s.step >= 13) s.loss = s.step === 13 ? Infinity : NaN;
    },
    firesAt: 13,
  },
  {
    rule: 'ExplodingTensor',
    sickness: 'a weight overflows to NaN at step 25, the loss still finite',
    make: (t) => atRecorded(t, 25, (s) => (s.tensors[2] = tensor('w2', { nanCount: 12 }))),
    firesAt: 25,
  },
  {
    rule: 'PoorWeightInitialization',
    sickness: 'the second layer starts 1000× the first’s variance',
    make: (t) => atRecorded(t, 0, (s) => (s.tensors[2] = tensor('w2', { variance: 2 }))),
    firesAt: 1,
    parameters: { patience: '2' },
  },
  {
    rule: 'PoorWeightInitialization',
    sickness: 'gradients with no spread: every weight is told the same thing',
    make: (t) => atRecorded(t, 0, (s) => (s.tensors[0] = tensor('w1', { gradientSpread: 1e-6 }))),
    firesAt: 1,
    parameters: { patience: '2' },
  },
  {
    rule: 'LossNotDecreasing',
    sickness: 'a poor initialisation: the loss stalls at 2.3 from step 20',
    make: (t) => {
      for (const s of t.steps) if (s.step >= 20) s.loss = 2.3;
    },
    firesAt: 29,
  },
  {
    rule: 'Overfit',
    sickness: 'a tiny training set: validation loss climbs while training loss falls',
    make: (t) => {
      for (const e of t.epochs) e.validationLoss = e.trainLoss * (1 + 0.05 * e.epoch * e.epoch);
    },
    firesAt: 29,
  },
  {
    rule: 'Overtraining',
    sickness: 'the training loss stops improving after the first epoch',
    make: (t) => {
      for (const e of t.epochs) e.trainLoss = e.epoch === 0 ? 1 : 0.99;
    },
    firesAt: 39,
    parameters: { patience_train: '3' },
  },
  {
    rule: 'DeadRelu',
    sickness: 'three quarters of the hidden units die at step 30',
    make: (t) => atRecorded(t, 30, (s) => (s.relus[0] = { layer: 'relu1', activePercent: Array.from({ length: 20 }, (_, u) => (u < 15 ? 0 : 60)) })),
    firesAt: 30,
  },
  {
    rule: 'ClassImbalance',
    sickness: 'a skewed dataset: 400 beagles, 12 pugs',
    make: (t) => (t.classes = { labels: ['beagle', 'boxer', 'pug'], samples: [400, 100, 12] }),
    firesAt: STEPS - 1,
  },
  {
    rule: 'ClassImbalance',
    sickness: 'balanced counts, but pugs are nearly always predicted as something else',
    make: (t) => (t.classes!.mispredicted = [0.1, 0.2, 0.9]),
    firesAt: STEPS - 1,
  },
  {
    rule: 'LowCPUUtilization',
    sickness: 'a sleep in the data loader: the CPU idles at 20%',
    make: (t) => {
      for (const sample of t.system) sample.cpuPercent = sample.step >= 30 ? 20 : 95;
    },
    firesAt: 48,
  },
  {
    rule: 'StepOutlier',
    sickness: 'three steps stall for 200 ms, one more than tolerated',
    make: (t) => {
      for (const s of t.steps) if (s.step === 40 || s.step === 45 || s.step === 50) s.computeMs = 200;
    },
    firesAt: 50,
    parameters: { n_outliers: '2' },
  },
  {
    rule: 'CPUBottleneck',
    sickness: 'decoding images takes 40 ms of every 50 ms step, the CPU saturated',
    make: (t) => {
      for (const s of t.steps) s.dataMs = 40;
    },
    firesAt: STEPS - 1,
  },
  {
    rule: 'ProfilerReport',
    sickness: 'the stalled steps StepOutlier finds, with its parameter named as SageMaker names it in the report (StepOutlier_n_outliers)',
    make: (t) => {
      for (const s of t.steps) if (s.step === 40 || s.step === 45 || s.step === 50) s.computeMs = 200;
    },
    firesAt: 50,
    parameters: { StepOutlier_n_outliers: '2' },
  },
];

const evaluate = (rule: BuiltInRule, trace: TrainingTrace, given: Record<string, string> = {}, ended = true) => rule.evaluate(trace, readRuleParameters(rule, given), { ended });

describe('built-in rules', () => {
  for (const rule of BUILT_IN_RULES) {
    it(`${rule.name} stays quiet on a healthy run, and is InProgress on an empty one while it runs`, () => {
      const finding = evaluate(rule, healthy());
      assert.equal(finding.status, 'NoIssuesFound', finding.details);
      assert.equal(evaluate(rule, { steps: [], epochs: [], system: [] }, {}, false).status, 'InProgress');
    });
  }

  for (const c of CASES) {
    it(`${c.rule} fires on ${c.sickness}, at step ${c.firesAt}`, () => {
      const trace = healthy();
      c.make(trace);
      const finding = evaluate(builtInRule(c.rule, BUILT_IN_RULES.find((r) => r.name === c.rule)!.kind), trace, c.parameters);
      assert.equal(finding.status, 'IssuesFound', finding.details);
      assert.equal(finding.step, c.firesAt, finding.details);
      assert.ok(finding.details.length > 10, 'the finding says what was seen');
    });
  }

  it('every rule has a case that makes it fire', () => {
    assert.deepEqual([...new Set(CASES.map((c) => c.rule))].sort(), BUILT_IN_RULES.map((r) => r.name).sort());
  });

  it('matches a tensor_regex in linear time: a pattern that backtracks exponentially in other engines cannot stall the server', () => {
    const rule = builtInRule('ExplodingTensor', 'debug');
    const trace = healthy();
    for (const step of trace.steps) for (const tensor of step.tensors) tensor.name = `${'a'.repeat(200)}!`;
    // A backtracking engine takes about 2^200 steps here: the test would never end.
    assert.equal(evaluate(rule, trace, { tensor_regex: '(a|a)*b' }).status, 'NoIssuesFound');
  });

  it('a regular expression picks the tensors a rule looks at', () => {
    const trace = healthy();
    atRecorded(trace, 25, (s) => (s.tensors[2] = tensor('w2', { nanCount: 3 })));
    const rule = builtInRule('ExplodingTensor', 'debug');
    assert.equal(evaluate(rule, trace, { tensor_regex: '^w2$' }).step, 25);
    assert.equal(evaluate(rule, trace, { tensor_regex: '^w1$' }).status, 'NoIssuesFound');
  });

  it('PoorWeightInitialization says it could not judge when too few early steps were recorded', () => {
    const rule = builtInRule('PoorWeightInitialization', 'debug');
    const sparse = healthy();
    for (const step of sparse.steps) if (step.step % RECORD_EVERY !== 0) (step.tensors = []), (step.relus = []);
    const finding = evaluate(rule, sparse, { patience: '5', steps: '10' });
    assert.equal(finding.status, 'Error');
    assert.match(finding.details, /Only 2 of the first 10 steps were recorded/);
  });

  it('Overtraining reads past a NaN loss', () => {
    const trace = healthy();
    trace.epochs[0]!.trainLoss = NaN;
    assert.equal(evaluate(builtInRule('Overtraining', 'debug'), trace).status, 'NoIssuesFound');
  });

  it('parameters change what fires: a stricter threshold finds what the default lets pass', () => {
    const rule = builtInRule('VanishingGradient', 'debug');
    assert.equal(evaluate(rule, healthy()).status, 'NoIssuesFound');
    assert.equal(evaluate(rule, healthy(), { threshold: '0.1' }).step, 0);
    const exploding = builtInRule('ExplodingTensor', 'debug');
    const infinite = healthy();
    infinite.steps[7]!.loss = Infinity;
    assert.equal(evaluate(exploding, infinite).step, 7);
    assert.equal(evaluate(exploding, infinite, { only_nan: 'True' }).status, 'NoIssuesFound', 'only_nan looks past infinities');
  });
});

describe('rule configurations', () => {
  it('reads SageMaker’s RuleParameters: strings, with rule_to_invoke, action_json and trial keys passed over', () => {
    const rule = builtInRule('Overfit', 'debug');
    assert.deepEqual(readRuleParameters(rule, { rule_to_invoke: 'Overfit', base_trial: 'x', action_json: '[]', patience: '3' }), { start_step: 0, patience: 3, ratio_threshold: 0.1 });
  });

  it('refuses an unknown rule, a parameter the rule does not have and a value that does not read, naming each', () => {
    assertDomainError(() => builtInRule('NoSuchRule', 'debug'), 'ValidationError', { message: /NoSuchRule.*VanishingGradient/ });
    assertDomainError(() => builtInRule('StepOutlier', 'debug'), 'ValidationError', { message: /StepOutlier is a profiler rule/ });
    const rule = builtInRule('DeadRelu', 'debug');
    assertDomainError(() => readRuleParameters(rule, { threshold: '1' }), 'ValidationError', { message: /DeadRelu has no parameter threshold; its parameters are threshold_inactivity, threshold_layer, tensor_regex/ });
    assertDomainError(() => readRuleParameters(rule, { threshold_layer: 'half' }), 'ValidationError', { message: /threshold_layer must be a number, not "half"/ });
    assertDomainError(() => readRuleParameters(builtInRule('ExplodingTensor', 'debug'), { only_nan: 'yes' }), 'ValidationError', { message: /True or False/ });
    assertDomainError(() => readRuleParameters(builtInRule('ExplodingTensor', 'debug'), { tensor_regex: 'w1(' }), 'ValidationError', { message: /tensor_regex must be a regular expression/ });
    assertDomainError(() => readRuleParameters(builtInRule('ExplodingTensor', 'debug'), { tensor_regex: '(w)\\1' }), 'ValidationError', { message: /tensor_regex must be a regular expression RE2 accepts \(.*\\1/ });
    for (const [rule, name, text] of [['StepOutlier', 'n_outliers', '2.6'], ['StepOutlier', 'n_outliers', '-1'], ['Overfit', 'patience', '0'], ['Overfit', 'ratio_threshold', '0x2'], ['Overfit', 'ratio_threshold', ' 5 '], ['VanishingGradient', 'threshold', '-1']] as const) {
      const kind = BUILT_IN_RULES.find((r) => r.name === rule)!.kind;
      assertDomainError(() => readRuleParameters(builtInRule(rule, kind), { [name]: text }), 'ValidationError', { message: new RegExp(`${name} must be`) });
    }
  });
});
