import type { TrainingTrace } from './trace.ts';
import type { TraceRecord } from './trace-protocol.ts';

/**
 * A job's trace holds every step's loss and timing up to this many steps (about 15 MB on disk);
 * past it, only the steps that carry tensors or ReLU activity are kept, so the tensor rules
 * still see the whole run and memory stays bounded however long a job runs.
 */
export const MAX_TRACE_STEPS = 100_000;
/** Fourteen hours of samples at the default 500 ms. */
export const MAX_SYSTEM_SAMPLES = 100_000;

/** Assembles a trace from its records, in the order they come. */
export class TraceBuilder {
  readonly trace: TrainingTrace = { steps: [], epochs: [], system: [] };
  /** Records left out by the limits above. */
  dropped = 0;

  add(record: TraceRecord): void {
    const { trace } = this;
    switch (record.type) {
      case 'step': {
        const { step } = record;
        if (trace.steps.length >= MAX_TRACE_STEPS && step.tensors.length === 0 && step.relus.length === 0) this.dropped++;
        else trace.steps.push(step);
        return;
      }
      case 'epoch':
        // An epoch that does not say where it ended ended at the latest step.
        trace.epochs.push({ ...record.epoch, step: record.epoch.step ?? trace.steps.at(-1)?.step ?? 0 });
        return;
      case 'classes':
        trace.classes = record.classes;
        return;
      case 'system':
        if (trace.system.length >= MAX_SYSTEM_SAMPLES) this.dropped++;
        else trace.system.push(record.sample);
        return;
    }
  }

  /** Keeps what happened before `step` and its epochs up to `epoch`: a run resumed from a checkpoint records the rest again. */
  rewindTo(step: number, epoch: number): void {
    const { trace } = this;
    trace.steps = trace.steps.filter((s) => s.step < step);
    trace.epochs = trace.epochs.filter((e) => e.epoch <= epoch);
    trace.system = trace.system.filter((s) => s.step < step);
  }

  /** The trace as records, oldest first: what a rewound trace's file is rewritten with. */
  records(): TraceRecord[] {
    const { trace } = this;
    return [
      ...(trace.classes ? [{ type: 'classes' as const, classes: trace.classes }] : []),
      ...trace.steps.map((step) => ({ type: 'step' as const, step })),
      ...trace.epochs.map((epoch) => ({ type: 'epoch' as const, epoch })),
      ...trace.system.map((sample) => ({ type: 'system' as const, sample })),
    ];
  }
}
