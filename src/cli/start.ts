import { join } from 'node:path';
import { createApp, listen, type RunningServer } from '../api/server.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { ensureAdminCredentials, type AdminCredentials } from '../control/admin.ts';
import { PlatformEvents } from '../control/events.ts';
import { DEFAULT_AUTOSCALING, DEFAULT_FUNCTION_SETTINGS, DEFAULT_LIMITS, type ControlDeps, type FunctionPlatformSettings, type PlatformLimits } from '../control/deps.ts';
import { DomainError } from '../core/errors.ts';
import type { AutoscalingSettings } from '../domain/serving/scaling.ts';
import { INVOCATION_BUCKET_MS } from '../control/serving-metrics.ts';
import { removeUnusedModelFolders } from '../control/endpoint-reconciler.ts';
import { createPlatform, type Platform } from '../control/platform.ts';
import { PreparedDataCache } from '../control/prepared-data.ts';
import { DEFAULT_URL_FETCH_POLICY, validateUrlFetchPolicy, type UrlFetchPolicy } from '../domain/serving/url-policy.ts';
import { createArtifactStore } from '../store/artifacts.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import { openStateDir, type StateDir } from '../store/state-dir.ts';
import { removeLeftovers } from '../store/leftovers.ts';
import { acquireStateLock } from '../store/state-lock.ts';
import { ObjectStore } from '../runtime/objects/object-store.ts';
import { loadOrCreateSecretBox } from '../runtime/credentials/secret-box.ts';
import { JobLogs } from '../runtime/logs/job-logs.ts';
import { CheckpointFiles } from '../runtime/training/checkpoint-files.ts';
import { TraceFiles } from '../runtime/training/trace-files.ts';
import { HeadTrainerPool } from '../runtime/training/head-trainer-pool.ts';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeIsolation } from '../runtime/functions/sandbox.ts';

export interface StartOptions {
  home: string;
  host: string;
  port: number;
  logger: Logger;
  urlFetchPolicy?: Partial<UrlFetchPolicy>;
  /** ONNX Runtime threads per serving session; 0 (the default) follows each variant's instance type. */
  servingThreads?: number;
  limits?: Partial<PlatformLimits>;
  /** The autoscaler's metric period (CloudWatch's minute by default) and alarm lengths. */
  autoscaling?: Partial<AutoscalingSettings>;
  clock?: Clock;
  events?: PlatformEvents;
  /** Lambda's account concurrency, async retry timing and how long idle environments stay warm. */
  functions?: Partial<Pick<FunctionPlatformSettings, 'concurrency' | 'asyncTiming' | 'idleEnvironmentMs'>>;
}

export interface Kennel {
  platform: Platform;
  server: RunningServer;
  dirs: StateDir;
  admin: { key: AdminCredentials; created: boolean };
  close(): Promise<void>;
}

/**
 * The composition root: opens the state folder, brings the control plane back to
 * the recorded desired state (endpoints reload, unfinished jobs rerun), then
 * starts serving HTTP.
 */
