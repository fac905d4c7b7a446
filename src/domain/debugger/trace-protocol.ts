import { z } from 'zod';
import { describeIssues } from '../../core/zod-issues.ts';
import type { ClassCounts, SystemSample, TensorStatistics, TraceEpoch, TraceStep } from './trace.ts';

/**
 * Kennel's debugger trace on disk and from scripts: one JSON object per line, each with a
 * `type`, field names in snake_case. The built-in algorithm writes it; a script-mode job
 * appends its own records to the file `KENNEL_DEBUGGER_TRACE` names (helpers for Python and
 * Node are in examples/debugger/), and Kennel adds the system samples. docs/debugger.md
 * documents the format.
 *
 *   {"type": "step", "step": 12, "epoch": 1, "loss": 0.42, "learning_rate": 0.001, "data_ms": 3.1, "compute_ms": 8.2,
 *    "tensors": [{"name": "fc1.weight", "norm": 3.2, "variance": 0.01, "gradient_norm": 0.5, ...}],
 *    "relus": [{"layer": "relu1", "active_percent": [97.5, 0, ...]}]}
 *   {"type": "epoch", "epoch": 1, "step": 104, "train_loss": 0.5, "validation_loss": 0.61, "train_accuracy": 0.8}
 *   {"type": "classes", "labels": ["a", "b"], "samples": [120, 14], "mispredicted": [0.1, 0.6]}
 *   {"type": "system", "at_ms": 1764640000000, "step": 12, "cpu_percent": 87.5, "rss_mb": 412, "pause_ms": 3}
 *
 * JSON has no NaN or infinity, and a diverging loss is exactly what ExplodingTensor looks
 * for: numbers may be written as "NaN", "Infinity" or "-Infinity", and Python's json.dumps,
 * which writes them bare, is read too.
 */

export type TraceRecord =
  | { type: 'step'; step: TraceStep }
  | { type: 'epoch'; epoch: Omit<TraceEpoch, 'step'> & { step?: number } }
  | { type: 'classes'; classes: ClassCounts }
  | { type: 'system'; sample: SystemSample };

/** A record is at most this long; a longer line is refused (a tensor's values belong in its statistics, not the trace). */
export const MAX_TRACE_LINE_CHARS = 1024 * 1024;

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

const anyNumber = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform((text) => NON_FINITE[text]!)]);
const finite = z.number().finite();
const count = z.number().int().nonnegative();

const tensor = z
  .object({
    name: z.string().min(1).max(256),
    norm: anyNumber,
    variance: anyNumber,
    gradient_norm: anyNumber,
    gradient_mean_abs: anyNumber,
    gradient_spread: anyNumber.optional(),
    nan_count: count.optional(),
    infinite_count: count.optional(),
    histogram: z.object({ min: finite, max: finite, counts: z.array(count).max(1000) }).strict().optional(),
  })
  .strict();

const relu = z.object({ layer: z.string().min(1).max(256), active_percent: z.array(z.number().min(0).max(100)).max(100_000) }).strict();

const stepRecord = z
  .object({
    type: z.literal('step'),
    step: count,
    epoch: count.optional(),
    loss: anyNumber,
    learning_rate: anyNumber.optional(),
    data_ms: z.number().nonnegative().finite().optional(),
    compute_ms: z.number().nonnegative().finite().optional(),
    tensors: z.array(tensor).max(10_000).optional(),
    relus: z.array(relu).max(1000).optional(),
  })
  .strict();

const epochRecord = z
  .object({
    type: z.literal('epoch'),
    epoch: count,
    step: count.optional(),
    train_loss: anyNumber,
    validation_loss: anyNumber.optional(),
    train_accuracy: anyNumber.optional(),
    validation_accuracy: anyNumber.optional(),
  })
  .strict();

const classesRecord = z
  .object({
    type: z.literal('classes'),
    labels: z.array(z.string().max(256)).max(100_000),
    samples: z.array(count).max(100_000),
    mispredicted: z.array(z.number().min(0).max(1)).max(100_000).optional(),
  })
  .strict()
  .refine((record) => record.samples.length === record.labels.length && (record.mispredicted?.length ?? record.labels.length) === record.labels.length, {
    message: 'labels, samples and mispredicted must have one entry per class',
  });

const systemRecord = z
  .object({
    type: z.literal('system'),
    at_ms: finite,
    step: count,
    cpu_percent: z.number().min(0).max(100),
    rss_mb: z.number().nonnegative().finite(),
    pause_ms: z.number().nonnegative().finite().optional(),
  })
  .strict();

const record = z.discriminatedUnion('type', [stepRecord, epochRecord, classesRecord, systemRecord]);

