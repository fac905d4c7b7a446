import { describeError } from '../core/errors.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import { startInstance, type Instance } from '../runtime/serving/instance.ts';
import { storedBackboneOptions } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import type { LabelsDocument } from './labels.ts';
import type { Reconciler } from './reconciler.ts';
import type { InstanceRegistry } from './instances.ts';

/**
 * Starts the instances every endpoint that should serve lacks in this process
 * (all of a new endpoint's, every endpoint's after a restart, and one that
 * died), and removes endpoints marked Deleting once their requests in flight
 * are done. Loads and drains go on in the background, one at a time per
 * endpoint, so a slow model or a long request holds up only its own endpoint,
 * never the controller.
 */
export class EndpointReconciler implements Reconciler {
  readonly name = 'endpoints';
  private readonly busy = new Map<string, Promise<void>>();
  /** Endpoints whose instance died in this process and is being replaced. */
  private readonly replacing = new Set<string>();

  constructor(
    private readonly deps: ControlDeps,
    private readonly instances: InstanceRegistry,
    private readonly kick: () => void,
  ) {}

  async reconcile(): Promise<void> {
    const endpoints = this.deps.store.endpoints.list();
    const known = new Set(endpoints.map((endpoint) => endpoint.name));
    for (const name of this.instances.names()) {
      if (!known.has(name)) this.inBackground(name, () => this.instances.remove(name));
    }
    for (const endpoint of endpoints) {
      if (endpoint.status === 'Deleting') {
        this.inBackground(endpoint.name, async () => {
          await this.instances.remove(endpoint.name);
          this.deps.store.endpoints.delete(endpoint.name);
        });
      } else if (endpoint.status !== 'Failed' && this.instances.count(endpoint.name) < desiredInstances(endpoint)) {
        this.inBackground(endpoint.name, () => this.bringUp(endpoint));
      }
    }
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.busy.values());
  }

  async close(): Promise<void> {
    await this.settled();
    await this.instances.closeAll();
  }

  /** Starts `work` for the endpoint unless something is already under way for it; the next pass looks again. */
  private inBackground(name: string, work: () => Promise<void>): void {
    if (this.busy.has(name)) return;
    const done = work()
      .catch((error: unknown) => this.deps.logger.error('endpoint work failed', { endpointName: name, error: describeError(error) }))
      .finally(() => {
        this.busy.delete(name);
        this.kick();
      });
    this.busy.set(name, done);
  }

  /** Starts the instances the endpoint lacks: all of them at first (and after a restart), or those that died. */
  private async bringUp(endpoint: Endpoint): Promise<void> {
    const { store, clock, logger } = this.deps;
    // Recorded InService by the Kennel that ran before this one: not serving here until its model is loaded.
    // An instance that died is replaced with the endpoint left InService, as SageMaker replaces instances.
    const replaced = this.replacing.delete(endpoint.name);
    const replacing = replaced || this.instances.has(endpoint.name);
    if (endpoint.status === 'InService' && !replacing) store.endpoints.update(endpoint.name, { status: 'SystemUpdating', lastModifiedAtMs: clock.now() });
    const desired = desiredInstances(endpoint);
    const missing = desired - this.instances.count(endpoint.name);
    const started = await Promise.allSettled(Array.from({ length: missing }, () => this.startOne(endpoint, desired)));
    const instances = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    // Loading took a while: the endpoint may have been deleted meanwhile, and then must stay deleted.
    const current = store.endpoints.get(endpoint.name);
    if (failure || !current || current.status === 'Deleting' || current.status === 'Failed') {
      await Promise.all(instances.map((instance) => instance.close()));
      if (!failure || !current || current.status === 'Deleting') return;
      const reason = `Could not load the model: ${describeError(failure.reason)}`;
      store.endpoints.update(endpoint.name, { status: 'Failed', failureReason: reason, lastModifiedAtMs: clock.now() });
      logger.error('endpoint failed', { endpointName: endpoint.name, reason });
      return;
    }
    for (const instance of instances) {
      instance.onExit((reason) => {
        // Requests in flight were refused with ServiceUnavailable; the next pass starts a new instance.
        if (!this.instances.discard(endpoint.name, instance)) return;
        this.replacing.add(endpoint.name);
        logger.warn('endpoint instance died; replacing it', { endpointName: endpoint.name, reason });
        this.kick();
      });
      this.instances.add(endpoint.name, instance);
    }
    store.endpoints.update(endpoint.name, { status: 'InService', failureReason: undefined, lastModifiedAtMs: clock.now() });
    logger.info('endpoint in service', { endpointName: endpoint.name, model: current.productionVariants[0]?.modelName, instances: this.instances.count(endpoint.name) });
  }

  private async startOne(endpoint: Endpoint, instanceCount: number): Promise<Instance> {
    const { artifacts } = this.deps;
    const variant = endpoint.productionVariants[0];
    if (!variant) throw new Error('the endpoint has no production variant');
    const labels = JSON.parse(new TextDecoder().decode(await artifacts.get(variant.artifacts.labels))) as LabelsDocument;
    const { backbone } = variant;
    return startInstance({
      modelName: variant.modelName,
      variantName: variant.variantName,
      // Read through the artifact store, which checks the hash: a damaged file fails loudly instead of changing every prediction.
      backbone: await artifacts.get(backbone.digest),
      backboneOptions: storedBackboneOptions(
        backbone,
        this.deps.servingThreads > 0 ? this.deps.servingThreads : instanceThreads(variant.instanceType, instanceCount, this.deps.cores),
      ),
      headModel: await artifacts.get(variant.artifacts.headModel),
      labels: labels.classes.map((entry) => entry.label),
    });
  }
}

function desiredInstances(endpoint: Endpoint): number {
  return endpoint.productionVariants[0]?.instanceCount ?? 1;
}

/**
 * ONNX Runtime threads of each of `count` instances: the instance type's vCPUs, but never more
 * than an equal share of this machine's cores, and at least one. Instances beyond the cores
 * still add queues to spread requests over, not speed.
 */
export function instanceThreads(instanceType: string, count: number, cores: number): number {
  return Math.max(1, Math.min(threadBudget(instanceType, cores), Math.floor(cores / count)));
}
