import type { Instance } from '../runtime/serving/instance-types.ts';

interface Entry {
  instance: Instance;
  inFlight: number;
  /** Resolves the pending removal once the last request in flight is done. */
  drained?: () => void;
}

/** An instance borrowed for one request; `release` must be called exactly once. */
export interface InstanceLease<Kind extends Instance = Instance> {
  instance: Kind;
  release(): void;
}

/** Instances to serve an endpoint with, by variant name. */
export type VariantInstances = ReadonlyMap<string, readonly Instance[]>;

/**
 * The instances running in this process, by endpoint and variant: observed state,
 * rebuilt after a restart. Requests borrow an instance, so removing one waits for
 * the requests in flight instead of closing sessions under them.
 *
 * An endpoint is known here from its first instance until `remove`; a variant whose
 * last instance died stays known with none, so its endpoint is repaired, not reloaded.
 */
export class InstanceRegistry {
  private readonly endpoints = new Map<string, Map<string, Entry[]>>();

  has(endpointName: string): boolean {
    return this.endpoints.has(endpointName);
  }

  /** Instances per variant of the endpoint, or undefined when it has no deployment here. */
  observed(endpointName: string): Map<string, number> | undefined {
    const variants = this.endpoints.get(endpointName);
    if (!variants) return undefined;
    return new Map([...variants].map(([variant, entries]) => [variant, entries.length]));
  }

  /** How many instances serve the endpoint now, or one of its variants. */
  count(endpointName: string, variantName?: string): number {
    return this.entries(endpointName, variantName).length;
  }

  /** Requests the instances hold, running or waiting. */
  inFlight(endpointName: string, variantName?: string): number {
    return this.entries(endpointName, variantName).reduce((sum, entry) => sum + entry.inFlight, 0);
  }

  list(endpointName: string, variantName?: string): Instance[] {
    return this.entries(endpointName, variantName).map((entry) => entry.instance);
  }

  /**
   * Lends the variant's instance with the fewest requests in flight (the first of them on a
   * tie), leaving out `except`: least outstanding requests, as SageMaker's routing strategy of
   * that name. 'full' when every instance already holds `limit` requests; undefined when none serves.
   */
  acquire(endpointName: string, variantName: string, options: { except?: Instance; limit?: number } = {}): InstanceLease | 'full' | undefined {
    let best: Entry | undefined;
    for (const entry of this.entries(endpointName, variantName)) {
      if (entry.instance !== options.except && (!best || entry.inFlight < best.inFlight)) best = entry;
    }
    if (!best) return undefined;
    if (options.limit !== undefined && best.inFlight >= options.limit) return 'full';
    return lend(best);
  }

  add(endpointName: string, variantName: string, instance: Instance): void {
    const variants = this.endpoints.get(endpointName) ?? new Map<string, Entry[]>();
    this.endpoints.set(endpointName, variants);
    variants.set(variantName, [...(variants.get(variantName) ?? []), { instance, inFlight: 0 }]);
  }

  /**
   * Forgets `instance` if it still serves the endpoint, without closing it (it is dead);
   * requests that hold a lease on it have been refused already. True if it did.
   */
  discard(endpointName: string, instance: Instance): boolean {
    for (const [variant, entries] of this.endpoints.get(endpointName) ?? []) {
      const kept = entries.filter((entry) => entry.instance !== instance);
      if (kept.length === entries.length) continue;
      this.endpoints.get(endpointName)!.set(variant, kept);
      return true;
    }
    return false;
  }

  /** Stops lending `count` of the variant's instances (the least busy), then closes each when its requests are done. */
  async shrink(endpointName: string, variantName: string, count: number): Promise<void> {
    const entries = [...this.entries(endpointName, variantName)].sort((a, b) => a.inFlight - b.inFlight);
    const leaving = entries.slice(0, count);
    this.endpoints.get(endpointName)?.set(
      variantName,
      this.entries(endpointName, variantName).filter((entry) => !leaving.includes(entry)),
    );
    await drainAndClose(leaving);
  }

  /**
   * Switches the endpoint to `next` in one step, so every request from now on goes to the new
   * instances, then closes the old ones as their requests finish: the cut-over of a blue/green update.
   */
  async replace(endpointName: string, next: VariantInstances): Promise<void> {
    const old = [...(this.endpoints.get(endpointName)?.values() ?? [])].flat();
    this.endpoints.set(endpointName, new Map([...next].map(([variant, instances]) => [variant, instances.map((instance) => ({ instance, inFlight: 0 }))])));
    await drainAndClose(old);
  }

  /** Stops lending the endpoint's instances at once, then closes each when its requests are done. */
  async remove(endpointName: string): Promise<void> {
    const entries = [...(this.endpoints.get(endpointName)?.values() ?? [])].flat();
    this.endpoints.delete(endpointName);
    await drainAndClose(entries);
  }

  names(): string[] {
    return [...this.endpoints.keys()];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.remove(name)));
  }

  private entries(endpointName: string, variantName?: string): Entry[] {
    const variants = this.endpoints.get(endpointName);
    if (!variants) return [];
    return variantName === undefined ? [...variants.values()].flat() : (variants.get(variantName) ?? []);
  }
}

function lend(entry: Entry): InstanceLease {
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

async function drainAndClose(entries: readonly Entry[]): Promise<void> {
  await Promise.all(
    entries.map(async (entry) => {
      if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.drained = resolve));
      await entry.instance.close();
    }),
  );
}
