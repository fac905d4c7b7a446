import { describeError } from '../core/errors.ts';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import { loadReplica } from '../runtime/serving/replica.ts';
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
   * into at most one follow-up pass.
   */
  step(): Promise<void> {
    if (this.current) {
      this.pending = true;
      return this.current;
    }
    this.current = this.reconcile().finally(() => {
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

  /** Resolves when every training job started so far has reached a terminal state. */
  async idle(): Promise<void> {
    while (this.runningJobs.size > 0) await Promise.all(this.runningJobs.values());
  }

  private async reconcile(): Promise<void> {
    this.reconcileTrainingJobs();
    await this.reconcileEndpoints();
  }

  private reconcileTrainingJobs(): void {
    const { store, clock, logger } = this.deps;
    for (const job of store.trainingJobs.list()) {
      if (this.runningJobs.has(job.name)) continue;
      if (job.status === 'InProgress') {
        if (job.startedAtMs !== undefined) logger.info('restarting training job that was in progress', { jobName: job.name });
        const run = runTrainingJob(this.deps, job.name).finally(() => {
          this.runningJobs.delete(job.name);
          this.kick();
        });
        this.runningJobs.set(job.name, run);
      } else if (job.status === 'Stopping') {
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
        this.deps.events.emit({ kind: 'endpoint-status', endpointName: endpoint.name, status: 'Deleting' });
      } else if (endpoint.status !== 'Failed' && !this.replicas.has(endpoint.name)) {
        await this.bringUp(endpoint);
      }
    }
  }

  private async bringUp(endpoint: Endpoint): Promise<void> {
    const { store, artifacts, clock, events, logger } = this.deps;
    try {
      const config = store.endpointConfigs.get(endpoint.endpointConfigName);
      if (!config) throw new Error(`endpoint config ${endpoint.endpointConfigName} no longer exists`);
      const variant = config.productionVariants[0];
      const model = store.models.get(variant.modelName);
      if (!model) throw new Error(`model ${variant.modelName} no longer exists`);
      const labels = JSON.parse(new TextDecoder().decode(await artifacts.get(model.artifacts.labels))) as LabelsDocument;
      const extractor = await openStoredBackbone(this.deps, model.backbone, this.deps.servingThreads);
      const replica = await loadReplica({
        modelName: model.name,
        variantName: variant.variantName,
        extractor,
        headModel: await artifacts.get(model.artifacts.headModel),
        labels: labels.classes.map((entry) => entry.label),
      });
      this.replicas.set(endpoint.name, replica);
      store.endpoints.update(endpoint.name, { status: 'InService', failureReason: undefined, lastModifiedAtMs: clock.now() });
      events.emit({ kind: 'endpoint-status', endpointName: endpoint.name, status: 'InService' });
      logger.info('endpoint in service', { endpointName: endpoint.name, model: model.name });
    } catch (error) {
      const reason = `Could not load the model: ${describeError(error)}`;
      store.endpoints.update(endpoint.name, { status: 'Failed', failureReason: reason, lastModifiedAtMs: clock.now() });
      events.emit({ kind: 'endpoint-status', endpointName: endpoint.name, status: 'Failed', reason });
      logger.error('endpoint failed', { endpointName: endpoint.name, reason });
    }
  }
}
