import type { Replica } from '../runtime/serving/replica.ts';

interface Entry {
  replica: Replica;
  inFlight: number;
  /** Resolves the pending removal once the last request in flight is done. */
  drained?: () => void;
}

/** A replica borrowed for one request; `release` must be called exactly once. */
export interface ReplicaLease {
  replica: Replica;
  release(): void;
}

/**
 * The replicas loaded in this process, by endpoint name. Observed state: it is
 * rebuilt after a restart. Requests borrow a replica, so removing one waits for
 * the requests in flight instead of closing sessions under them.
 */
export class ReplicaRegistry {
  private readonly entries = new Map<string, Entry>();

  has(endpointName: string): boolean {
    return this.entries.has(endpointName);
  }

  acquire(endpointName: string): ReplicaLease | undefined {
    const entry = this.entries.get(endpointName);
    if (!entry) return undefined;
    entry.inFlight++;
    let released = false;
    return {
      replica: entry.replica,
      release: () => {
        if (released) return;
        released = true;
        entry.inFlight--;
        if (entry.inFlight === 0) entry.drained?.();
      },
    };
  }

  set(endpointName: string, replica: Replica): void {
    this.entries.set(endpointName, { replica, inFlight: 0 });
  }

  /** Stops lending the replica at once, then closes it when its requests are done. */
  async remove(endpointName: string): Promise<void> {
    const entry = this.entries.get(endpointName);
    if (!entry) return;
    this.entries.delete(endpointName);
    if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.drained = resolve));
    await entry.replica.close();
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.remove(name)));
  }
}
