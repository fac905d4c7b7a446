import { describeError } from '../core/errors.ts';
import { NO_BATCHING } from '../domain/serving/batching.ts';
import { decideEndpointWork, type VariantResize } from '../domain/serving/endpoint-decider.ts';
import type { DeployedVariant, Endpoint } from '../domain/serving/endpoint.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import { isScriptServing, type InferenceScript } from '../domain/serving/model-serving.ts';
import { startInstance } from '../runtime/serving/instance.ts';
import type { JobLogWriter } from '../runtime/logs/job-logs.ts';
import { ModelFolders, modelFolderKey } from '../runtime/serving/model-folders.ts';
import { startScriptInstance } from '../runtime/serving/script-instance.ts';
import type { Instance } from '../runtime/serving/instance-types.ts';
import { storedBackboneOptions } from './backbones.ts';
import type { ControlDeps } from './deps.ts';
import { InstanceHealthChecks } from './instance-health.ts';
import type { InstanceRegistry } from './instances.ts';
import type { LabelsDocument } from './labels.ts';
import type { Reconciler } from './reconciler.ts';

/** After instances failed to start for a serving endpoint, the wait before trying again. */
const RETRY_AFTER_MS = 5000;

/**
 * Brings every endpoint's instances in this process to what its record asks
 * for, one step at a time as decideEndpointWork says: all of them for a new
 * endpoint (and after a restart), replacements for dead ones, more or fewer
 * when its capacity changes, a whole new deployment beside the old one for
 * UpdateEndpoint, and none once it is deleted; instances that stop answering
 * health checks are given up on and replaced too. Steps go on in the background,
 * one at a time per endpoint, so a slow model or a long request holds up only
 * its own endpoint, never the controller.
 */
export class EndpointReconciler implements Reconciler {
  readonly name = 'endpoints';
  private readonly busy = new Map<string, Promise<void>>();
  private readonly retryAfter = new Map<string, number>();
  private readonly health: InstanceHealthChecks;
  private readonly modelFolders: ModelFolders;
  private readonly logs = new Map<string, JobLogWriter>();

  constructor(
    private readonly deps: ControlDeps,
    private readonly instances: InstanceRegistry,
    private readonly kick: () => void,
  ) {
    this.health = new InstanceHealthChecks(instances, deps.logger);
    this.modelFolders = servingModelFolders(deps);
  }

