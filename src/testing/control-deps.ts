import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { silentLogger } from '../core/logger.ts';
import { DEFAULT_AUTOSCALING, DEFAULT_FUNCTION_SETTINGS, DEFAULT_LIMITS, type ControlDeps } from '../control/deps.ts';
import { PlatformEvents } from '../control/events.ts';
import { PreparedDataCache } from '../control/prepared-data.ts';
import { DEFAULT_URL_FETCH_POLICY } from '../domain/serving/url-policy.ts';
import { ObjectStore } from '../runtime/objects/object-store.ts';
import { SecretBox } from '../runtime/credentials/secret-box.ts';
import { CheckpointFiles } from '../runtime/training/checkpoint-files.ts';
import { JobLogs } from '../runtime/logs/job-logs.ts';
import { TraceFiles } from '../runtime/training/trace-files.ts';
import { HeadTrainerPool } from '../runtime/training/head-trainer-pool.ts';
import { createArtifactStore } from '../store/artifacts.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../core/clock.ts';

/** Control-plane dependencies over `store`, with artifacts under `dir`: for tests that drive the platform in-process. */
export function testControlDeps(dir: string, store: Store, overrides: Partial<ControlDeps> & { clock?: Clock } = {}): ControlDeps {
  const clock = overrides.clock ?? { now: () => Date.now() };
  const artifacts = overrides.artifacts ?? createArtifactStore(join(dir, 'artifacts'));
  return {
    store,
    artifacts,
    objects: new ObjectStore(store.objects, artifacts, clock),
    clock,
    logger: silentLogger,
    events: new PlatformEvents(),
    urlFetchPolicy: DEFAULT_URL_FETCH_POLICY,
    servingThreads: 1,
    cores: 2,
    trainers: new HeadTrainerPool(2),
    checkpoints: new CheckpointFiles(join(dir, 'checkpoints')),
    preparedData: new PreparedDataCache(artifacts),
    logs: new JobLogs(join(dir, 'logs')),
    endpointLogs: new JobLogs(join(dir, 'logs', 'endpoints')),
    traces: new TraceFiles(join(dir, 'traces')),
    jobsDir: join(dir, 'jobs'),
    servingDir: join(dir, 'serving'),
    home: dir,
    limits: DEFAULT_LIMITS,
    autoscaling: DEFAULT_AUTOSCALING,
    secrets: new SecretBox(randomBytes(32)),
    functions: {
      ...DEFAULT_FUNCTION_SETTINGS,
      codeDir: join(dir, 'functions', 'code'),
      sandboxDir: join(dir, 'functions', 'sandboxes'),
      endpointUrl: () => undefined,
      readableDirs: [],
    },
    ...overrides,
  };
}
