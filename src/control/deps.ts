import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { LAMBDA_ASYNC_TIMING, type AsyncTiming } from '../domain/functions/async-retry.ts';
import { DEFAULT_CONCURRENCY, type ConcurrencySettings } from '../domain/functions/concurrency.ts';
import type { AutoscalingSettings } from '../domain/serving/scaling.ts';
import { AWS_ALARMS } from '../domain/serving/target-tracking.ts';
import type { UrlFetchPolicy } from '../domain/serving/url-policy.ts';
import type { ObjectStore } from '../runtime/objects/object-store.ts';
import type { SecretBox } from '../runtime/credentials/secret-box.ts';
import type { CheckpointFiles } from '../runtime/training/checkpoint-files.ts';
import type { JobLogs } from '../runtime/logs/job-logs.ts';
import type { HeadTrainerPool } from '../runtime/training/head-trainer-pool.ts';
import type { TraceFiles } from '../runtime/training/trace-files.ts';
import type { ArtifactStore } from '../store/artifacts.ts';
import type { Store } from '../store/store.ts';
import type { PlatformEvents } from './events.ts';
import type { PreparedDataCache } from './prepared-data.ts';

/** Kennel's own quotas, answered with ResourceLimitExceeded as SageMaker's account quotas are. */
export interface PlatformLimits {
  /** Training jobs InProgress or Stopping at once; more would only share the same cores. */
  maxConcurrentTrainingJobs: number;
  /**
   * Requests an endpoint instance holds at once, running or waiting; beyond that on every instance,
   * InvokeEndpoint is refused with ServiceUnavailable, so a flood costs a fast refusal instead of
   * memory and ever longer waits. At ~50 ms a request, 16 is under a second of queue.
   */
  maxRequestsPerInstance: number;
}

export const DEFAULT_LIMITS: Readonly<PlatformLimits> = { maxConcurrentTrainingJobs: 4, maxRequestsPerInstance: 16 };

/** CloudWatch's one-minute periods and AWS's target-tracking alarms (3 of 3 high, 15 of 15 low). */
export const DEFAULT_AUTOSCALING: Readonly<AutoscalingSettings> = { metricPeriodMs: 60_000, alarms: AWS_ALARMS };

/** Where Lambda functions run from, and the account's Lambda settings. */
export interface FunctionPlatformSettings {
  /** Unpacked deployment packages, one folder per distinct package. */
  codeDir: string;
  /** Each execution environment's private temporary folder is made here. */
  sandboxDir: string;
  concurrency: ConcurrencySettings;
  /** How long async events wait between attempts (Lambda's own delays, unless a test shortens them). */
  asyncTiming: AsyncTiming;
  /** How long an unused on-demand environment is kept warm. */
  idleEnvironmentMs: number;
  /** Kennel's URL as functions reach it, once the server listens: what the injected AWS_ENDPOINT_URL* variables say. */
  endpointUrl: () => string | undefined;
  /** Folders every function may read besides its own: Kennel's node_modules, which provide the AWS SDK as Lambda's Node.js runtimes do. */
  readableDirs: readonly string[];
}

/** Lambda's defaults: its account concurrency, its async retry delays, and environments kept warm for ten idle minutes. */
export const DEFAULT_FUNCTION_SETTINGS: Readonly<Pick<FunctionPlatformSettings, 'concurrency' | 'asyncTiming' | 'idleEnvironmentMs'>> = {
  concurrency: DEFAULT_CONCURRENCY,
  asyncTiming: LAMBDA_ASYNC_TIMING,
  idleEnvironmentMs: 10 * 60_000,
};

/** Everything the control plane needs from the outside, passed in once. */
export interface ControlDeps {
  store: Store;
  artifacts: ArtifactStore;
  /** The s3:// namespace: object metadata in the store, content in the artifacts. */
  objects: ObjectStore;
  clock: Clock;
  logger: Logger;
  events: PlatformEvents;
  /** Which URLs endpoints may fetch images from for `application/json {"url": ...}` requests. */
  urlFetchPolicy: UrlFetchPolicy;
  /** ONNX Runtime threads per serving session; 0 follows the variant's instance type. */
  servingThreads: number;
  /** CPU cores of this machine: the cap on every instance type's thread budget. */
  cores: number;
  /** Worker threads that train heads, off the thread that serves HTTP. */
  trainers: HeadTrainerPool;
  /** Each training job's latest checkpoint, to resume from after a crash. */
  checkpoints: CheckpointFiles;
  /** Tuning jobs' embedded images, shared by their trials. */
  preparedData: PreparedDataCache;
  /** Training jobs' logs. */
  logs: JobLogs;
  /** Endpoints' logs: what their inference scripts print, as CloudWatch keeps /aws/sagemaker/Endpoints/<name>. */
  endpointLogs: JobLogs;
  /** Training jobs' debugger traces. */
  traces: TraceFiles;
  /** Where script-mode jobs get their /opt/ml folder: `<jobsDir>/<job>`. */
  jobsDir: string;
  /** Inference scripts' unpacked model folders, and their instances' private folders. */
  servingDir: string;
  /** The state folder itself: code to serve may not come from inside it (it holds the keys). */
  home: string;
  limits: PlatformLimits;
  /** How the autoscaler reads the scaling metrics. */
  autoscaling: AutoscalingSettings;
  /** Seals stored secret keys under the state folder's key file. */
  secrets: SecretBox;
  functions: FunctionPlatformSettings;
}
