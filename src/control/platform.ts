import { Controller } from './controller.ts';
import { DatasetService } from './datasets.ts';
import type { ControlDeps } from './deps.ts';
import { EndpointConfigService } from './endpoint-configs.ts';
import { EndpointService } from './endpoints.ts';
import { ModelService } from './models.ts';
import { ReplicaRegistry } from './replicas.ts';
import { TrainingJobService } from './training-jobs.ts';

/** The control plane as one object: the services the API and CLI call, and the controller behind them. */
export interface Platform {
  deps: ControlDeps;
  datasets: DatasetService;
  trainingJobs: TrainingJobService;
  models: ModelService;
  endpointConfigs: EndpointConfigService;
  endpoints: EndpointService;
  controller: Controller;
}

export function createPlatform(deps: ControlDeps): Platform {
  const replicas = new ReplicaRegistry();
  const controller = new Controller(deps, replicas);
  const kick = () => controller.kick();
  return {
    deps,
    datasets: new DatasetService(deps),
    trainingJobs: new TrainingJobService(deps, kick),
    models: new ModelService(deps),
    endpointConfigs: new EndpointConfigService(deps),
    endpoints: new EndpointService(deps, replicas, kick),
    controller,
  };
}
