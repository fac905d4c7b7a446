import type { EpochMetrics } from '../domain/training/training-job.ts';

/** What the platform tells observers (the CLI's progress bars, logs) while it works. */
export type PlatformEvent =
  | { kind: 'training-progress'; jobName: string; step: 'embedding'; done: number; total: number }
  /** The latest epoch of a job (several may have ended since the last event); `tuningJobName` is set on tuning trials. */
  | { kind: 'training-epoch'; jobName: string; metrics: EpochMetrics; epochs: number; tuningJobName?: string };

export type PlatformListener = (event: PlatformEvent) => void;

export class PlatformEvents {
  private readonly listeners = new Set<PlatformListener>();

  /** Returns a function that removes the listener. */
  subscribe(listener: PlatformListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: PlatformEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