/** One line of a trace: the record, or why it is not one. */
export function parseTraceLine(line: string): TraceRecord | { error: string } {
  if (line.length > MAX_TRACE_LINE_CHARS) return { error: `the line is ${line.length} characters long, over ${MAX_TRACE_LINE_CHARS}` };
  const json = parseJson(line);
  if (json === undefined) return { error: 'not JSON' };
  const parsed = record.safeParse(json);
  if (!parsed.success) return { error: describeIssues(parsed.error) };
  const value = parsed.data;
  switch (value.type) {
    case 'step':
      return {
        type: 'step',
        step: {
          step: value.step,
          epoch: value.epoch ?? 0,
          loss: value.loss,
          learningRate: value.learning_rate ?? Number.NaN,
          dataMs: value.data_ms ?? 0,
          computeMs: value.compute_ms ?? 0,
          tensors: (value.tensors ?? []).map(
            (t): TensorStatistics => ({
              name: t.name,
              norm: t.norm,
              variance: t.variance,
              gradientNorm: t.gradient_norm,
              gradientMeanAbs: t.gradient_mean_abs,
              gradientSpread: t.gradient_spread ?? Number.NaN,
              nanCount: t.nan_count ?? 0,
              infiniteCount: t.infinite_count ?? 0,
              ...(t.histogram ? { histogram: t.histogram } : {}),
            }),
          ),
          relus: (value.relus ?? []).map((r) => ({ layer: r.layer, activePercent: r.active_percent })),
        },
      };
    case 'epoch':
      return {
        type: 'epoch',
        epoch: defined({
          epoch: value.epoch,
          step: value.step,
          trainLoss: value.train_loss,
          validationLoss: value.validation_loss,
          trainAccuracy: value.train_accuracy,
          validationAccuracy: value.validation_accuracy,
        }) as Omit<TraceEpoch, 'step'> & { step?: number },
      };
    case 'classes':
      return { type: 'classes', classes: { labels: value.labels, samples: value.samples, ...(value.mispredicted ? { mispredicted: value.mispredicted } : {}) } };
    case 'system':
      return { type: 'system', sample: { atMs: value.at_ms, step: value.step, cpuPercent: value.cpu_percent, rssMb: value.rss_mb, pauseMs: value.pause_ms ?? 0 } };
  }
}

/** The line for a record, without its newline; parseTraceLine reads it back to the same record. */
export function encodeTraceRecord(record: TraceRecord): string {
  switch (record.type) {
    case 'step': {
      const { step } = record;
      return stringify({
        type: 'step',
        step: step.step,
        epoch: step.epoch,
        loss: step.loss,
        learning_rate: step.learningRate,
        data_ms: step.dataMs,
        compute_ms: step.computeMs,
        ...(step.tensors.length > 0
          ? {
              tensors: step.tensors.map((t) => ({
                name: t.name,
                norm: t.norm,
                variance: t.variance,
                gradient_norm: t.gradientNorm,
                gradient_mean_abs: t.gradientMeanAbs,
                gradient_spread: t.gradientSpread,
                nan_count: t.nanCount,
                infinite_count: t.infiniteCount,
                ...(t.histogram ? { histogram: t.histogram } : {}),
              })),
            }
          : {}),
        ...(step.relus.length > 0 ? { relus: step.relus.map((r) => ({ layer: r.layer, active_percent: r.activePercent })) } : {}),
      });
    }
    case 'epoch': {
      const { epoch } = record;
      return stringify({
        type: 'epoch',
        epoch: epoch.epoch,
        step: epoch.step,
        train_loss: epoch.trainLoss,
        validation_loss: epoch.validationLoss,
        train_accuracy: epoch.trainAccuracy,
        validation_accuracy: epoch.validationAccuracy,
      });
    }
    case 'classes':
      return stringify({ type: 'classes', labels: record.classes.labels, samples: record.classes.samples, mispredicted: record.classes.mispredicted });
    case 'system': {
      const { sample } = record;
      return stringify({ type: 'system', at_ms: sample.atMs, step: sample.step, cpu_percent: sample.cpuPercent, rss_mb: sample.rssMb, pause_ms: sample.pauseMs });
    }
  }
}

/** JSON with NaN and the infinities as their names, and absent fields left out. */
function stringify(value: object): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' && !Number.isFinite(item) ? String(item) : item));
}

/** JSON, or Python's json.dumps output with bare NaN and Infinity tokens; undefined if neither. */
function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    // Only tried when plain JSON fails, so a string that happens to hold ":NaN," is never touched in a valid line.
    try {
      return JSON.parse(line.replace(/([:[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, '$1"$2"'));
    } catch {
      return undefined;
    }
  }
}

function defined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));
}
