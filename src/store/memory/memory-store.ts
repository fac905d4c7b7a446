import type { Dataset } from '../../domain/data/dataset.ts';
import type { Endpoint, EndpointConfig, Model } from '../../domain/serving/endpoint.ts';
import type { EpochMetrics, TrainingJob, TrainingJobStatus } from '../../domain/training/training-job.ts';
import { type RecordKind, RECORD_KINDS, alreadyExists, assertKeyKept, compareKeys, mergePatch, notFound, recordKey, withoutUndefined } from '../records.ts';
import { checkedListArguments, checkedObject, compareObjectKeys } from '../object-records.ts';
import type { TuningJob, TuningJobStatus } from '../../domain/tuning/tuning-job.ts';
import { compareActivitiesNewestFirst, type RegisteredScalableTarget, type ScalingActivity, type ScalingPolicy } from '../../domain/serving/scaling.ts';
import type { AccessKey, AuditEvent, IamGroup, IamRole, IamUser, ManagedPolicyRecord, StsSession } from '../../domain/iam/entities.ts';
import { checkedAuditEvent, checkedAuditQuery, compareAuditEvents } from '../audit-events.ts';
import type { AsyncEvent, AsyncEventStatus, FunctionAlias, FunctionVersion, LambdaFunction } from '../../domain/functions/function.ts';
import type {
  AccessKeyTable,
  AsyncEventTable,
  FunctionChildTable,
  AuditLog,
  AuditQuery,
  EmbeddingCache,
  ObjectTable,
  ScalingActivityTable,
  ScalingPolicyTable,
  Store,
  StoredObject,
  TrainingJobTable,
  TuningJobTable,
} from '../store.ts';

/** Set by close(): like a closed database connection, a closed store refuses every call. */
interface Lifecycle {
  closed: boolean;
}

function assertOpen(lifecycle: Lifecycle): void {
  if (lifecycle.closed) throw new Error('The store is closed');
}

/**
 * Records in a Map. structuredClone on the way in and out keeps callers from
 * mutating stored records, and keeps NaN and -0 as the SQLite store does.
 */
class MemoryRecordTable<T extends object> {
  readonly #records = new Map<string, T>();
  readonly #kind: RecordKind;
  readonly #keyField: keyof T & string;
  readonly #lifecycle: Lifecycle;
  #writes = 0;

  constructor(kind: RecordKind, keyField: keyof T & string, lifecycle: Lifecycle) {
    this.#kind = kind;
    this.#keyField = keyField;
    this.#lifecycle = lifecycle;
  }

