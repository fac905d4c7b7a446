import { describeError } from '../core/errors.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import { loadReplica, type Replica } from '../runtime/serving/replica.ts';
import { openStoredBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import type { LabelsDocument } from './labels.ts';
import type { Reconciler } from './reconciler.ts';
import type { ReplicaRegistry } from './replicas.ts';

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

  constructor(
    private readonly deps: ControlDeps,
    private readonly replicas: ReplicaRegistry,
    private readonly kick: () => void,
  ) {}

  async reconcile(): Promise<void> {
    const endpoints = this.deps.store.endpoints.list();
    const known = new Set(endpoints.map((endpoint) => endpoint.name));
    for (const name of this.replicas.names()) {
      if (!known.has(name)) this.inBackground(name, () => this.replicas.remove(name));
    }
    for (const endpoint of endpoints) {
      if (endpoint.status === 'Deleting') {
        this.inBackground(endpoint.name, async () => {
          await this.replicas.remove(endpoint.name);
          this.deps.store.endpoints.delete(endpoint.name);
        });
      } else if (endpoint.status !== 'Failed' && !this.replicas.has(endpoint.name)) {
        this.inBackground(endpoint.name, () => this.bringUp(endpoint));
      }
    }
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.busy.values());
  }

  async close(): Promise<void> {
    await this.settled();
    await this.replicas.closeAll();
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
    if (endpoint.status === 'InService') store.endpoints.update(endpoint.name, { status: 'SystemUpdating', lastModifiedAtMs: clock.now() });
    let replica: Replica;
    try {
      const variant = endpoint.productionVariants[0];
      if (!variant) throw new Error('the endpoint has no production variant');
      const labels = JSON.parse(new TextDecoder().decode(await artifacts.get(variant.artifacts.labels))) as LabelsDocument;
      const threads = this.deps.servingThreads > 0 ? this.deps.servingThreads : threadBudget(variant.instanceType, this.deps.cores);
      const extractor = await openStoredBackbone(this.deps, variant.backbone, threads);
      replica = await loadReplica({
        modelName: variant.modelName,
        variantName: variant.variantName,
        extractor,
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
      await replica.close();
      return;
    }
    this.replicas.set(endpoint.name, replica);
    store.endpoints.update(endpoint.name, { status: 'InService', failureReason: undefined, lastModifiedAtMs: clock.now() });
    logger.info('endpoint in service', { endpointName: endpoint.name, model: current.productionVariants[0]?.modelName });
  }
}
