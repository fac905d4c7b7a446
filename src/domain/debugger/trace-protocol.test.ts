import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TENSOR_CHARS, MAX_TRACE_STEPS, TraceBuilder } from './trace-builder.ts';
import type { TraceStep } from './trace.ts';
import { encodeTraceRecord, parseTraceLine, type TraceRecord } from './trace-protocol.ts';

const RECORDS: TraceRecord[] = [
  {
    type: 'step',
    step: {
      step: 3,
      epoch: 1,
      loss: Number.NaN,
      learningRate: 0.001,
      dataMs: 2.5,
      computeMs: 7,
      tensors: [{ name: 'fc.weight', norm: 1, variance: 0.1, gradientNorm: Number.POSITIVE_INFINITY, gradientMeanAbs: 0.01, gradientSpread: 0.02, nanCount: 0, infiniteCount: 3, histogram: { min: -1, max: 1, counts: [1, 2] } }],
      relus: [{ layer: 'relu1', activePercent: [0, 50, 100] }],
    },
  },
  { type: 'epoch', epoch: { epoch: 1, step: 3, trainLoss: 0.5, validationLoss: 0.7, trainAccuracy: 0.8, validationAccuracy: 0.6 } },
  { type: 'classes', classes: { labels: ['a', 'b'], samples: [10, 1], mispredicted: [0.1, 0.9] } },
  { type: 'system', sample: { atMs: 1_764_640_000_000, step: 3, cpuPercent: 50, rssMb: 200, pauseMs: 4 } },
];

describe('the debugger trace protocol (JSON lines)', () => {
  it('reads back every record it writes, NaN and infinities included', () => {
    for (const record of RECORDS) {
      const line = encodeTraceRecord(record);
      assert.ok(!line.includes('\n'));
      assert.deepEqual(parseTraceLine(line), record);
    }
  });

  it('reads what a script writes by hand: snake_case, few fields, Python’s bare NaN', () => {
    const parsed = parseTraceLine('{"type": "step", "step": 7, "loss": NaN, "tensors": [{"name": "w", "norm": Infinity, "variance": 0, "gradient_norm": 0, "gradient_mean_abs": 0}]}');
    assert.ok(!('error' in parsed) && parsed.type === 'step');
    assert.ok(Number.isNaN(parsed.step.loss));
    assert.equal(parsed.step.tensors[0]!.norm, Number.POSITIVE_INFINITY);
    assert.equal(parsed.step.dataMs, 0);
    const epoch = parseTraceLine('{"type":"epoch","epoch":2,"train_loss":0.3}');
    assert.deepEqual(epoch, { type: 'epoch', epoch: { epoch: 2, trainLoss: 0.3 } });
  });

  const bad: [string, RegExp][] = [
    ['{"type": "step", "step": 1', /not JSON/],
    ['[1, 2]', /type|expected/i],
    ['{"type": "stpe", "step": 1, "loss": 1}', /type/],
    ['{"type": "step", "step": -1, "loss": 1}', /step/],
    ['{"type": "step", "step": 1, "loss": "high"}', /loss/],
    ['{"type": "step", "step": 1, "loss": 1, "extra": true}', /extra/],
    ['{"type": "classes", "labels": ["a"], "samples": [1, 2]}', /one entry per class/],
    ['{"type": "system", "at_ms": 1, "step": 0, "cpu_percent": 250, "rss_mb": 1}', /cpu_percent/],
    [`{"type": "step", "step": 1, "loss": 1, "pad": "${'x'.repeat(1024 * 1024)}"}`, /over 1048576/],
  ];
  for (const [line, message] of bad) {
    it(`refuses ${line.slice(0, 60)}, saying why`, () => {
      const parsed = parseTraceLine(line);
      assert.ok('error' in parsed, JSON.stringify(parsed).slice(0, 200));
      assert.match(parsed.error, message);
    });
  }

  it('a builder thins its steps out past its cap, keeping the whole run’s span and every step with tensors; and rewinds to a checkpoint', () => {
    const builder = new TraceBuilder();
    const plain = (step: number): TraceRecord => ({ type: 'step', step: { step, epoch: 1, loss: 1, learningRate: 0, dataMs: 0, computeMs: 0, tensors: [], relus: [] } });
    const total = 3 * MAX_TRACE_STEPS;
    for (let i = 0; i < total; i++) builder.add(plain(i));
    const tensorStep = { ...RECORDS[0]!, step: { ...(RECORDS[0] as { step: TraceStep }).step, step: total } } as TraceRecord;
    assert.equal(builder.add(tensorStep, 500), tensorStep);
    const steps = builder.trace.steps;
    assert.ok(steps.length <= MAX_TRACE_STEPS, `${steps.length} steps kept`);
    assert.ok(steps.length >= MAX_TRACE_STEPS / 4, `${steps.length} steps kept`);
    assert.equal(steps[0]!.step, 0);
    assert.ok(steps.at(-2)!.step > total - 10, 'the latest steps are there');
    assert.equal(steps.at(-1)!.tensors.length, 1, 'a step with tensors is kept whole');
    assert.equal(builder.dropped, total - (steps.length - 1));

    builder.add({ type: 'epoch', epoch: { epoch: 1, trainLoss: 1 } });
    assert.equal(builder.trace.epochs[0]!.step, total, 'an epoch without a step ended at the latest one');
    builder.rewindTo(50, 0);
    assert.ok(builder.trace.steps.every((s) => s.step < 50));
    assert.deepEqual(builder.trace.epochs, []);
  });

  it('a builder keeps tensors only up to its budget: later steps keep their loss and timing', () => {
    const builder = new TraceBuilder();
    const heavy = (step: number): TraceRecord => ({ type: 'step', step: { ...(RECORDS[0] as { step: TraceStep }).step, step } });
    const chars = 1024 * 1024;
    let stripped: TraceRecord | undefined;
    for (let i = 0; i < MAX_TENSOR_CHARS / chars + 1; i++) stripped = builder.add(heavy(i), chars);
    assert.ok(stripped && stripped.type === 'step' && stripped.step.tensors.length === 0 && Number.isNaN(stripped.step.loss), 'the step over budget comes back without tensors, to be written so');
    assert.equal(builder.trace.steps.filter((s) => s.tensors.length > 0).length, MAX_TENSOR_CHARS / chars);
  });

});