  async reconcile(nowMs: number): Promise<void> {
    void this.health.run(nowMs).catch((error: unknown) => this.deps.logger.error('health checks failed', { error: describeError(error) }));
    const endpoints = this.deps.store.endpoints.list();
    const known = new Set(endpoints.map((endpoint) => endpoint.name));
    for (const name of this.instances.names()) {
      if (!known.has(name)) this.inBackground(name, () => this.instances.remove(name));
    }
    for (const endpoint of endpoints) {
      if (this.busy.has(endpoint.name)) continue;
      if (endpoint.status !== 'Deleting' && nowMs < (this.retryAfter.get(endpoint.name) ?? 0)) continue;
      this.retryAfter.delete(endpoint.name);
      const work = decideEndpointWork(endpoint, this.instances.observed(endpoint.name));
      if (work.kind === 'delete') {
        this.inBackground(endpoint.name, async () => {
          await this.instances.remove(endpoint.name);
          this.deps.store.endpoints.delete(endpoint.name);
          // A failed endpoint's model folder has no instance whose end would remove it.
          await this.modelFolders.prune();
        });
      } else if (work.kind === 'bring-up') this.inBackground(endpoint.name, () => this.bringUp(endpoint));
      else if (work.kind === 'deploy') this.inBackground(endpoint.name, () => this.deploy(endpoint));
      else if (work.kind === 'resize') this.inBackground(endpoint.name, () => this.resize(endpoint, work.changes));
      else if (work.kind === 'settle') this.settle(endpoint.name);
    }
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.busy.values());
  }

  async close(): Promise<void> {
    await this.settled();
    await this.instances.closeAll();
    await Promise.allSettled([...this.logs.values()].map((log) => log.close()));
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

  /** The endpoint as recorded now, unless it was deleted meanwhile (loading takes a while): then it must stay deleted. */
  private stillWanted(name: string): Endpoint | undefined {
    const current = this.deps.store.endpoints.get(name);
    return current && current.status !== 'Deleting' ? current : undefined;
  }

  /** Starts every instance of the serving deployment: a new endpoint's, or any endpoint's after a restart. */
  private async bringUp(endpoint: Endpoint): Promise<void> {
    const { store, clock, logger } = this.deps;
    // Recorded InService by the Kennel that ran before this one: not serving here until its model is loaded.
    if (endpoint.status === 'InService') store.endpoints.update(endpoint.name, { status: 'SystemUpdating', lastModifiedAtMs: clock.now() });
    let started: Map<string, Instance[]>;
    try {
      started = await this.startDeployment(endpoint.name, endpoint.productionVariants);
    } catch (error) {
      if (!this.stillWanted(endpoint.name)) return;
      const reason = `Could not load the model: ${describeError(error)}`;
      store.endpoints.update(endpoint.name, { status: 'Failed', failureReason: reason, lastModifiedAtMs: clock.now() });
      logger.error('endpoint failed', { endpointName: endpoint.name, reason });
      return;
    }
    if (!this.stillWanted(endpoint.name)) return closeAll(started);
    for (const [variant, instances] of started) for (const instance of instances) this.serve(endpoint.name, variant, instance);
    // A restart in the middle of an update resumes it: the old deployment serves while the new one starts.
    const updated = store.endpoints.modify(endpoint.name, (current) => ({
      ...current,
      status: current.pendingDeployment ? 'Updating' : 'InService',
      failureReason: current.pendingDeployment ? current.failureReason : undefined,
      productionVariants: current.productionVariants.map(({ currentWeight: _, ...variant }) => variant),
      lastModifiedAtMs: clock.now(),
    }));
    logger.info('endpoint in service', { endpointName: endpoint.name, instances: this.instances.count(endpoint.name), status: updated.status });
  }

  /**
   * UpdateEndpoint, blue/green: the new deployment's instances all start and load beside the old
   * ones, which serve meanwhile; then traffic switches in one step and the old ones drain. If the
   * new deployment cannot start, it is rolled back: the old one never stopped serving.
   */
  private async deploy(endpoint: Endpoint): Promise<void> {
    const { store, clock, logger } = this.deps;
    const pending = endpoint.pendingDeployment!;
    let started: Map<string, Instance[]>;
    try {
      started = await this.startDeployment(endpoint.name, pending.productionVariants, () => {
        // Visible while the instances that did start are closed; the old deployment serves throughout.
        if (this.stillWanted(endpoint.name)) store.endpoints.update(endpoint.name, { status: 'RollingBack', lastModifiedAtMs: clock.now() });
      });
    } catch (error) {
      if (!this.stillWanted(endpoint.name)) return;
      const reason = `Updating to endpoint config ${pending.endpointConfigName} failed, and the endpoint was rolled back to ${endpoint.endpointConfigName}: could not load the model: ${describeError(error)}`;
      logger.warn('endpoint update rolled back', { endpointName: endpoint.name, reason });
      store.endpoints.update(endpoint.name, { status: 'InService', pendingDeployment: undefined, failureReason: reason, lastModifiedAtMs: clock.now() });
      return;
    }
    if (!this.stillWanted(endpoint.name)) return closeAll(started);
    const drained = this.instances.replace(endpoint.name, started);
    for (const [variant, instances] of started) for (const instance of instances) this.watch(endpoint.name, variant, instance);
    store.endpoints.update(endpoint.name, {
      endpointConfigName: pending.endpointConfigName,
      productionVariants: pending.productionVariants,
      pendingDeployment: undefined,
      status: 'InService',
      failureReason: undefined,
      lastModifiedAtMs: clock.now(),
    });
    logger.info('endpoint updated', { endpointName: endpoint.name, endpointConfigName: pending.endpointConfigName });
    await drained;
  }

  /**
   * More or fewer instances for some variants: a capacity update (UpdateEndpointWeightsAndCapacities
   * or the autoscaler), or replacements for instances that died. Each new instance serves as soon
   * as it has loaded; those leaving finish their requests first.
   */
  private async resize(endpoint: Endpoint, changes: readonly VariantResize[]): Promise<void> {
    const { store, clock, logger } = this.deps;
    const failures: string[] = [];
    await Promise.all(
      changes.map(async ({ variantName, from, to }) => {
        if (to < from) return this.instances.shrink(endpoint.name, variantName, from - to);
        const variant = endpoint.productionVariants.find((candidate) => candidate.variantName === variantName)!;
        const total = endpoint.productionVariants.reduce((sum, candidate) => sum + candidate.instanceCount, 0);
        // One at a time: loading a model takes every core it can get, so instances started together
        // starve the one that serves, and none of them serves any sooner.
        for (let started = from; started < to && failures.length === 0; started++) {
          try {
            const instance = await this.startOne(endpoint.name, variant, total);
            if (!this.stillWanted(endpoint.name)) return instance.close();
            this.serve(endpoint.name, variantName, instance);
          } catch (error) {
            failures.push(`variant ${variantName}: ${describeError(error)}`);
          }
        }
      }),
    );
    if (failures.length === 0 || !this.stillWanted(endpoint.name)) return;
    if (endpoint.status !== 'Updating') {
      // Replacing a dead instance: the endpoint serves on with the others, and the next try comes after a pause.
      this.retryAfter.set(endpoint.name, clock.now() + RETRY_AFTER_MS);
      logger.warn('could not replace an endpoint instance; retrying', { endpointName: endpoint.name, reason: failures[0] });
      return;
    }
    // A capacity update that cannot be met is rolled back: the instances it added leave, and the counts are as before.
    const reason = `Updating the capacity failed, and the endpoint was rolled back: could not start an instance (${failures[0]})`;
    store.endpoints.update(endpoint.name, { status: 'RollingBack', lastModifiedAtMs: clock.now() });
    const grown = changes.filter((change) => change.to > change.from);
    await Promise.all(grown.map(({ variantName, from }) => this.instances.shrink(endpoint.name, variantName, Math.max(0, this.instances.count(endpoint.name, variantName) - from))));
    store.endpoints.modify(endpoint.name, (current) => ({
      ...current,
      productionVariants: current.productionVariants.map((variant) => {
        const change = grown.find((candidate) => candidate.variantName === variant.variantName);
        return change ? { ...variant, instanceCount: change.from } : variant;
      }),
      status: 'InService',
      failureReason: reason,
      lastModifiedAtMs: clock.now(),
    }));
    logger.warn('endpoint capacity update rolled back', { endpointName: endpoint.name, reason });
  }

  /** Every variant runs what it should: the weights asked for are in force, and the endpoint is InService. */
  private settle(name: string): void {
    this.deps.store.endpoints.modify(name, (current) => ({
      ...current,
      status: current.status === 'Deleting' || current.status === 'Failed' ? current.status : 'InService',
      productionVariants: current.productionVariants.map(({ currentWeight: _, ...variant }) => variant),
      lastModifiedAtMs: this.deps.clock.now(),
    }));
  }

  /**
   * Starts every instance of `variants`, one at a time (as resize does, so loading does not starve
   * what serves). If one fails, `onFailure` is told, those that started are closed, and its error is thrown.
   */
  private async startDeployment(endpointName: string, variants: readonly DeployedVariant[], onFailure: () => void = () => {}): Promise<Map<string, Instance[]>> {
    const total = variants.reduce((sum, variant) => sum + variant.instanceCount, 0);
    const started = new Map<string, Instance[]>(variants.map((variant) => [variant.variantName, []]));
    try {
      for (const variant of variants) {
        for (let i = 0; i < variant.instanceCount; i++) started.get(variant.variantName)!.push(await this.startOne(endpointName, variant, total));
      }
    } catch (error) {
      onFailure();
      await closeAll(started);
      throw error;
    }
    return started;
  }

  private serve(endpointName: string, variantName: string, instance: Instance): void {
    this.watch(endpointName, variantName, instance);
    this.instances.add(endpointName, variantName, instance);
  }

  /** A dead instance is forgotten, which the next pass sees as a variant short of an instance. */
  private watch(endpointName: string, variantName: string, instance: Instance): void {
    instance.onExit((reason) => {
      // Requests in flight were refused with ServiceUnavailable; an ONNX instance's are retried on another one where there is one, a script's are not.
      if (!this.instances.discard(endpointName, instance)) return;
      this.deps.logger.warn('endpoint instance died; replacing it', { endpointName, variantName, reason });
      this.kick();
    });
  }

  private async startOne(endpointName: string, variant: DeployedVariant, instancesOnEndpoint: number): Promise<Instance> {
    const threads = this.deps.servingThreads > 0 ? this.deps.servingThreads : instanceThreads(variant.instanceType, instancesOnEndpoint, this.deps.cores);
    if (isScriptServing(variant)) return this.startScript(endpointName, variant, variant.script, threads);
    const { artifacts } = this.deps;
    const labels = JSON.parse(new TextDecoder().decode(await artifacts.get(variant.artifacts.labels))) as LabelsDocument;
    const { backbone } = variant;
    return startInstance({
      modelName: variant.modelName,
      variantName: variant.variantName,
      // Read through the artifact store, which checks the hash: a damaged file fails loudly instead of changing every prediction.
      backbone: await artifacts.get(backbone.digest),
      backboneOptions: storedBackboneOptions(backbone, threads),
      ...(variant.artifacts.headModel ? { headModel: await artifacts.get(variant.artifacts.headModel) } : {}),
      labels: labels.classes.map((entry) => entry.label),
      ...(variant.scores ? { scores: variant.scores } : {}),
      batching: variant.batching ?? NO_BATCHING,
    });
  }

  /** An inference script's instance: its model folder unpacked (once per content), then a model server process of its own. */
  private async startScript(endpointName: string, variant: DeployedVariant, script: InferenceScript, threads: number): Promise<Instance> {
    const { artifacts } = this.deps;
    const folder = await this.modelFolders.prepare(modelFolderKey(script), async () => ({
      model: await artifacts.get(script.modelArchive),
      ...(script.sourceArchive ? { source: await artifacts.get(script.sourceArchive) } : {}),
    }));
    const log = this.endpointLog(endpointName);
    log.append(`[${variant.variantName}] starting an instance of model ${variant.modelName}`);
    try {
      return await startScriptInstance({
        modelName: variant.modelName,
        variantName: variant.variantName,
        interpreter: script.interpreter,
        modelDir: folder.modelDir,
        codeDir: folder.codeDir,
        program: script.program,
        tmpDir: await this.modelFolders.instanceDir(),
        environment: script.environment,
        threads,
        timeoutMs: script.timeoutMs,
        startTimeoutMs: SCRIPT_START_TIMEOUT_MS,
        onLog: (_stream, line) => log.append(`[${variant.variantName}] ${line}`),
        logHint: `See the endpoint's log for the traceback: kennel endpoints logs ${endpointName}`,
        onGone: folder.release,
      });
    } catch (error) {
      folder.release();
      throw error;
    }
  }

  /** One writer per endpoint, shared by its instances; kept while Kennel runs (the log outlives the endpoint, as CloudWatch's does). */
  private endpointLog(endpointName: string): JobLogWriter {
    let writer = this.logs.get(endpointName);
    if (!writer) {
      writer = this.deps.endpointLogs.writer(endpointName, () => this.deps.clock.now());
      this.logs.set(endpointName, writer);
    }
    return writer;
  }
}

