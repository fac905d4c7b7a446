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
 * The instances loaded in this process, by endpoint name. Observed state: it is
 * rebuilt after a restart. Requests borrow an instance, so removing one waits for
 * the requests in flight instead of closing sessions under them.
 */
export class InstanceRegistry {
  private readonly entries = new Map<string, Entry>();

  has(endpointName: string): boolean {
    return this.entries.has(endpointName);
  }

  get(endpointName: string): Instance | undefined {
    return this.entries.get(endpointName)?.instance;
  }

  acquire(endpointName: string): InstanceLease | undefined {
    const entry = this.entries.get(endpointName);
    if (!entry) return undefined;
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

  set(endpointName: string, instance: Instance): void {
    this.entries.set(endpointName, { instance, inFlight: 0 });
  }

  /**
   * Forgets `instance` if it is still the one serving the endpoint, without closing it (it is
   * dead); requests that hold a lease on it have been refused already. True if it was.
   */
  discard(endpointName: string, instance: Instance): boolean {
    const entry = this.entries.get(endpointName);
    if (entry?.instance !== instance) return false;
    this.entries.delete(endpointName);
    return true;
  }

  /** Stops lending the instance at once, then closes it when its requests are done. */
  async remove(endpointName: string): Promise<void> {
    const entry = this.entries.get(endpointName);
    if (!entry) return;
    this.entries.delete(endpointName);
    if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.drained = resolve));
    await entry.instance.close();
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.remove(name)));
  }
}