export async function startKennel(options: StartOptions): Promise<Kennel> {
  const urlFetchPolicy = { ...DEFAULT_URL_FETCH_POLICY, ...options.urlFetchPolicy };
  validateUrlFetchPolicy(urlFetchPolicy);
  const autoscaling = { ...DEFAULT_AUTOSCALING, ...options.autoscaling };
  validateAutoscalingSettings(autoscaling);
  const dirs = await openStateDir(options.home);
  const lock = acquireStateLock(dirs.home);
  let store: ReturnType<typeof openSqliteStore>;
  let secrets: Awaited<ReturnType<typeof loadOrCreateSecretBox>>;
  try {
    secrets = await loadOrCreateSecretBox(dirs.secretKeyFile);
    const { removed } = await removeLeftovers(dirs);
    if (removed.length > 0) options.logger.info('removed files an interrupted run left behind', { count: removed.length });
    store = openSqliteStore(dirs.databaseFile);
  } catch (error) {
    lock.release();
    throw error;
  }
  const clock = options.clock ?? systemClock;
  const artifacts = createArtifactStore(dirs.artifactsDir);
  // Known once the server listens; functions started before then get no endpoint variables, and none start before.
  let functionsReachKennelAt: string | undefined;
  const deps: ControlDeps = {
    store,
    artifacts,
    objects: new ObjectStore(store.objects, artifacts, clock),
    clock,
    logger: options.logger,
    events: options.events ?? new PlatformEvents(),
    urlFetchPolicy,
    servingThreads: options.servingThreads ?? 0,
    cores: availableParallelism(),
    trainers: new HeadTrainerPool(availableParallelism()),
    checkpoints: new CheckpointFiles(dirs.checkpointsDir),
    preparedData: new PreparedDataCache(artifacts),
    logs: new JobLogs(dirs.logsDir),
    endpointLogs: new JobLogs(join(dirs.logsDir, 'endpoints')),
    traces: new TraceFiles(dirs.tracesDir),
    jobsDir: dirs.jobsDir,
    servingDir: dirs.servingDir,
    home: dirs.home,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    autoscaling,
    secrets,
    functions: {
      ...DEFAULT_FUNCTION_SETTINGS,
      ...options.functions,
      codeDir: dirs.functionCodeDir,
      sandboxDir: dirs.sandboxesDir,
      endpointUrl: () => functionsReachKennelAt,
      readableDirs: [KENNEL_NODE_MODULES],
    },
  };
  let stopServer: (() => Promise<void>) | undefined;
  let controller: Platform['controller'] | undefined;
  try {
    const platform = createPlatform(deps);
    controller = platform.controller;
    // Before any instance runs: none can be reading from a folder that goes.
    const pruned = await removeUnusedModelFolders(deps);
    if (pruned > 0) options.logger.info('removed the unpacked model folders no endpoint uses any more', { count: pruned });
    const isolation = await describeIsolation();
    // Weaker isolation is worth a warning, shown at the default log level; full isolation is only news at info.
    if (isolation.landlock.available) options.logger.info(isolation.summary);
    else options.logger.warn(isolation.summary);
    const admin = await ensureAdminCredentials(deps, platform.iam, dirs.credentialsFile);
    const app = createApp({ platform, clock: deps.clock, logger: deps.logger, lookupSecret: platform.credentials.lookup });
    // Listen first: while endpoints load, callers get 503 ServiceUnavailable rather than a refused connection.
    const server = await listen(app, { host: options.host, port: options.port });
    stopServer = server.close;
    functionsReachKennelAt = localUrl(options.host, server.port);
    // Started means serving what was in service: the endpoints' models are loaded (or failed) before this returns.
    await platform.controller.step();
    await platform.controller.settled();
    platform.controller.start();
    return {
      platform,
      server,
      dirs,
      admin,
      async close() {
        await server.close();
        // The server has answered its last request: its waiting data events go now, whatever stopping does.
        platform.audit.flush();
        await platform.controller.stop();
        await deps.trainers.close();
        store.close();
        lock.release();
      },
    };
  } catch (error) {
    await stopServer?.();
    await controller?.stop();
    await deps.trainers.close();
    store.close();
    lock.release();
    throw error;
  }
}

/** Kennel's own packages, which functions may import (the AWS SDK, as Lambda's Node.js runtimes provide it). */
const KENNEL_NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** How a function on this machine reaches the server: a wildcard listen address is reached on loopback. */
function localUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

/** Metric periods are whole seconds: the serving metrics count invocations per second. */
export function validateAutoscalingSettings(settings: AutoscalingSettings): void {
  const { metricPeriodMs, alarms } = settings;
  if (!Number.isInteger(metricPeriodMs) || metricPeriodMs < INVOCATION_BUCKET_MS || metricPeriodMs % INVOCATION_BUCKET_MS !== 0) {
    throw new DomainError('ValidationError', `The autoscaling metric period must be a whole number of seconds, at least 1 (got ${metricPeriodMs} ms)`, {
      field: 'metricPeriodMs',
    });
  }
  for (const [field, periods] of Object.entries(alarms)) {
    if (!Number.isInteger(periods) || periods < 1) {
      throw new DomainError('ValidationError', `Autoscaling alarms need at least 1 datapoint (${field} is ${periods})`, { field });
    }
  }
}
