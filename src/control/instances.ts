import type { Instance } from '../runtime/serving/instance.ts';

interface Entry {
  instance: Instance;
  inFlight: number;
  /** Resolves the pending removal once the last request in flight is done. */
  drained?: () => void;
}

/** An instance borrowed for one request; `release` must be called exactly once. */
export interface InstanceLease {
  instance: Instance;
  release(): void;
}

/**
 * The instances running in this process, by endpoint name. Observed state: it
 * is rebuilt after a restart. Requests borrow an instance, so removing one waits
 * for the requests in flight instead of closing sessions under them.
 */
export class InstanceRegistry {
  private readonly entries = new Map<string, Entry[]>();

  has(endpointName: string): boolean {
    return this.count(endpointName) > 0;
  }

  /** How many instances serve the endpoint now. */
  count(endpointName: string): number {
    return this.entries.get(endpointName)?.length ?? 0;
  }

  /** Requests the endpoint's instances hold now, running or waiting. */
  inFlight(endpointName: string): number {
    return (this.entries.get(endpointName) ?? []).reduce((total, entry) => total + entry.inFlight, 0);
  }

  list(endpointName: string): Instance[] {
    return (this.entries.get(endpointName) ?? []).map((entry) => entry.instance);
  }

  /**
   * Lends the instance with the fewest requests in flight (the first of them on a tie), leaving
   * out `except`: least outstanding requests, as SageMaker's routing strategy of that name.
   * 'full' when every instance already holds `limit` requests.
   */
  acquire(endpointName: string, options: { except?: Instance; limit?: number } = {}): InstanceLease | 'full' | undefined {
    let best: Entry | undefined;
    for (const entry of this.entries.get(endpointName) ?? []) {
      if (entry.instance !== options.except && (!best || entry.inFlight < best.inFlight)) best = entry;
    }
    if (!best) return undefined;
    if (options.limit !== undefined && best.inFlight >= options.limit) return 'full';
    const entry = best;
    entry.inFlight++;
    let released = false;
    return {
      instance: entry.instance,
      release: () => {
        if (released) return;
        released = true;
        entry.inFlight--;
        if (entry.inFlight === 0) entry.drained?.();
      },
    };
  }

  add(endpointName: string, instance: Instance): void {
    this.entries.set(endpointName, [...(this.entries.get(endpointName) ?? []), { instance, inFlight: 0 }]);
  }

  /**
   * Forgets `instance` if it still serves the endpoint, without closing it (it is dead);
   * requests that hold a lease on it have been refused already. True if it did.
   */
  discard(endpointName: string, instance: Instance): boolean {
    const entries = this.entries.get(endpointName) ?? [];
    const kept = entries.filter((entry) => entry.instance !== instance);
    if (kept.length === entries.length) return false;
    if (kept.length === 0) this.entries.delete(endpointName);
    else this.entries.set(endpointName, kept);
    return true;
  }

  /** Stops lending the endpoint's instances at once, then closes each when its requests are done. */
  async remove(endpointName: string): Promise<void> {
    const entries = this.entries.get(endpointName) ?? [];
    this.entries.delete(endpointName);
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.drained = resolve));
        await entry.instance.close();
      }),
    );
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.remove(name)));
  }
}