/**
 * The unpacked model folders of inference scripts. One is wanted while an endpoint that is not
 * being deleted deploys it (serving or pending): a Failed endpoint's stays until DeleteEndpoint,
 * so that a restart can try again. An unwanted folder goes when its last instance has drained.
 */
function servingModelFolders(deps: ControlDeps): ModelFolders {
  return new ModelFolders(deps.servingDir, () => {
    const wanted = new Set<string>();
    for (const endpoint of deps.store.endpoints.list()) {
      if (endpoint.status === 'Deleting') continue;
      for (const variant of [...endpoint.productionVariants, ...(endpoint.pendingDeployment?.productionVariants ?? [])]) {
        if (isScriptServing(variant)) wanted.add(modelFolderKey(variant.script));
      }
    }
    return wanted;
  });
}

/** Removes the model folders no endpoint wants, left by a Kennel that stopped before they drained: at start, before any instance runs. Returns how many went. */
export async function removeUnusedModelFolders(deps: ControlDeps): Promise<number> {
  return (await servingModelFolders(deps).prune()).length;
}

/** How long model_fn may take: SageMaker's default container start-up health check timeout is of this order too. */
const SCRIPT_START_TIMEOUT_MS = 10 * 60_000;

async function closeAll(started: Map<string, Instance[]>): Promise<void> {
  await Promise.all([...started.values()].flat().map((instance) => instance.close()));
}

/**
 * ONNX Runtime threads of each of `count` instances: the instance type's vCPUs, but never more
 * than an equal share of this machine's cores, and at least one. Instances beyond the cores
 * still add queues to spread requests over, not speed.
 */
export function instanceThreads(instanceType: string, count: number, cores: number): number {
  return Math.max(1, Math.min(threadBudget(instanceType, cores), Math.floor(cores / count)));
}
