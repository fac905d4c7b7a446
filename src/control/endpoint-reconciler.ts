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
 * endpoints marked Deleting once their requests in flight are done.
 */
export class EndpointReconciler implements Reconciler {
  readonly name = 'endpoints';

  constructor(
    private readonly deps: ControlDeps,
    private readonly replicas: ReplicaRegistry,
  ) {}

  async reconcile(): Promise<void> {
    const endpoints = this.deps.store.endpoints.list();
    const known = new Set(endpoints.map((endpoint) => endpoint.name));
    for (const name of this.replicas.names()) {
      if (!known.has(name)) await this.replicas.remove(name);
    }
    for (const endpoint of endpoints) {
      if (endpoint.status === 'Deleting') {
        await this.replicas.remove(endpoint.name);
        this.deps.store.endpoints.delete(endpoint.name);
      } else if (endpoint.status !== 'Failed' && !this.replicas.has(endpoint.name)) {
        await this.bringUp(endpoint);
      }
    }
  }

  close(): Promise<void> {
    return this.replicas.closeAll();
  }

  private async bringUp(endpoint: Endpoint): Promise<void> {
    const { store, artifacts, clock, logger } = this.deps;
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