  create(record: T): void {
    assertOpen(this.#lifecycle);
    const key = recordKey(this.#kind, this.#keyField, record);
    if (this.#records.has(key)) throw alreadyExists(this.#kind, key);
    this.#records.set(key, structuredClone(withoutUndefined(record)));
    this.#writes++;
  }

  get(key: string): T | undefined {
    assertOpen(this.#lifecycle);
    const record = this.#records.get(key);
    return record === undefined ? undefined : structuredClone(record);
  }

  list(): T[] {
    return this.listMatching(() => true);
  }

  /** Records for which `matches` holds, ordered by key. */
  listMatching(matches: (record: T) => boolean): T[] {
    assertOpen(this.#lifecycle);
    return [...this.#records.entries()]
      .filter(([, record]) => matches(record))
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([, record]) => structuredClone(record));
  }

  modify(key: string, change: (existing: T) => T): T {
    assertOpen(this.#lifecycle);
    const existing = this.#records.get(key);
    if (existing === undefined) throw notFound(this.#kind, key);
    // The change works on a copy, so a change that throws half-way leaves the stored record as it was.
    const next = structuredClone(withoutUndefined(change(structuredClone(existing))));
    assertKeyKept(this.#kind, this.#keyField, key, next);
    this.#records.set(key, next);
    this.#writes++;
    return structuredClone(next);
  }

  update(key: string, patch: Partial<T>): T {
    return this.modify(key, (existing) => mergePatch(this.#kind, this.#keyField, existing, patch));
  }

  delete(key: string): boolean {
    assertOpen(this.#lifecycle);
    this.#writes++;
    return this.#records.delete(key);
  }

  revision(): string {
    assertOpen(this.#lifecycle);
    return String(this.#writes);
  }
}

class MemoryTrainingJobTable extends MemoryRecordTable<TrainingJob> implements TrainingJobTable {
  appendEpochs(name: string, metrics: readonly EpochMetrics[], atMs: number): TrainingJob {
    return this.modify(name, (job) => ({ ...job, epochs: [...job.epochs, ...metrics], lastModifiedAtMs: atMs }));
  }

  listByStatus(statuses: readonly TrainingJobStatus[]): TrainingJob[] {
    return this.listMatching((job) => statuses.includes(job.status));
  }
}

class MemoryTuningJobTable extends MemoryRecordTable<TuningJob> implements TuningJobTable {
  listByStatus(statuses: readonly TuningJobStatus[]): TuningJob[] {
    return this.listMatching((job) => statuses.includes(job.status));
  }
}

class MemoryScalingPolicyTable extends MemoryRecordTable<ScalingPolicy> implements ScalingPolicyTable {
  listForTarget(targetId: string): ScalingPolicy[] {
    return this.listMatching((policy) => policy.targetId === targetId);
  }
}

class MemoryScalingActivityTable extends MemoryRecordTable<ScalingActivity> implements ScalingActivityTable {
  listForTarget(targetId: string): ScalingActivity[] {
    return this.listMatching((activity) => activity.targetId === targetId).sort(compareActivitiesNewestFirst);
  }
}

class MemoryAccessKeyTable extends MemoryRecordTable<AccessKey> implements AccessKeyTable {
  listForUser(userName: string): AccessKey[] {
    return this.listMatching((key) => key.userName === userName);
  }
}

class MemoryFunctionChildTable<T extends { functionName: string }> extends MemoryRecordTable<T> implements FunctionChildTable<T> {
  listForFunction(functionName: string): T[] {
    return this.listMatching((record) => record.functionName === functionName);
  }
}

class MemoryAsyncEventTable extends MemoryRecordTable<AsyncEvent> implements AsyncEventTable {
  listByStatus(status: AsyncEventStatus): AsyncEvent[] {
    return this.listMatching((event) => event.status === status);
  }
}

class MemoryAuditLog implements AuditLog {
  #events: AuditEvent[] = [];
  readonly #lifecycle: Lifecycle;

  constructor(lifecycle: Lifecycle) {
    this.#lifecycle = lifecycle;
  }

  append(...events: AuditEvent[]): void {
    assertOpen(this.#lifecycle);
    const ids = new Set(this.#events.map((existing) => existing.eventId));
    const checked = events.map((event) => {
      if (ids.has(event.eventId)) throw alreadyExists(RECORD_KINDS.auditEvents, event.eventId);
      ids.add(event.eventId);
      return structuredClone(withoutUndefined(checkedAuditEvent(event)));
    });
    this.#events.push(...checked);
  }

  query(query: AuditQuery = {}): AuditEvent[] {
    assertOpen(this.#lifecycle);
    const { principalArn, principalArnPrefix, action, decision, fromMs, toMs, limit } = checkedAuditQuery(query);
    const matching = this.#events
      .filter(
        (event) =>
          (principalArn === undefined || event.principalArn === principalArn) &&
          (principalArnPrefix === undefined || event.principalArn.startsWith(principalArnPrefix)) &&
          (action === undefined || event.action === action) &&
          (decision === undefined || event.decision === decision) &&
          (fromMs === undefined || event.timeMs >= fromMs) &&
          (toMs === undefined || event.timeMs < toMs),
      )
      .sort(compareAuditEvents);
    return (limit === undefined ? matching : matching.slice(Math.max(0, matching.length - limit))).map((event) => structuredClone(event));
  }

  prune(beforeMs: number): number {
    assertOpen(this.#lifecycle);
    const before = this.#events.length;
    this.#events = this.#events.filter((event) => event.timeMs >= beforeMs);
    return before - this.#events.length;
  }
}

class MemoryEmbeddingCache implements EmbeddingCache {
  readonly #byKey = new Map<string, Map<string, Float32Array>>();
  readonly #lifecycle: Lifecycle;

  constructor(lifecycle: Lifecycle) {
    this.#lifecycle = lifecycle;
  }

  getMany(embeddingKey: string, imageDigests: readonly string[]): Map<string, Float32Array> {
    assertOpen(this.#lifecycle);
    const vectors = this.#byKey.get(embeddingKey);
    const found = new Map<string, Float32Array>();
    if (vectors === undefined) return found;
    for (const digest of imageDigests) {
      const vector = vectors.get(digest);
      // slice() copies bytes, not numbers, so NaN payloads survive.
      if (vector !== undefined) found.set(digest, vector.slice());
    }
    return found;
  }

  putMany(embeddingKey: string, entries: ReadonlyMap<string, Float32Array>): void {
    assertOpen(this.#lifecycle);
    let vectors = this.#byKey.get(embeddingKey);
    if (vectors === undefined) {
      vectors = new Map();
      this.#byKey.set(embeddingKey, vectors);
    }
    for (const [digest, vector] of entries) vectors.set(digest, vector.slice());
  }

  count(embeddingKey: string): number {
    assertOpen(this.#lifecycle);
    return this.#byKey.get(embeddingKey)?.size ?? 0;
  }
}

/** Objects by bucket, then key. Listing sorts on every call: fine for the small sets tests hold. */
class MemoryObjectTable implements ObjectTable {
  readonly #buckets = new Map<string, Map<string, StoredObject>>();
  readonly #lifecycle: Lifecycle;

  constructor(lifecycle: Lifecycle) {
    this.#lifecycle = lifecycle;
  }

  put(object: StoredObject): void {
    assertOpen(this.#lifecycle);
    const checked = checkedObject(object);
    let objects = this.#buckets.get(checked.bucket);
    if (objects === undefined) {
      objects = new Map();
      this.#buckets.set(checked.bucket, objects);
    }
    objects.set(checked.key, checked);
  }

  get(bucket: string, key: string): StoredObject | undefined {
    assertOpen(this.#lifecycle);
    const object = this.#buckets.get(bucket)?.get(key);
    return object === undefined ? undefined : { ...object };
  }

  list(bucket: string, prefix: string, options: { startAfter?: string; limit?: number } = {}): StoredObject[] {
    assertOpen(this.#lifecycle);
    const { startAfter, limit } = checkedListArguments(prefix, options);
    return [...(this.#buckets.get(bucket)?.values() ?? [])]
      .filter((object) => object.key.startsWith(prefix) && (startAfter === undefined || compareObjectKeys(object.key, startAfter) > 0))
      .sort((a, b) => compareObjectKeys(a.key, b.key))
      .slice(0, limit)
      .map((object) => ({ ...object }));
  }

  delete(bucket: string, key: string): boolean {
    assertOpen(this.#lifecycle);
    return this.#buckets.get(bucket)?.delete(key) ?? false;
  }
}

/** A Store that lives and dies with the process: for tests and throwaway runs. */
export function createMemoryStore(): Store {
  const lifecycle: Lifecycle = { closed: false };
  const resourceTable = <T extends { name: string }>(kind: keyof typeof RECORD_KINDS) =>
    new MemoryRecordTable<T>(RECORD_KINDS[kind], 'name', lifecycle);

  return {
    datasets: resourceTable<Dataset>('datasets'),
    trainingJobs: new MemoryTrainingJobTable(RECORD_KINDS.trainingJobs, 'name', lifecycle),
    models: resourceTable<Model>('models'),
    endpointConfigs: resourceTable<EndpointConfig>('endpointConfigs'),
    endpoints: resourceTable<Endpoint>('endpoints'),
    tuningJobs: new MemoryTuningJobTable(RECORD_KINDS.tuningJobs, 'name', lifecycle),
    embeddings: new MemoryEmbeddingCache(lifecycle),
    accessKeys: new MemoryAccessKeyTable(RECORD_KINDS.accessKeys, 'accessKeyId', lifecycle),
    objects: new MemoryObjectTable(lifecycle),
    scalableTargets: new MemoryRecordTable<RegisteredScalableTarget>(RECORD_KINDS.scalableTargets, 'id', lifecycle),
    scalingPolicies: new MemoryScalingPolicyTable(RECORD_KINDS.scalingPolicies, 'policyArn', lifecycle),
    scalingActivities: new MemoryScalingActivityTable(RECORD_KINDS.scalingActivities, 'activityId', lifecycle),
    iamUsers: new MemoryRecordTable<IamUser>(RECORD_KINDS.iamUsers, 'userName', lifecycle),
    iamGroups: new MemoryRecordTable<IamGroup>(RECORD_KINDS.iamGroups, 'groupName', lifecycle),
    iamRoles: new MemoryRecordTable<IamRole>(RECORD_KINDS.iamRoles, 'roleName', lifecycle),
    iamPolicies: new MemoryRecordTable<ManagedPolicyRecord>(RECORD_KINDS.iamPolicies, 'arn', lifecycle),
    stsSessions: new MemoryRecordTable<StsSession>(RECORD_KINDS.stsSessions, 'accessKeyId', lifecycle),
    auditEvents: new MemoryAuditLog(lifecycle),
    lambdaFunctions: new MemoryRecordTable<LambdaFunction>(RECORD_KINDS.lambdaFunctions, 'name', lifecycle),
    functionVersions: new MemoryFunctionChildTable<FunctionVersion>(RECORD_KINDS.functionVersions, 'key', lifecycle),
    functionAliases: new MemoryFunctionChildTable<FunctionAlias>(RECORD_KINDS.functionAliases, 'key', lifecycle),
    asyncEvents: new MemoryAsyncEventTable(RECORD_KINDS.asyncEvents, 'requestId', lifecycle),
    close: () => {
      lifecycle.closed = true;
    },
  };
}
