import type { TraceStep, TrainingTrace } from './trace.ts';
import type { TraceRecord } from './trace-protocol.ts';

/**
 * What a trace keeps in memory, however long the job runs and whatever a script writes. Past
 * MAX_TRACE_STEPS steps, every other step without tensors is let go and only every second one
 * after that is kept (and so on, halving each time the limit is reached again), so the loss
 * and step times still span the whole run. Tensors and ReLU activity are kept for up to
 * MAX_TENSOR_STEPS steps and MAX_TENSOR_CHARS of their records; later steps keep their loss
 * and timing only. System samples thin out the same way as steps.
 */
export const MAX_TRACE_STEPS = 100_000;
export const MAX_TENSOR_STEPS = 5_000;
export const MAX_TENSOR_CHARS = 64 * 1024 * 1024;
export const MAX_SYSTEM_SAMPLES = 100_000;
export const MAX_EPOCHS = 100_000;

const hasTensors = (step: TraceStep) => step.tensors.length > 0 || step.relus.length > 0;

/** Assembles a trace from its records, in the order they come. */
export class TraceBuilder {
  readonly trace: TrainingTrace = { steps: [], epochs: [], system: [] };
  /** Records left out or thinned out by the limits above. */
  dropped = 0;
  #tensorSteps = 0;
  #tensorChars = 0;
  #stepStride = 1;
  #plainSteps = 0;
  #systemStride = 1;
  #samples = 0;

  /**
   * Adds a record of `chars` characters (its line). Returns the record as kept, which is the
   * one to write down: the same, a step without its tensors past the limits, or undefined when
   * it is left out.
   */
  add(record: TraceRecord, chars = 0): TraceRecord | undefined {
    const { trace } = this;
    switch (record.type) {
      case 'step': {
        let { step } = record;
        if (hasTensors(step)) {
          if (this.#tensorSteps < MAX_TENSOR_STEPS && this.#tensorChars + chars <= MAX_TENSOR_CHARS) {
            this.#tensorSteps++;
            this.#tensorChars += chars;
            trace.steps.push(step);
            return record;
          }
          step = { ...step, tensors: [], relus: [] };
        }
        if (this.#plainSteps++ % this.#stepStride !== 0) return this.#drop();
        if (trace.steps.length >= MAX_TRACE_STEPS) {
          let kept = 0;
          trace.steps = trace.steps.filter((s) => hasTensors(s) || kept++ % 2 === 0);
          this.dropped += MAX_TRACE_STEPS - trace.steps.length;
          this.#stepStride *= 2;
        }
        trace.steps.push(step);
        return step === record.step ? record : { type: 'step', step };
      }
      case 'epoch': {
        if (trace.epochs.length >= MAX_EPOCHS) return this.#drop();
        // An epoch that does not say where it ended ended at the latest step.
        const epoch = { ...record.epoch, step: record.epoch.step ?? trace.steps.at(-1)?.step ?? 0 };
        trace.epochs.push(epoch);
        return { type: 'epoch', epoch };
      }
      case 'classes':
        trace.classes = record.classes;
        return record;
      case 'system':
        if (this.#samples++ % this.#systemStride !== 0) return this.#drop();
        if (trace.system.length >= MAX_SYSTEM_SAMPLES) {
          trace.system = trace.system.filter((_, i) => i % 2 === 0);
          this.dropped += MAX_SYSTEM_SAMPLES - trace.system.length;
          this.#systemStride *= 2;
        }
        trace.system.push(record.sample);
        return record;
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

  #drop(): undefined {
    this.dropped++;
    return undefined;
  }
}
