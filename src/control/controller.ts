import { describeError } from '../core/errors.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import { loadReplica, type Replica } from '../runtime/serving/replica.ts';
import { openStoredBackbone } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import type { LabelsDocument } from './labels.ts';
import type { ReplicaRegistry } from './replicas.ts';
import { runTrainingJob } from './training-runner.ts';

/**
 * Moves observed state toward the desired state recorded in the store. API calls
 * only write desired state and kick the controller; after a restart the first
 * step picks up whatever was in flight (training jobs rerun, endpoints reload).
 */
export class Controller {
  private readonly runningJobs = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private pending = false;

  constructor(
    private readonly deps: ControlDeps,
    private readonly replicas: ReplicaRegistry,
  ) {}

  /**
   * One reconcile pass. Endpoint loads finish within the pass; training jobs are
   * started and keep running in the background. Overlapping calls are coalesced
   * into at most one follow-up pass. A pass that fails (the store is busy or gone)
   * is logged and retried by the next one: it never rejects.
   */
  step(): Promise<void> {
    if (this.current) {
      this.pending = true;
      return this.current;
    }
    this.current = this.reconcile()
      .catch((error) => this.deps.logger.error('reconcile pass failed', { error: describeError(error) }))
      .finally(() => {
        this.current = undefined;
        if (this.pending) {
          this.pending = false;
          void this.step();
        }
      });
    return this.current;
  }

  /** Asks for a pass soon, without waiting for it. */
  kick(): void {
    void this.step();
  }

  start(intervalMs = 1000): void {
    this.timer ??= setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  /** Stops the loop and unloads replicas. Training jobs in flight stay InProgress and rerun at the next start. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
    await this.replicas.closeAll();
  }

  private async reconcile(): Promise<void> {
    this.reconcileTrainingJobs();
    await this.reconcileEndpoints();
  }

  private reconcileTrainingJobs(): void {
    const { store, clock, logger } = this.deps;
    for (const job of store.trainingJobs.listByStatus(['InProgress', 'Stopping'])) {
      if (this.runningJobs.has(job.name)) continue;
      if (job.status === 'InProgress') {
        if (job.startedAtMs !== undefined) logger.info('restarting training job that was in progress', { jobName: job.name });
        const run = runTrainingJob(this.deps, job.name).finally(() => {
          this.runningJobs.delete(job.name);
          this.kick();
        });
        this.runningJobs.set(job.name, run);
      } else {
        store.trainingJobs.update(job.name, { status: 'Stopped', phase: 'Stopped', endedAtMs: clock.now() });
      }
    }
  }

  private async reconcileEndpoints(): Promise<void> {
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

  private async bringUp(endpoint: Endpoint): Promise<void> {
    const { store, artifacts, clock, logger } = this.deps;
    let replica: Replica;
    try {
      const variant = endpoint.productionVariants[0];
      if (!variant) throw new Error('the endpoint has no production variant');
      const labels = JSON.parse(new TextDecoder().decode(await artifacts.get(variant.artifacts.labels))) as LabelsDocument;
      const extractor = await openStoredBackbone(this.deps, variant.backbone, this.deps.servingThreads);
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
