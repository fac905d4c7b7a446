import { Controller } from './controller.ts';
import { DatasetService } from './datasets.ts';
import type { ControlDeps } from './deps.ts';
import { EndpointConfigService } from './endpoint-configs.ts';
import { EndpointReconciler } from './endpoint-reconciler.ts';
import { EndpointService } from './endpoints.ts';
import { ModelService } from './models.ts';
import { ReplicaRegistry } from './replicas.ts';
import { TagService } from './tags.ts';
import { TrainingJobReconciler } from './training-job-reconciler.ts';
import { TrainingJobService } from './training-jobs.ts';

/** The control plane as one object: the services the API and CLI call, and the controller behind them. */
export interface Platform {
  deps: ControlDeps;
  datasets: DatasetService;
  trainingJobs: TrainingJobService;
  models: ModelService;
  endpointConfigs: EndpointConfigService;
  endpoints: EndpointService;
  tags: TagService;
  controller: Controller;
}

export function createPlatform(deps: ControlDeps): Platform {
  const replicas = new ReplicaRegistry();
  const kick = () => controller.kick();
  const controller = new Controller(deps, [new TrainingJobReconciler(deps, kick), new EndpointReconciler(deps, replicas, kick)]);
  return {
    deps,
    datasets: new DatasetService(deps),
    trainingJobs: new TrainingJobService(deps, kick),
    models: new ModelService(deps),
    endpointConfigs: new EndpointConfigService(deps),
    endpoints: new EndpointService(deps, replicas, kick),
    tags: new TagService(deps),
    controller,
  };
}
