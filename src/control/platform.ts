import { AsyncInvocations } from './async-invocations.ts';
import { AuditTrail } from './audit.ts';
import { Authorizer } from './authorizer.ts';
import { AutoscalingService } from './autoscaling.ts';
import { AutoscalingReconciler } from './autoscaling-reconciler.ts';
import { Controller } from './controller.ts';
import { CredentialStore } from './credentials.ts';
import { DatasetService } from './datasets.ts';
import type { ControlDeps } from './deps.ts';
import { EndpointConfigService } from './endpoint-configs.ts';
import { EndpointReconciler } from './endpoint-reconciler.ts';
import { EndpointService } from './endpoints.ts';
import { AliasService } from './function-aliases.ts';
import { FunctionCodeStore } from './function-code.ts';
import { FunctionConcurrencyService } from './function-concurrency.ts';
import { EnvironmentPool } from './function-environments.ts';
import { FunctionInvoker } from './function-invoker.ts';
import { FunctionMetrics } from './function-metrics.ts';
import { FunctionPolicyService } from './function-policies.ts';
import { FunctionReconciler } from './function-reconciler.ts';
import { ExecutionRoles } from './function-roles.ts';
import { environmentStarter } from './function-sandboxes.ts';
import { FunctionService } from './functions.ts';
import { ModelService } from './models.ts';
import { InstanceRegistry } from './instances.ts';
import { IamService } from './iam.ts';
import { PrincipalUsage } from './iam-usage.ts';
import { ServingMetrics } from './serving-metrics.ts';
import { StsService } from './sts.ts';
import { TagService } from './tags.ts';
import { TrainingJobReconciler } from './training-job-reconciler.ts';
import { TrainingJobService } from './training-jobs.ts';
import { TuningJobReconciler } from './tuning-job-reconciler.ts';
import { TuningJobService } from './tuning-jobs.ts';

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
  /** Endpoints' invocations, latencies and queues, for /metrics and the autoscaler. */
  metrics: ServingMetrics;
  iam: IamService;
  sts: StsService;
  /** Access keys and sessions, for SigV4 and for knowing the caller. */
  credentials: CredentialStore;
  authorizer: Authorizer;
  audit: AuditTrail;
  /** Least privilege from the audit trail. */
  usage: PrincipalUsage;
  functions: FunctionService;
  aliases: AliasService;
  functionConcurrency: FunctionConcurrencyService;
  functionPolicies: FunctionPolicyService;
  invoker: FunctionInvoker;
  asyncInvocations: AsyncInvocations;
  functionMetrics: FunctionMetrics;
}

export function createPlatform(deps: ControlDeps): Platform {
  const instances = new InstanceRegistry();
  const metrics = new ServingMetrics(() =>
    deps.store.endpoints.list().flatMap((endpoint) =>
      endpoint.productionVariants.map((variant) => ({
        endpointName: endpoint.name,
        variantName: variant.variantName,
        instances: instances.count(endpoint.name, variant.variantName),
        queueDepth: instances.inFlight(endpoint.name, variant.variantName),
      })),
    ),
  );
  const kick = () => controller.kick();
  const iam = new IamService(deps, deps.secrets);
  const authorizer = new Authorizer(deps, iam);
  const audit = new AuditTrail(deps);
  const trainingJobs = new TrainingJobService(deps, kick);
  // The autoscaler scales variants through the endpoint service, as UpdateEndpointWeightsAndCapacities does.
  const endpoints = new EndpointService(deps, instances, metrics, kick);
  const sts = new StsService(deps, iam, deps.secrets);
  const roles = new ExecutionRoles(iam, sts, authorizer, () => deps.clock.now());
  const code = new FunctionCodeStore(deps);
  const functions = new FunctionService(deps, code, (roleArn) => roles.check(roleArn), kick);
  const functionConcurrency = new FunctionConcurrencyService(deps, functions, kick);
  const pool = new EnvironmentPool(environmentStarter(deps, code, roles), deps.clock, deps.logger);
  // The gauge reads the invoker's counts at scrape time; the invoker is made just below.
  const functionMetrics = new FunctionMetrics(metrics.registry, () => invoker.inFlightByFunction());
  const invoker: FunctionInvoker = new FunctionInvoker(deps, functions, functionConcurrency, pool, functionMetrics);
  const asyncInvocations = new AsyncInvocations(deps, functions, invoker, roles, kick);
  // Tuning runs after training in each pass, so a trial that just ended frees its slot for the next one at once.
  const controller = new Controller(deps, [
    new TrainingJobReconciler(deps, kick),
    new TuningJobReconciler(deps, trainingJobs, kick),
    new EndpointReconciler(deps, instances, kick),
    new AutoscalingReconciler(deps, endpoints, metrics),
    // Async invocations close first, so attempts cut short by the environments closing are not recorded as failures.
    asyncInvocations,
    new FunctionReconciler(deps, functions, code, pool, kick),
  ]);
  return {
    deps,
    datasets: new DatasetService(deps),
    trainingJobs,
    tuningJobs: new TuningJobService(deps, kick),
    models: new ModelService(deps),
    endpointConfigs: new EndpointConfigService(deps),
    endpoints,
    tags: new TagService(deps),
    autoscaling: new AutoscalingService(deps, endpoints),
    controller,
    instances,
    metrics,
    iam,
    sts,
    credentials: new CredentialStore(deps, iam, deps.secrets),
    authorizer,
    audit,
    usage: new PrincipalUsage(audit, authorizer),
    functions,
    aliases: new AliasService(deps, functions),
    functionConcurrency,
    functionPolicies: new FunctionPolicyService(deps, functions, roles),
    invoker,
    asyncInvocations,
    functionMetrics,
  };
}
