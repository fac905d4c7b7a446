import type { Dataset } from '../domain/data/dataset.ts';
import type { EpochMetrics, TrainingJob, TrainingJobStatus } from '../domain/training/training-job.ts';
import type { Endpoint, EndpointConfig, Model } from '../domain/serving/endpoint.ts';
import type { TuningJob, TuningJobStatus } from '../domain/tuning/tuning-job.ts';
import type { RegisteredScalableTarget, ScalingActivity, ScalingPolicy } from '../domain/serving/scaling.ts';
import type { AsyncEvent, AsyncEventStatus, FunctionAlias, FunctionVersion, LambdaFunction } from '../domain/functions/function.ts';
import type { AccessKey, AuditDecision, AuditEvent, IamGroup, IamRole, IamUser, ManagedPolicyRecord, StsSession } from '../domain/iam/entities.ts';

export type { AccessKey } from '../domain/iam/entities.ts';

/**
 * Metadata storage. Every implementation passes the contract suite in
 * src/testing/store-contract.ts. Records are plain values: callers get copies,
 * never live references into the store.
 *
 * `create*` throws DomainError('AlreadyExists') when the name is taken;
 * `get*` returns undefined when missing; `update*` throws DomainError('NotFound').
 */
export interface Store {
  datasets: ResourceTable<Dataset>;
  trainingJobs: TrainingJobTable;
  models: ResourceTable<Model>;
  endpointConfigs: ResourceTable<EndpointConfig>;
  endpoints: ResourceTable<Endpoint>;
  tuningJobs: TuningJobTable;
  embeddings: EmbeddingCache;
  accessKeys: AccessKeyTable;
  objects: ObjectTable;
  scalableTargets: KeyedTable<RegisteredScalableTarget>;
  scalingPolicies: ScalingPolicyTable;
  scalingActivities: ScalingActivityTable;
  iamUsers: KeyedTable<IamUser>;
  iamGroups: KeyedTable<IamGroup>;
  iamRoles: KeyedTable<IamRole>;
  /** Customer managed policies by ARN. */
  iamPolicies: KeyedTable<ManagedPolicyRecord>;
  /** Temporary credentials by access key id. */
  stsSessions: KeyedTable<StsSession>;
  auditEvents: AuditLog;
  lambdaFunctions: KeyedTable<LambdaFunction>;
  /** Published versions by `<function>:<version>`. */
  functionVersions: FunctionChildTable<FunctionVersion>;
  /** Aliases by `<function>:<alias>`. */
  functionAliases: FunctionChildTable<FunctionAlias>;
  /** Event invocations by request id: queued until handled, and the ones that failed every attempt. */
  asyncEvents: AsyncEventTable;
  close(): void;
}

/** Records keyed by one string field (a name, an id, an ARN); `list` orders them by it. */
export interface KeyedTable<T> {
  create(record: T): void;
  get(key: string): T | undefined;
  list(): T[];
  /** Replaces the record with `patch` merged over it and returns the result. */
  update(key: string, patch: Partial<T>): T;
  /** Replaces the record with `change(existing)`, read and written as one atomic step, and returns the result. */
  modify(key: string, change: (existing: T) => T): T;
  delete(key: string): boolean;
  /**
   * A token that changes whenever the table may have changed, through this store or another
   * connection to the same file, and that reads leave as it was: for what is computed from
   * many records and recomputed only when they change.
   */
  revision(): string;
}

export type ResourceTable<T extends { name: string }> = KeyedTable<T>;

/** Scaling policies by PolicyARN. */
export interface ScalingPolicyTable extends KeyedTable<ScalingPolicy> {
  /** The policies of one scalable target (by its id), ordered by ARN. */
  listForTarget(targetId: string): ScalingPolicy[];
}

/** Scaling activities by ActivityId. */
export interface ScalingActivityTable extends KeyedTable<ScalingActivity> {
  /** The activities of one scalable target (by its id), newest first. */
  listForTarget(targetId: string): ScalingActivity[];
}

/** Records that belong to one Lambda function (versions, aliases). */
export interface FunctionChildTable<T extends { functionName: string }> extends KeyedTable<T> {
  /** The function's records, ordered by key. */
  listForFunction(functionName: string): T[];
}

export interface AsyncEventTable extends KeyedTable<AsyncEvent> {
  /** Events with that status, ordered by request id. */
  listByStatus(status: AsyncEventStatus): AsyncEvent[];
}

export interface TrainingJobTable extends ResourceTable<TrainingJob> {
  /** Appends epochs' metrics atomically, in order (the record's `epochs` grows by as many), and makes `atMs` its last modification. */
  appendEpochs(name: string, metrics: readonly EpochMetrics[], atMs: number): TrainingJob;
  /** Jobs whose status is one of `statuses`, by name: how a restarted controller finds unfinished work. */
  listByStatus(statuses: readonly TrainingJobStatus[]): TrainingJob[];
}

export interface TuningJobTable extends ResourceTable<TuningJob> {
  /** Jobs whose status is one of `statuses`, by name: how a restarted controller finds unfinished tuning. */
  listByStatus(statuses: readonly TuningJobStatus[]): TuningJob[];
}

/**
 * Backbone embeddings keyed by (image content digest, embedding key), where the
 * embedding key names the backbone digest and preprocessing. A stored vector is
 * returned exactly as written.
 */
export interface EmbeddingCache {
  getMany(embeddingKey: string, imageDigests: readonly string[]): Map<string, Float32Array>;
  putMany(embeddingKey: string, entries: ReadonlyMap<string, Float32Array>): void;
  count(embeddingKey: string): number;
}

export interface AccessKeyTable extends KeyedTable<AccessKey> {
  /** The user's keys, ordered by access key id. */
  listForUser(userName: string): AccessKey[];
}

export interface AuditQuery {
  principalArn?: string;
  /** Callers whose ARN starts with this: a role's sessions are `arn:aws:sts::…:assumed-role/<role>/`. */
  principalArnPrefix?: string;
  action?: string;
  decision?: AuditDecision;
  /** Events at or after this time. */
  fromMs?: number;
  /** Events before this time. */
  toMs?: number;
  /** The newest `limit` events that match (all when omitted). */
  limit?: number;
}

/** The audit trail: append-only, read oldest first. */
export interface AuditLog {
  /** Appends the events all together or, when one is refused, none of them. */
  append(...events: AuditEvent[]): void;
  /** Matching events ordered by time (then by id), oldest first. */
  query(query?: AuditQuery): AuditEvent[];
  /** Deletes events older than `beforeMs`, returning how many went. */
  prune(beforeMs: number): number;
}

/** An object in Kennel's object store: its metadata; the bytes are the artifact named by `digest`. */
export interface StoredObject {
  bucket: string;
  key: string;
  /** SHA-256 of the content, 64 lowercase hex digits. */
  digest: string;
  sizeBytes: number;
  lastModifiedMs: number;
  contentType?: string;
}

/**
 * Object metadata by (bucket, key). Keys order as S3 lists them: by their
 * UTF-8 bytes, which is Unicode code point order. `put` throws
 * DomainError('ValidationError') for a malformed object and stores nothing.
 */
export interface ObjectTable {
  /** Inserts or replaces the object at (bucket, key). */
  put(object: StoredObject): void;
  get(bucket: string, key: string): StoredObject | undefined;
  /** Objects whose key starts with `prefix`, ordered by key (binary), after `startAfter` when given, at most `limit`. */
  list(bucket: string, prefix: string, options?: { startAfter?: string; limit?: number }): StoredObject[];
  delete(bucket: string, key: string): boolean;
}
