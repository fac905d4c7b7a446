import type { EpochMetrics } from '../domain/training/training-job.ts';

/** What the platform tells observers (the CLI's progress bars, logs) while it works. */
export type PlatformEvent =
  | { kind: 'training-progress'; jobName: string; step: 'embedding'; done: number; total: number }
  | { kind: 'training-epoch'; jobName: string; metrics: EpochMetrics; epochs: number };

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
