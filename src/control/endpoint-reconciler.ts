import { describeError } from '../core/errors.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import { startInstance, type Instance } from '../runtime/serving/instance.ts';
import type { ControlDeps } from './deps.ts';
import type { LabelsDocument } from './labels.ts';
import type { Reconciler } from './reconciler.ts';
import type { InstanceRegistry } from './instances.ts';

/**
 * Loads the model of every endpoint that should serve and is not loaded in this
 * process (a new endpoint, or every endpoint after a restart), and removes
 * endpoints marked Deleting once their requests in flight are done. Loads and
 * drains go on in the background, one at a time per endpoint, so a slow model
 * or a long request holds up only its own endpoint, never the controller.
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
      } else if (endpoint.status !== 'Failed' && !this.instances.has(endpoint.name)) {
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

  private async bringUp(endpoint: Endpoint): Promise<void> {
    const { store, artifacts, clock, logger } = this.deps;
    // Recorded InService by the Kennel that ran before this one: not serving here until its model is loaded.
    // An instance that died is replaced with the endpoint left InService, as SageMaker replaces instances.
    const replacing = this.replacing.delete(endpoint.name);
    if (endpoint.status === 'InService' && !replacing) store.endpoints.update(endpoint.name, { status: 'SystemUpdating', lastModifiedAtMs: clock.now() });
    let instance: Instance;
    try {
      const variant = endpoint.productionVariants[0];
      if (!variant) throw new Error('the endpoint has no production variant');
      const labels = JSON.parse(new TextDecoder().decode(await artifacts.get(variant.artifacts.labels))) as LabelsDocument;
      const threads = this.deps.servingThreads > 0 ? this.deps.servingThreads : threadBudget(variant.instanceType, this.deps.cores);
      const { backbone } = variant;
      instance = await startInstance({
        modelName: variant.modelName,
        variantName: variant.variantName,
        // Read through the artifact store, which checks the hash: a damaged file fails loudly instead of changing every prediction.
        backbone: await artifacts.get(backbone.digest),
        backboneOptions: {
          digest: backbone.digest,
          inputName: backbone.inputName,
          outputName: backbone.outputName,
          featureSize: backbone.featureSize,
          preprocessing: backbone.preprocessing,
          intraOpNumThreads: threads,
        },
        headModel: await artifacts.get(variant.artifacts.headModel),
        labels: labels.classes.map((entry) => entry.label),
      });
    } catch (error) {
      const reason = `Could not load the model: ${describeError(error)}`;
      if (store.endpoints.get(endpoint.name)?.status === 'Deleting') return;
      store.endpoints.update(endpoint.name, { status: 'Failed', failureReason: reason, lastModifiedAtMs: clock.now() });
      logger.error('endpoint failed', { endpointName: endpoint.name, reason });
      return;
    }
    // Loading took a while: the endpoint may have been deleted meanwhile, and then must stay deleted.
    const current = store.endpoints.get(endpoint.name);
    if (!current || current.status === 'Deleting' || current.status === 'Failed') {
      await instance.close();
      return;
    }
    instance.onExit((reason) => {
      // Requests in flight were refused with ServiceUnavailable; the next pass starts a new instance.
      if (!this.instances.discard(endpoint.name, instance)) return;
      this.replacing.add(endpoint.name);
      logger.warn('endpoint instance died; replacing it', { endpointName: endpoint.name, reason });
      this.kick();
    });
    this.instances.set(endpoint.name, instance);
    store.endpoints.update(endpoint.name, { status: 'InService', failureReason: undefined, lastModifiedAtMs: clock.now() });
    logger.info('endpoint in service', { endpointName: endpoint.name, model: current.productionVariants[0]?.modelName });
  }
}
