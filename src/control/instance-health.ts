import type { Logger } from '../core/logger.ts';
import type { Instance } from '../runtime/serving/instance-types.ts';
import type { InstanceRegistry } from './instances.ts';

export interface HealthCheckSettings {
  /** How often every instance is asked. */
  intervalMs: number;
  /** How long an answer may take. */
  timeoutMs: number;
  /** Checks in a row without an answer after which the instance is given up on and replaced. */
  unhealthyThreshold: number;
}

/**
 * As SageMaker pings each container's /ping and replaces the instances that stop
 * answering. A worker answers from its event loop, so one that hangs (a model
 * stuck in run(), a busy loop) stops answering while a merely busy one answers
 * between batches; three misses of five seconds each, checked every five, leave
 * room for the longest batch. A hung worker's thread cannot be ended safely from
 * outside (see instance-worker.ts): it is left behind, and a new instance serves.
 */
export const DEFAULT_HEALTH_CHECKS: HealthCheckSettings = { intervalMs: 5000, timeoutMs: 5000, unhealthyThreshold: 3 };

/**
 * Health checks of every instance in the registry. An instance that misses
 * `unhealthyThreshold` checks in a row is given up on (Instance.terminate): its requests are refused
 * (or retried elsewhere), and the endpoint reconciler replaces it like any dead one.
 */
export class InstanceHealthChecks {
  private lastRunMs = -Infinity;
  private running = false;
  private readonly misses = new WeakMap<Instance, number>();

  constructor(
    private readonly instances: InstanceRegistry,
    private readonly logger: Logger,
    private readonly settings: HealthCheckSettings = DEFAULT_HEALTH_CHECKS,
  ) {}

  /** Starts a round of checks in the background if one is due at `nowMs` and none is running. */
  run(nowMs: number): Promise<void> {
    if (this.running || nowMs < this.lastRunMs + this.settings.intervalMs) return Promise.resolve();
    this.lastRunMs = nowMs;
    this.running = true;
    const checks = this.instances.names().flatMap((endpointName) => this.instances.list(endpointName).map((instance) => this.check(endpointName, instance)));
    return Promise.all(checks)
      .then(() => undefined)
      .finally(() => (this.running = false));
  }

  private async check(endpointName: string, instance: Instance): Promise<void> {
    if (!instance.alive) return;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      instance.ping().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.settings.timeoutMs))),
    ]);
    clearTimeout(timer);
    if (answered) {
      this.misses.delete(instance);
      return;
    }
    const misses = (this.misses.get(instance) ?? 0) + 1;
    this.misses.set(instance, misses);
    if (misses < this.settings.unhealthyThreshold) return;
    this.logger.warn('endpoint instance failed its health checks; replacing it', {
      endpointName,
      variantName: instance.variantName,
      misses,
      timeoutMs: this.settings.timeoutMs,
    });
    await instance.terminate();
  }
}
