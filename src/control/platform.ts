import { DomainError } from '../core/errors.ts';
import { AutoscalingService } from './autoscaling.ts';
import { AutoscalingReconciler } from './autoscaling-reconciler.ts';
import { Controller } from './controller.ts';
import { DatasetService } from './datasets.ts';
import type { ControlDeps } from './deps.ts';
import { EndpointConfigService } from './endpoint-configs.ts';
import { EndpointReconciler } from './endpoint-reconciler.ts';
import { EndpointService, MAX_INSTANCES_PER_VARIANT } from './endpoints.ts';
import { ModelService } from './models.ts';
import { InstanceRegistry } from './instances.ts';
import { ServingMetrics, type VariantGauges } from './serving-metrics.ts';
import { TagService } from './tags.ts';
import { TrainingJobReconciler } from './training-job-reconciler.ts';
import { TrainingJobService } from './training-jobs.ts';
import { TuningJobReconciler } from './tuning-job-reconciler.ts';
import { TuningJobService } from './tuning-jobs.ts';
import type { VariantScaling } from './variant-scaling.ts';

/** The control plane as one object: the services the API and CLI call, and the controller behind them. */
export interface Platform {
  deps: ControlDeps;
  datasets: DatasetService;
  trainingJobs: TrainingJobService;
  tuningJobs: TuningJobService;
  models: ModelService;
  endpointConfigs: EndpointConfigService;
  endpoints: EndpointService;
  tags: TagService;
  autoscaling: AutoscalingService;
  controller: Controller;
  /** The endpoint instances running in this process: observed state. */
  instances: InstanceRegistry;
  /** Serving metrics of this process: what Prometheus scrapes and the autoscaler reads. */
  metrics: ServingMetrics;
}

export function createPlatform(deps: ControlDeps): Platform {
  const instances = new InstanceRegistry();
  const metrics = new ServingMetrics(() => instanceGauges(instances));
  const kick = () => controller.kick();
  const trainingJobs = new TrainingJobService(deps, kick);
  const variantScaling = endpointRecordVariantScaling(deps, instances, kick);
  // Tuning runs after training in each pass, so a trial that just ended frees its slot for the next one at once.
  // The autoscaler runs last, so it sees the instances the endpoint reconciler has just brought up.
  const controller = new Controller(deps, [
    new TrainingJobReconciler(deps, kick),
    new TuningJobReconciler(deps, trainingJobs, kick),
    new EndpointReconciler(deps, instances, kick),
    new AutoscalingReconciler(deps, variantScaling, metrics),
  ]);
  return {
    deps,
    datasets: new DatasetService(deps),
    trainingJobs,
    tuningJobs: new TuningJobService(deps, kick),
    models: new ModelService(deps),
    endpointConfigs: new EndpointConfigService(deps),
    endpoints: new EndpointService(deps, instances, kick, metrics),
    tags: new TagService(deps),
    autoscaling: new AutoscalingService(deps, variantScaling),
    controller,
    instances,
    metrics,
  };
}

function instanceGauges(instances: InstanceRegistry): VariantGauges[] {
  return instances.names().map((endpointName) => ({
    endpointName,
    variantName: instances.list(endpointName)[0]?.variantName ?? '',
    instances: instances.count(endpointName),
    queueDepth: instances.inFlight(endpointName),
  }));
}

/**
 * VariantScaling over the endpoint records as they are today, until the endpoint service
 * implements the port: the desired count is the deployed variant's instanceCount, healthy is
 * the instances running in this process. Setting a count rewrites instanceCount and kicks the
 * controller, whose endpoint reconciler starts the instances an endpoint lacks.
 */
export function endpointRecordVariantScaling(deps: ControlDeps, instances: InstanceRegistry, kick: () => void): VariantScaling {
  return {
    capacity(endpointName, variantName) {
      const endpoint = deps.store.endpoints.get(endpointName);
      const variant = endpoint?.productionVariants.find((candidate) => candidate.variantName === variantName);
      if (!endpoint || !variant || endpoint.status === 'Deleting') return undefined;
      return { desired: variant.instanceCount, healthy: instances.count(endpointName) };
    },
    setDesiredInstances(endpointName, variantName, count) {
      if (count > MAX_INSTANCES_PER_VARIANT) {
        throw new DomainError('LimitExceeded', `Kennel runs at most ${MAX_INSTANCES_PER_VARIANT} instances per production variant; lower MaxCapacity`);
      }
      deps.store.endpoints.modify(endpointName, (endpoint) => {
        if (endpoint.status !== 'InService') {
          throw new DomainError('Conflict', `Endpoint ${endpointName} is ${endpoint.status}; its instance count can change once it is InService`);
        }
        return {
          ...endpoint,
          productionVariants: endpoint.productionVariants.map((variant) => (variant.variantName === variantName ? { ...variant, instanceCount: count } : variant)),
          lastModifiedAtMs: deps.clock.now(),
        };
      });
      kick();
    },
  };
}
