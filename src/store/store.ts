import type { Dataset } from '../domain/data/dataset.ts';
import type { EpochMetrics, TrainingJob, TrainingJobStatus } from '../domain/training/training-job.ts';
import type { Endpoint, EndpointConfig, Model } from '../domain/serving/endpoint.ts';

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
  embeddings: EmbeddingCache;
  accessKeys: AccessKeyTable;
  close(): void;
}

export interface ResourceTable<T extends { name: string }> {
  create(record: T): void;
  get(name: string): T | undefined;
  list(): T[];
  /** Replaces the record with `patch` merged over it and returns the result. */
  update(name: string, patch: Partial<T>): T;
  delete(name: string): boolean;
}

export interface TrainingJobTable extends ResourceTable<TrainingJob> {
  /** Appends one epoch's metrics atomically (the record's `epochs` grows by one). */
  appendEpoch(name: string, metrics: EpochMetrics): TrainingJob;
  /** Jobs whose status is one of `statuses`, by name: how a restarted controller finds unfinished work. */
  listByStatus(statuses: readonly TrainingJobStatus[]): TrainingJob[];
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

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  createdAtMs: number;
}

export interface AccessKeyTable {
  create(key: AccessKey): void;
  get(accessKeyId: string): AccessKey | undefined;
  listForUser(userName: string): AccessKey[];
}
